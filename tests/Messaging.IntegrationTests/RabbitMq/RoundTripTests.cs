using System.Text;
using Messaging.IntegrationTests.Broker;
using Messaging.Tests.Support;
using RabbitMQ.Client;
using Xunit;

namespace Messaging.IntegrationTests.RabbitMq;

[Collection(BrokerCollection.Name)]
public sealed class RoundTripTests(BrokerFixture fixture) : IDisposable
{
    private readonly ExportedSpans _capture = new();

    public void Dispose() => _capture.Dispose();

    [Theory]
    [InlineData(ParentingMode.Child)]
    [InlineData(ParentingMode.Link)]
    public async Task Thousand_messages_prefetch_50_concurrency_8_keep_their_own_trace_and_baggage(ParentingMode mode)
    {
        const int count = 1000;
        var queue = TestData.NewQueue();
        var probe = new Probe();
        await using var connection = await fixture.ConnectAsync();
        await using var channel = await RabbitHosts.ConfirmingChannelAsync(connection, queue);
        using var host = RabbitHosts.Build(fixture, probe, o =>
        {
            o.Queue = queue;
            o.PrefetchCount = 50;
            o.MaxConcurrency = 8;
            o.Parenting = mode;
        });

        await host.StartAsync();
        await RabbitHosts.PublishTracedAsync(channel, queue, count);
        await probe.WaitForAsync(count, TimeSpan.FromSeconds(120));
        await host.StopAsync();

        var observations = probe.Observations.ToList();
        Assert.Equal(count, observations.Select(o => o.Index).Distinct().Count());
        var traceMismatches = observations.Count(o => !ContinuesOwnTrace(o, mode));
        var baggageMismatches = observations.Count(o => !SameBaggage(o));
        Assert.Equal(0, traceMismatches);
        Assert.Equal(0, baggageMismatches);
    }

    [Fact]
    public async Task Traceparent_published_raw_as_bytes_or_as_string_is_continued()
    {
        var queue = TestData.NewQueue();
        var probe = new Probe();
        await using var connection = await fixture.ConnectAsync();
        await using var channel = await RabbitHosts.ConfirmingChannelAsync(connection, queue);
        const string asBytes = "00-11111111111111111111111111111111-2222222222222222-01";
        const string asString = "00-33333333333333333333333333333333-4444444444444444-01";
        await PublishRawAsync(channel, queue, 0, Encoding.UTF8.GetBytes(asBytes));
        await PublishRawAsync(channel, queue, 1, asString);
        await PublishRawAsync(channel, queue, 2, new BinaryTableValue(Encoding.UTF8.GetBytes(asBytes.Replace('1', '5'))));

        using var host = RabbitHosts.Build(fixture, probe, o => o.Queue = queue);
        await host.StartAsync();
        await probe.WaitForAsync(3);
        await host.StopAsync();

        var byIndex = probe.Observations.ToDictionary(o => o.Index);
        Assert.Equal("11111111111111111111111111111111", byIndex[0].TraceId);
        Assert.Equal("2222222222222222", byIndex[0].ParentSpanId);
        Assert.Equal("33333333333333333333333333333333", byIndex[1].TraceId);
        Assert.Equal("4444444444444444", byIndex[1].ParentSpanId);
        Assert.Equal("55555555555555555555555555555555", byIndex[2].TraceId);
    }

    [Fact]
    public async Task Missing_garbage_and_oversized_context_are_all_handled_and_the_consumer_survives()
    {
        var queue = TestData.NewQueue();
        var probe = new Probe();
        await using var connection = await fixture.ConnectAsync();
        await using var channel = await RabbitHosts.ConfirmingChannelAsync(connection, queue);

        await channel.BasicPublishAsync(string.Empty, queue, mandatory: false, new BasicProperties(), Body(0));
        var garbage = new BasicProperties
        {
            Headers = new Dictionary<string, object?>
            {
                ["traceparent"] = "00-zz-not-a-trace-context",
                ["tracestate"] = new byte[] { 0xff, 0xfe, 0x00 },
                ["baggage"] = 42,
                ["b3"] = new List<object> { "x" },
                ["X-B3-TraceId"] = 3.14,
            },
        };
        await channel.BasicPublishAsync(string.Empty, queue, mandatory: false, garbage, Body(1));
        var huge = string.Join(',', Enumerable.Range(0, 10_000).Select(i => $"k{i}=v{i}"));
        Assert.True(huge.Length > 100_000);
        var oversized = new BasicProperties { Headers = new Dictionary<string, object?> { ["baggage"] = huge } };
        await channel.BasicPublishAsync(string.Empty, queue, mandatory: false, oversized, Body(2));
        await RabbitHosts.PublishTracedAsync(channel, queue, 1, first: 3);

        using var host = RabbitHosts.Build(fixture, probe, o => o.Queue = queue);
        await host.StartAsync();
        await probe.WaitForAsync(4);
        await host.StopAsync();

        var byIndex = probe.Observations.ToDictionary(o => o.Index);
        Assert.Null(byIndex[0].ParentSpanId);
        Assert.Null(byIndex[1].ParentSpanId);
        Assert.Empty(byIndex[1].Baggage);
        Assert.Empty(byIndex[1].Links);
        Assert.Equal(BaggagePolicy.DefaultMaxMembers, byIndex[2].Baggage.Count);
        Assert.True(ContinuesOwnTrace(byIndex[3], ParentingMode.Child));
        Assert.True(SameBaggage(byIndex[3]));
    }

    internal static bool ContinuesOwnTrace(Observation o, ParentingMode mode)
    {
        var parts = o.HeaderTraceParent?.Split('-');
        if (parts is null || parts[1] != o.BodyTraceId)
        {
            return false;
        }

        // Both modes link to the creation context; Child mode also has it as the parent.
        var linked = o.Links.Count == 1 && o.Links[0].Context.TraceId.ToHexString() == o.BodyTraceId && o.Links[0].Context.SpanId.ToHexString() == parts[2];
        return linked && (mode == ParentingMode.Child
            ? o.TraceId == o.BodyTraceId && o.ParentSpanId == parts[2]
            : o.TraceId != o.BodyTraceId && o.ParentSpanId is null);
    }

    internal static bool SameBaggage(Observation o)
    {
        var expected = TestData.BaggageFor(o.Index);
        return o.Baggage.Count == expected.Count && expected.All(e => o.Baggage.TryGetValue(e.Key, out var v) && v == e.Value);
    }

    private static ReadOnlyMemory<byte> Body(int index) => JsonMessageSerializer.Default.Serialize(new Order(index, string.Empty, []));

    private static async Task PublishRawAsync(IChannel channel, string queue, int index, object traceparent)
    {
        var properties = new BasicProperties { Headers = new Dictionary<string, object?> { ["traceparent"] = traceparent } };
        await channel.BasicPublishAsync(string.Empty, queue, mandatory: false, properties, Body(index));
    }
}

using System.Diagnostics;
using Messaging.IntegrationTests.Broker;
using Messaging.Tests.Support;
using Messaging.Transports.RabbitMq;
using OpenTelemetry;
using RabbitMQ.Client;
using Xunit;

namespace Messaging.IntegrationTests.RabbitMq;

/// <summary>
/// The publish helper with nothing listening to the library: a message with nothing to carry goes out as the bare
/// client would send it, stale propagation headers are still removed, and ambient context is still carried.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class QuietPublishTests(BrokerFixture fixture)
{
    [Fact]
    public async Task Without_a_listener_only_the_context_there_is_goes_out_and_stale_headers_never_do()
    {
        // Tests of this collection run one at a time; this class starts no listener of its own.
        using (var probe = new ActivitySource(MessagingTelemetry.ActivitySourceName))
        {
            Assert.False(probe.HasListeners());
        }

        Assert.Null(Activity.Current);
        var queue = TestData.NewQueue();
        await using var connection = await fixture.ConnectAsync();
        await using var channel = await RabbitHosts.ConfirmingChannelAsync(connection, queue);

        // Nothing to carry: sent as it is, with a message id and no propagation header.
        var bare = new BasicProperties();
        await channel.PublishWithContextAsync(string.Empty, queue, "a"u8.ToArray(), bare);
        Assert.NotNull(bare.MessageId);
        var received = await GetAsync(channel, queue);
        Assert.Equal(bare.MessageId, received.BasicProperties.MessageId);
        Assert.Null(Text(received, "traceparent"));
        Assert.Null(Text(received, "baggage"));

        // The caller's headers take the full path: a stale traceparent (a forwarded message) is removed, the rest kept.
        var forwarded = new BasicProperties
        {
            Headers = new Dictionary<string, object?>
            {
                ["traceparent"] = "00-11111111111111111111111111111111-2222222222222222-01",
                ["tenant-region"] = "eu",
            },
        };
        await channel.PublishWithContextAsync(string.Empty, queue, "b"u8.ToArray(), forwarded);
        received = await GetAsync(channel, queue);
        Assert.Null(Text(received, "traceparent"));
        Assert.Equal("eu", Text(received, "tenant-region"));

        // Ambient context — a span nothing records and baggage — is carried.
        var previousBaggage = Baggage.Current;
        using var ambient = new Activity("upstream").Start();
        try
        {
            Baggage.Current = Baggage.Create(new Dictionary<string, string> { ["tenant"] = "t-1" });
            await channel.PublishWithContextAsync(string.Empty, queue, "c"u8.ToArray(), new BasicProperties());
        }
        finally
        {
            Baggage.Current = previousBaggage;
        }

        received = await GetAsync(channel, queue);
        Assert.Equal($"00-{ambient.TraceId.ToHexString()}-{ambient.SpanId.ToHexString()}-00", Text(received, "traceparent"));
        Assert.Equal("tenant=t-1", Text(received, "baggage"));
    }

    private static async Task<BasicGetResult> GetAsync(IChannel channel, string queue)
    {
        // Publishes were confirmed, so the message is in the queue.
        var result = await RabbitHosts.GetAsync(channel, queue);
        Assert.NotNull(result);
        return result;
    }

    private static string? Text(BasicGetResult received, string name) =>
        received.BasicProperties.Headers is { } headers && headers.TryGetValue(name, out var value) ? RabbitMqHeaders.ToText(value) : null;
}

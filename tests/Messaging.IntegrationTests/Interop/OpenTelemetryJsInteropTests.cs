using System.Diagnostics;
using Messaging.IntegrationTests.Broker;
using Messaging.IntegrationTests.RabbitMq;
using Messaging.Propagation;
using Messaging.Tests.Support;
using OpenTelemetry;
using RabbitMQ.Client;
using Xunit;

namespace Messaging.IntegrationTests.Interop;

/// <summary>
/// Interop with a real OpenTelemetry peer in another language: OpenTelemetry JS (its W3C and B3 propagators, amqplib)
/// on the same broker, in both directions. The JS peer writes header values as Buffers, which arrive as AMQP byte
/// arrays, and writes B3 in lower case (<c>x-b3-traceid</c>, <c>x-b3-spanid</c>, <c>x-b3-sampled</c>).
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class OpenTelemetryJsInteropTests(BrokerFixture fixture) : IDisposable
{
    /// <summary>Members whose values need percent-encoding, or look like baggage syntax, or are not ASCII.</summary>
    private static readonly Dictionary<string, string> TrickyBaggage = new()
    {
        ["tenant.id"] = "acme corp",
        ["ratio"] = "100%",
        ["expr"] = "a+b=c",
        ["list"] = "x,y;z",
        ["quote"] = "\"quoted\" & 'single'",
        ["path"] = "/orders?id=1#top",
        ["unicode"] = "café ☕ 東京",
    };

    private readonly ExportedSpans _capture = new();

    public void Dispose() => _capture.Dispose();

    [Theory]
    [InlineData("w3c")]
    [InlineData("b3multi")]
    public async Task Messages_published_by_OpenTelemetry_JS_are_continued_by_the_worker(string format)
    {
        var queue = TestData.NewQueue();
        JsMessage[] sent =
        [
            new(0, "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", Sampled: true, TrickyBaggage),
            new(1, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", Sampled: true, new Dictionary<string, string> { ["k"] = "v" }),
            new(2, "5b8aa5a2d2c872e8321cf37308d69df2", "051581bf3cb55c13", Sampled: false, new Dictionary<string, string> { ["unsampled"] = "still propagated" }),
        ];

        var published = await JsPeer.PublishAsync(fixture.Broker.Uri, queue, format, sent);

        // What OpenTelemetry JS wrote: its own header names, every value a byte array.
        Assert.Equal(sent.Length, published.Count);
        var expectedNames = format == "w3c" ? new[] { "baggage", "traceparent" } : ["baggage", "x-b3-sampled", "x-b3-spanid", "x-b3-traceid"];
        foreach (var report in published)
        {
            var headers = report.GetProperty("headers").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
            Assert.Equal(expectedNames, headers.Keys.Order(StringComparer.Ordinal));
            Assert.All(headers.Values, type => Assert.Equal("bytes", type));
        }

        var probe = new Probe();
        using var host = RabbitHosts.Build(
            fixture,
            probe,
            o => o.Queue = queue,
            m => m.Propagator = MessagingPropagators.Parse(format == "w3c" ? "tracecontext,baggage" : "b3multi,baggage"));
        await host.StartAsync();
        await probe.WaitForAsync(sent.Length);
        await host.StopAsync();

        var byIndex = probe.Observations.ToDictionary(o => o.Index);
        foreach (var message in sent)
        {
            var seen = byIndex[message.Index];
            Assert.Equal(message.TraceId, seen.TraceId);
            Assert.Equal(message.SpanId, seen.ParentSpanId);
            Assert.Equal(message.TraceId, seen.BodyTraceId);
            Assert.Equal(message.Baggage.OrderBy(e => e.Key, StringComparer.Ordinal), seen.Baggage.OrderBy(e => e.Key, StringComparer.Ordinal));

            // Child mode also links the producer context: the sampled flag as the JS peer sent it.
            var link = Assert.Single(seen.Links);
            Assert.Equal(message.TraceId, link.Context.TraceId.ToHexString());
            Assert.Equal(message.SpanId, link.Context.SpanId.ToHexString());
            Assert.Equal(message.Sampled, link.Context.TraceFlags.HasFlag(ActivityTraceFlags.Recorded));
            Assert.True(link.Context.IsRemote);
        }
    }

    [Theory]
    [InlineData("w3c")]
    [InlineData("b3multi")]
    public async Task Messages_published_by_the_library_are_extracted_by_OpenTelemetry_JS(string format)
    {
        var queue = TestData.NewQueue();
        var engine = new MessagingInstrumentation(new MessagingOptions
        {
            Propagator = MessagingPropagators.Parse(format == "w3c" ? "tracecontext,baggage" : "b3multi,baggage"),
        });
        await using var connection = await fixture.ConnectAsync();
        await using var channel = await RabbitHosts.ConfirmingChannelAsync(connection, queue);

        var expected = new List<(string MessageId, string TraceId, string SpanId, Dictionary<string, string> Baggage)>();
        var baggages = new[] { TrickyBaggage, new Dictionary<string, string> { ["k"] = "v" } };
        await Task.Run(async () =>
        {
            foreach (var baggage in baggages)
            {
                Baggage.Current = Baggage.Create(baggage);
                using var root = TestData.Source.StartActivity("root", ActivityKind.Internal, parentContext: default)!;
                var properties = new BasicProperties();
                await channel.PublishWithContextAsync(string.Empty, queue, new byte[] { 1, 2, 3 }, properties, instrumentation: engine);
                var producer = _capture.Exported.Last(a => a.Kind == ActivityKind.Producer && a.TraceId == root.TraceId);
                expected.Add((properties.MessageId!, root.TraceId.ToHexString(), producer.SpanId.ToHexString(), baggage));
                Baggage.Current = default;
            }
        });

        var received = await JsPeer.ConsumeAsync(fixture.Broker.Uri, queue, format, expected.Count);

        Assert.Equal(expected.Count, received.Count);
        var byId = received.ToDictionary(r => r.GetProperty("messageId").GetString()!);
        foreach (var message in expected)
        {
            var report = byId[message.MessageId];
            var extracted = report.GetProperty("extracted");
            Assert.Equal(message.TraceId, extracted.GetProperty("traceId").GetString());
            Assert.Equal(message.SpanId, extracted.GetProperty("spanId").GetString());
            Assert.True(extracted.GetProperty("sampled").GetBoolean());
            var baggage = extracted.GetProperty("baggage").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            Assert.Equal(message.Baggage.OrderBy(e => e.Key, StringComparer.Ordinal), baggage.OrderBy(e => e.Key, StringComparer.Ordinal));

            // Header names as the library writes them (DESIGN §3: canonical case); values arrive in JS as strings.
            var headers = report.GetProperty("headers").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
            var names = format == "w3c" ? new[] { "traceparent", "baggage" } : ["X-B3-TraceId", "X-B3-SpanId", "X-B3-Sampled", "baggage"];
            Assert.All(names, name => Assert.Equal("string", headers.GetValueOrDefault(name)));
            if (format == "w3c")
            {
                // W3C names are lower case, so OpenTelemetry JS's default getter (exact key) finds them as well.
                Assert.Equal(message.TraceId, report.GetProperty("exactKeys").GetProperty("traceId").GetString());
            }
        }
    }

}

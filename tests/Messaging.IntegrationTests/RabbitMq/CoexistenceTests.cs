using System.Diagnostics;
using Messaging.IntegrationTests.Broker;
using Messaging.Tests.Support;
using Messaging.Transports.RabbitMq;
using Xunit;

namespace Messaging.IntegrationTests.RabbitMq;

/// <summary>
/// RabbitMQ.Client has its own instrumentation (activity sources <c>RabbitMQ.Client.Publisher</c> and
/// <c>RabbitMQ.Client.Subscriber</c>); with or without a listener on them there must be one trace per message,
/// our traceparent must arrive intact, and the message must have exactly one CONSUMER span in its trace.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class CoexistenceTests(BrokerFixture fixture) : IDisposable
{
    private readonly ExportedSpans _capture = new();

    public void Dispose() => _capture.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Client_instrumentation_does_not_overwrite_our_context_or_duplicate_consumer_spans(bool clientListener)
    {
        using var clientSpans = clientListener ? ClientSpans() : null;
        const int count = 20;
        var queue = TestData.NewQueue();
        var probe = new Probe();
        await using var connection = await fixture.ConnectAsync();
        await using var channel = await RabbitHosts.ConfirmingChannelAsync(connection, queue);
        using var host = RabbitHosts.Build(fixture, probe, o => o.Queue = queue);
        await host.StartAsync();
        await RabbitHosts.PublishTracedAsync(channel, queue, count);
        await probe.WaitForAsync(count);
        await host.StopAsync();

        var spans = _capture.Exported.ToList();
        foreach (var o in probe.Observations)
        {
            Assert.True(RoundTripTests.ContinuesOwnTrace(o, ParentingMode.Child));

            // The received traceparent is our PRODUCER span, not the client's publish span.
            var sentSpanId = o.HeaderTraceParent!.Split('-')[2];
            var producer = Assert.Single(spans, a => a.SpanId.ToHexString() == sentSpanId);
            Assert.Equal(MessagingTelemetry.ActivitySourceName, producer.Source.Name);
            Assert.Equal(ActivityKind.Producer, producer.Kind);

            // Exactly one consumer span of this message in its trace.
            var consumers = spans.Where(a => a.Kind == ActivityKind.Consumer && a.TraceId.ToHexString() == o.BodyTraceId).ToList();
            Assert.Single(consumers);
            if (clientSpans is not null)
            {
                Assert.DoesNotContain(clientSpans.Exported, a => a.Kind == ActivityKind.Consumer && a.TraceId.ToHexString() == o.BodyTraceId);
            }
        }

        if (clientSpans is not null)
        {
            // The client's spans were really produced (the listener was live), nested under ours on the publish side.
            Assert.Contains(clientSpans.Exported, a => a.Kind == ActivityKind.Producer && a.Parent?.Source.Name == MessagingTelemetry.ActivitySourceName);
        }
    }

    [Fact]
    public void Our_headers_are_guarded_exactly_while_the_client_publisher_source_has_listeners()
    {
        // Tests of this collection run one at a time, and no other test listens to RabbitMQ.Client's sources.
        Assert.False(ClientPublisherSource.MayInject);
        using (ClientSpans())
        {
            Assert.True(ClientPublisherSource.MayInject);
        }

        Assert.False(ClientPublisherSource.MayInject);
    }

    /// <summary>A tracer provider that also listens to RabbitMQ.Client's sources; exports only their spans.</summary>
    private static ExportedSpans ClientSpans() =>
        new(static a => a.Source.Name.StartsWith("RabbitMQ.Client", StringComparison.Ordinal), static b => b.AddSource("RabbitMQ.Client.*"));
}

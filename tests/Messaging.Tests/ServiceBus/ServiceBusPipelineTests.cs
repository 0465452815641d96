using System.Collections.Concurrent;
using System.Diagnostics;
using Messaging.Transports.InMemory;
using Messaging.Transports.ServiceBus;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using Xunit;
using static Messaging.Tests.ServiceBus.ServiceBusTestData;

namespace Messaging.Tests.ServiceBus;

public sealed record ServiceBusOrder(string Id);

/// <summary>
/// The whole path with the in-memory broker standing in for Service Bus: publish with application-properties-shaped
/// dictionaries → carry → <see cref="ServiceBusDelivery"/> → the core <see cref="ConsumerWorker{TMessage}"/> pipeline →
/// extract → parent → handler → settle through the complete / abandon / dead-letter delegates.
/// </summary>
public sealed class ServiceBusPipelineTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly SpanCollector _spans = new();
    private readonly ServiceBusStandIn _bus = new();

    public void Dispose() => _spans.Dispose();

    [Fact]
    public async Task A_sent_message_is_processed_as_a_child_with_its_baggage_and_completed()
    {
        var topic = NewEntity("topic");
        var subscription = topic + "/Subscriptions/audit";
        await Task.Run(async () =>
        {
            using var ambient = new CleanAmbient();
            Baggage.Current = Baggage.Create(new Dictionary<string, string> { ["tenant"] = "t1" });
            await _bus.SendAsync(W3C, topic, Body("b"), Properties(("app", 7)), "m-2", deliverTo: subscription);

            // Sent by another client, with no trace properties, while this producer's baggage is current.
            await _bus.SendRawAsync(subscription, Body("a"), Properties(), "m-bare");
        });
        var sendSpan = Assert.Single(_spans.For(topic));
        Assert.Equal(ActivityKind.Producer, sendSpan.Kind);

        var seen = await RunWorkerAsync(subscription, expected: 2, new W3CWorkerOptions());

        var b = Assert.Single(seen, o => o.MessageId == "m-2");
        Assert.Equal(sendSpan.TraceId.ToHexString(), b.TraceId);
        Assert.Equal(sendSpan.SpanId.ToHexString(), b.ParentSpanId);
        Assert.Equal(new Dictionary<string, string> { ["tenant"] = "t1" }, b.Baggage);
        Assert.Equal(topic, b.Destination);
        Assert.Equal("audit", b.Subscription);
        Assert.False(b.Redelivered);
        Assert.Equal(1, b.DeliveryCount);
        Assert.Equal(7, _bus.Received["m-2"]["app"]); // typed values arrive typed

        var a = Assert.Single(seen, o => o.MessageId == "m-bare");
        Assert.NotEqual(sendSpan.TraceId.ToHexString(), a.TraceId); // nothing was sent with it: a new root, no baggage
        Assert.Null(a.ParentSpanId);
        Assert.Empty(a.Baggage);

        Assert.Equal(2, _bus.Completed);
        Assert.Equal(0, _bus.Broker.GetReadyCount(subscription) + _bus.Broker.GetUnackedCount(subscription));
        var consumer = Assert.Single(_spans.For(topic), s => s.Kind == ActivityKind.Consumer && s.ParentSpanId == sendSpan.SpanId);
        Assert.Equal("servicebus", consumer.GetTagItem("messaging.system"));
        Assert.Equal("audit", consumer.GetTagItem("messaging.destination.subscription.name"));
        Assert.Equal("m-2", consumer.GetTagItem("messaging.message.id"));
        Assert.Equal(1, consumer.GetTagItem("messaging.message.delivery_count"));
    }

    [Fact]
    public async Task A_legacy_producer_with_only_Diagnostic_Id_and_Correlation_Context_is_continued()
    {
        var queue = NewEntity();
        await _bus.SendRawAsync(queue, Body("legacy"), Properties(("Diagnostic-Id", TraceParentB), ("Correlation-Context", "tenant=legacy")), "m-legacy");

        var seen = Assert.Single(await RunWorkerAsync(queue, expected: 1, new W3CWorkerOptions()));

        Assert.Equal(TraceIdB, seen.TraceId);
        Assert.Equal(SpanIdB, seen.ParentSpanId);
        Assert.Equal(new Dictionary<string, string> { ["tenant"] = "legacy" }, seen.Baggage);
        Assert.Equal(1, _bus.Completed);
    }

    [Fact]
    public async Task Non_string_trace_properties_are_ignored_and_the_message_is_still_processed()
    {
        var queue = NewEntity();
        await _bus.SendRawAsync(queue, Body("typed"), Properties(
            ("traceparent", System.Text.Encoding.UTF8.GetBytes(TraceParentA)),
            ("Diagnostic-Id", 42),
            ("baggage", Guid.NewGuid()),
            ("Correlation-Context", null)), "m-typed");

        var seen = Assert.Single(await RunWorkerAsync(queue, expected: 1, new W3CWorkerOptions()));

        Assert.NotEqual(TraceIdA, seen.TraceId);
        Assert.Null(seen.ParentSpanId);
        Assert.Empty(seen.Links);
        Assert.Empty(seen.Baggage);
        Assert.Equal(1, _bus.Completed);
        Assert.IsType<byte[]>(_bus.Received["m-typed"]["traceparent"]);
    }

    [Fact]
    public async Task An_abandoned_message_is_redelivered_and_a_redelivery_policy_links_it()
    {
        var queue = NewEntity();
        string producerTraceId = string.Empty, producerSpanId = string.Empty;
        await Task.Run(async () =>
        {
            using var ambient = new CleanAmbient();
            await _bus.SendAsync(W3C, queue, Body("again"), Properties(), "m-again");
            var sent = Assert.Single(_spans.For(queue));
            producerTraceId = sent.TraceId.ToHexString();
            producerSpanId = sent.SpanId.ToHexString();
        });

        // A first receiver abandons it (through the same delegate a worker would use on shutdown).
        var first = await _bus.Broker.ReceiveAsync(queue, CancellationToken.None).AsTask().WaitAsync(Timeout);
        await _bus.ToDelivery(first, queue).RequeueAsync(CancellationToken.None);
        Assert.Equal(1, _bus.Abandoned);

        var options = new W3CWorkerOptions { ParentingPolicy = m => m.Redelivered ? ParentingMode.Link : ParentingMode.Child };
        var seen = Assert.Single(await RunWorkerAsync(queue, expected: 1, options));

        Assert.True(seen.Redelivered);
        Assert.Equal(2, seen.DeliveryCount);
        Assert.NotEqual(producerTraceId, seen.TraceId);
        Assert.Null(seen.ParentSpanId);
        var link = Assert.Single(seen.Links);
        Assert.Equal(producerTraceId, link.Context.TraceId.ToHexString());
        Assert.Equal(producerSpanId, link.Context.SpanId.ToHexString());
        Assert.Equal(1, _bus.Completed);
    }

    [Fact]
    public async Task A_failing_message_is_dead_lettered_with_the_reason_after_its_attempts()
    {
        var queue = NewEntity();
        _bus.Broker.DeclareQueue(queue, queue + "/$DeadLetterQueue");
        await _bus.SendRawAsync(queue, Body("poison"), Properties(("traceparent", TraceParentA)), "m-poison");

        var seen = await RunWorkerAsync(
            queue,
            expected: 2,
            new W3CWorkerOptions { MaxAttempts = 2 },
            _ => throw new InvalidOperationException("boom"));

        Assert.Equal(2, seen.Count);
        Assert.All(seen, o => Assert.Equal(TraceIdA, o.TraceId));
        Assert.Equal([typeof(InvalidOperationException).FullName!], _bus.DeadLetterReasons);
        Assert.Equal(0, _bus.Completed);
        Assert.Equal(1, _bus.Broker.GetReadyCount(queue + "/$DeadLetterQueue"));
        Assert.Equal(0, _bus.Broker.GetReadyCount(queue) + _bus.Broker.GetUnackedCount(queue));
        var consumers = _spans.For(queue).Where(s => s.Kind == ActivityKind.Consumer).ToList();
        Assert.Equal(2, consumers.Count);
        Assert.All(consumers, s => Assert.Equal(ActivityStatusCode.Error, s.Status));
        Assert.All(consumers, s => Assert.Equal(typeof(InvalidOperationException).FullName, s.GetTagItem("error.type")));
    }

    [Fact]
    public async Task A_handler_forwarding_a_received_message_replaces_its_stale_context()
    {
        var inbound = NewEntity("in");
        var outbound = NewEntity("out");

        // Sent by this library, then carrying stale legacy properties an older hop left behind.
        await Task.Run(async () =>
        {
            using var ambient = new CleanAmbient();
            await _bus.SendAsync(W3C, inbound, Body("fwd"), Properties(("app", "kept")), "m-fwd");
        });
        var stale = _bus.Broker.Get(inbound)!;
        var staleProperties = new Dictionary<string, object>(ServiceBusStandIn.ApplicationProperties(stale))
        {
            ["Diagnostic-Id"] = TraceParentB,
            ["Correlation-Context"] = "old=1",
        };
        await _bus.SendRawAsync(inbound, stale.Body, staleProperties, "m-fwd");

        string? forwardSpanId = null;
        var seen = Assert.Single(await RunWorkerAsync(inbound, expected: 1, new W3CWorkerOptions(), async m =>
        {
            Baggage.Current = Baggage.Current.SetBaggage("hop", "2");
            var forwarded = new Dictionary<string, object>(_bus.Received[m.MessageId!]); // new ServiceBusMessage(received)
            await _bus.SendAsync(W3C, outbound, m.RawBody, forwarded, "m-fwd-2");
            forwardSpanId = Assert.Single(_spans.For(outbound)).SpanId.ToHexString();
        }));

        var delivered = ServiceBusStandIn.ApplicationProperties(_bus.Broker.Get(outbound)!);
        Assert.Equal($"00-{seen.TraceId}-{forwardSpanId}-01", delivered["traceparent"]);
        Assert.False(delivered.ContainsKey("Diagnostic-Id"));
        Assert.False(delivered.ContainsKey("Correlation-Context"));
        // The handler's baggage — old=1 continued from the inbound Correlation-Context, plus what it added — now
        // travels in the W3C property only.
        Assert.Equal(["hop=2", "old=1"], ((string)delivered["baggage"]).Split(',').Order(StringComparer.Ordinal));
        Assert.Equal("kept", delivered["app"]);

        var inboundSend = Assert.Single(_spans.For(inbound), s => s.Kind == ActivityKind.Producer);
        Assert.Equal(inboundSend.TraceId.ToHexString(), seen.TraceId); // one trace: send → process → forward
        Assert.Equal(inboundSend.SpanId.ToHexString(), seen.ParentSpanId);
    }

    private static ReadOnlyMemory<byte> Body(string id) => JsonMessageSerializer.Default.Serialize(new ServiceBusOrder(id));

    private async Task<IReadOnlyList<Observation>> RunWorkerAsync(
        string entityPath,
        int expected,
        ConsumerWorkerOptions options,
        Func<MessageContext<ServiceBusOrder>, Task>? behaviour = null)
    {
        options.Queue = entityPath;
        var observed = new ConcurrentQueue<Observation>();
        var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var services = new ServiceCollection().AddSingleton(ServiceBusTestData.W3C).BuildServiceProvider();
        using var worker = new StandInWorker(_bus, async m =>
        {
            var activity = Activity.Current;
            try
            {
                if (behaviour is not null)
                {
                    await behaviour(m);
                }
            }
            finally
            {
                observed.Enqueue(new Observation(
                    m.MessageId,
                    activity?.TraceId.ToHexString(),
                    activity is null || activity.ParentSpanId == default ? null : activity.ParentSpanId.ToHexString(),
                    activity is null ? [] : [.. activity.Links],
                    BaggageOf(Baggage.Current),
                    m.Destination,
                    m.Message.Subscription,
                    m.Redelivered,
                    m.Message.DeliveryCount));
                if (observed.Count >= expected)
                {
                    enough.TrySetResult();
                }
            }
        }, new StandInContext(options, services));

        await worker.StartAsync(CancellationToken.None);
        try
        {
            await enough.Task.WaitAsync(Timeout);
        }
        finally
        {
            // Stopping waits for in-flight messages, so their settlement is done when it returns.
            await worker.StopAsync(CancellationToken.None);
        }

        return [.. observed];
    }

    internal sealed record Observation(
        string? MessageId,
        string? TraceId,
        string? ParentSpanId,
        IReadOnlyList<ActivityLink> Links,
        Dictionary<string, string> Baggage,
        string Destination,
        string? Subscription,
        bool Redelivered,
        int? DeliveryCount);

    /// <summary>A worker whose receive loop is the in-memory broker standing in for a ServiceBusProcessor.</summary>
    private sealed class StandInContext(ConsumerWorkerOptions options, IServiceProvider services) : ConsumerWorkerContext("servicebus-stand-in", options, services);

    private sealed class StandInWorker(ServiceBusStandIn bus, Func<MessageContext<ServiceBusOrder>, Task> handler, ConsumerWorkerContext context) : ConsumerWorker<ServiceBusOrder>(context)
    {
        protected override async Task ConsumeAsync(CancellationToken stoppingToken)
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                InMemoryDelivery delivery;
                try
                {
                    delivery = await bus.Broker.ReceiveAsync(Options.Queue, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }

                // What ProcessMessageAsync does with ProcessMessageEventArgs (see the transport's README).
                await ProcessAsync(bus.ToDelivery(delivery, Options.Queue));
            }

            await WaitForInFlightAsync();
        }

        protected override Task HandleAsync(MessageContext<ServiceBusOrder> message, CancellationToken cancellationToken) => handler(message);
    }
}

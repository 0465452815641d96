using System.Diagnostics;
using Messaging.Propagation;
using Messaging.Tests.Support;
using Messaging.Transports.ServiceBus;
using OpenTelemetry;
using Xunit;
using static Messaging.Tests.ServiceBus.ServiceBusTestData;

namespace Messaging.Tests.ServiceBus;

/// <summary>
/// The core engine through the Service Bus carriers, on plain dictionaries shaped like the SDK's: inject → carry →
/// extract → parent, the legacy fallbacks, forwarding, trust and baggage policies, and the span attributes.
/// </summary>
public sealed class ServiceBusPropagationTests : IDisposable
{
    private readonly ExportedSpans _spans = new();

    public void Dispose() => _spans.Dispose();

    [Theory]
    [InlineData(ParentingMode.Child)]
    [InlineData(ParentingMode.Link)]
    public void Inject_carry_extract_parents_the_consumer_span(ParentingMode mode)
    {
        using var ambient = new CleanAmbient();
        var instrumentation = new MessagingInstrumentation(new W3COptions { Parenting = mode });
        var entity = NewEntity();
        var sent = Properties(("app", "kept"));
        Baggage.Current = Baggage.Create(new Dictionary<string, string> { ["tenant"] = "t 1" });

        ActivityContext producer;
        using (var send = ServiceBusPropagation.StartSend(instrumentation, sent, entity, "m-1"))
        {
            producer = Assert.IsType<Activity>(send.Activity).Context;
        }

        Assert.Equal($"00-{producer.TraceId}-{producer.SpanId}-01", sent["traceparent"]);
        Assert.Equal("tenant=t%201", sent["baggage"]);
        Assert.Equal("kept", sent["app"]);

        Baggage.Current = default;
        var received = Deliver(sent);
        using (var scope = instrumentation.StartConsumer(ServiceBusMessaging.CreateIncoming(received, entity, "m-1", deliveryCount: 1)))
        {
            var consumer = Assert.IsType<Activity>(scope.Activity);
            Assert.Same(consumer, Activity.Current);
            Assert.Equal(mode, scope.Parenting);
            Assert.Equal("t 1", Baggage.Current.GetBaggage("tenant"));
            if (mode == ParentingMode.Child)
            {
                Assert.Equal(producer.TraceId, consumer.TraceId);
                Assert.Equal(producer.SpanId, consumer.ParentSpanId);
                var link = Assert.Single(consumer.Links);
                Assert.Equal(producer.TraceId, link.Context.TraceId);
                Assert.Equal(producer.SpanId, link.Context.SpanId);
            }
            else
            {
                Assert.NotEqual(producer.TraceId, consumer.TraceId);
                Assert.Equal(default, consumer.ParentSpanId);
                var link = Assert.Single(consumer.Links);
                Assert.Equal(producer.TraceId, link.Context.TraceId);
                Assert.Equal(producer.SpanId, link.Context.SpanId);
            }
        }

        Assert.Null(Activity.Current);
        Assert.Equal(0, Baggage.Current.Count);
        Assert.Equal(2, SpansOf(entity).Count);
    }

    [Fact]
    public void Diagnostic_Id_only_is_continued()
    {
        using var ambient = new CleanAmbient();
        var entity = NewEntity();
        var received = Properties(("Diagnostic-Id", TraceParentB));

        using var scope = W3C.StartConsumer(ServiceBusMessaging.CreateIncoming(received, entity));

        var consumer = Assert.IsType<Activity>(scope.Activity);
        Assert.Equal(TraceIdB, consumer.TraceId.ToHexString());
        Assert.Equal(SpanIdB, consumer.ParentSpanId.ToHexString());
        Assert.Equal(ParentingMode.Child, scope.Parenting);
    }

    [Fact]
    public void Traceparent_wins_when_it_and_Diagnostic_Id_disagree()
    {
        using var ambient = new CleanAmbient();
        var entity = NewEntity();
        var received = Properties(("Diagnostic-Id", TraceParentB), ("traceparent", TraceParentA), ("tracestate", "vendor=1"));

        using var scope = W3C.StartConsumer(ServiceBusMessaging.CreateIncoming(received, entity));

        var consumer = Assert.IsType<Activity>(scope.Activity);
        Assert.Equal(TraceIdA, consumer.TraceId.ToHexString());
        Assert.Equal(SpanIdA, consumer.ParentSpanId.ToHexString());
        Assert.Equal("vendor=1", scope.RemoteContext.TraceState);
    }

    [Theory]
    [MemberData(nameof(ServiceBusCarrierTests.NonStringKinds), MemberType = typeof(ServiceBusCarrierTests))]
    public void Values_that_are_not_strings_are_ignored_and_the_span_is_a_new_root(string kind)
    {
        using var ambient = new CleanAmbient();
        var entity = NewEntity();
        var received = Properties(
            ("traceparent", ServiceBusCarrierTests.NonString(kind, TraceParentA)),
            ("Diagnostic-Id", ServiceBusCarrierTests.NonString(kind, TraceParentB)),
            ("baggage", ServiceBusCarrierTests.NonString(kind, "a=1")),
            ("Correlation-Context", ServiceBusCarrierTests.NonString(kind, "b=2")));

        using (var scope = W3C.StartConsumer(ServiceBusMessaging.CreateIncoming(received, entity)))
        {
            var consumer = Assert.IsType<Activity>(scope.Activity);
            Assert.Equal(default, scope.RemoteContext.TraceId);
            Assert.Null(scope.Parenting);
            Assert.Equal(default, consumer.ParentSpanId);
            Assert.NotEqual(TraceIdA, consumer.TraceId.ToHexString());
            Assert.NotEqual(TraceIdB, consumer.TraceId.ToHexString());
            Assert.Empty(consumer.Links);
            Assert.Equal(0, Baggage.Current.Count);
        }

        Assert.Single(SpansOf(entity));
    }

    [Fact]
    public void Correlation_Context_is_the_baggage_fallback()
    {
        using var ambient = new CleanAmbient();
        var entity = NewEntity();
        var received = Properties(("traceparent", TraceParentA), ("Correlation-Context", "tenant=t1, region = eu"));

        using var scope = W3C.StartConsumer(ServiceBusMessaging.CreateIncoming(received, entity));

        Assert.Equal(new Dictionary<string, string> { ["tenant"] = "t1", ["region"] = "eu" }, BaggageOf(Baggage.Current));
        Assert.Equal(TraceIdA, scope.Activity!.TraceId.ToHexString());
    }

    [Fact]
    public void Forwarding_replaces_every_stale_trace_property_with_the_current_context()
    {
        using var ambient = new CleanAmbient();
        var entity = NewEntity("forward");

        // As received from an SDK producer, with legacy properties from an older hop, then copied the way
        // new ServiceBusMessage(receivedMessage) copies them.
        var forwarded = new Dictionary<string, object>(Properties(
            ("traceparent", TraceParentA),
            ("tracestate", "stale=1"),
            ("Diagnostic-Id", TraceParentB),
            ("correlation-context", "stale=1"),
            ("app", "kept")));
        Baggage.Current = Baggage.Create(new Dictionary<string, string> { ["fresh"] = "1" });

        ActivityContext producer;
        using (var send = ServiceBusPropagation.StartSend(W3C, forwarded, entity))
        {
            producer = send.Activity!.Context;
        }

        Assert.Equal(new Dictionary<string, object>
        {
            ["traceparent"] = $"00-{producer.TraceId}-{producer.SpanId}-01",
            ["baggage"] = "fresh=1",
            ["app"] = "kept",
        }, forwarded);
        Assert.NotEqual(TraceIdA, producer.TraceId.ToHexString());
    }

    [Fact]
    public void Forwarding_from_a_handler_continues_the_handlers_trace_and_drops_the_legacy_context()
    {
        using var ambient = new CleanAmbient();
        var inbound = NewEntity("in");
        var outbound = NewEntity("out");
        var received = Properties(
            ("traceparent", TraceParentA),
            ("Diagnostic-Id", TraceParentB),
            ("Correlation-Context", "old=1"),
            ("app", "kept"));

        ActivityContext producer;
        using (var scope = W3C.StartConsumer(ServiceBusMessaging.CreateIncoming(received, inbound)))
        {
            var forwarded = new Dictionary<string, object>(received);
            using (var send = ServiceBusPropagation.StartSend(W3C, forwarded, outbound))
            {
                producer = send.Activity!.Context;
                Assert.Equal(scope.Activity!.SpanId, send.Activity.ParentSpanId);
            }

            Assert.Equal($"00-{TraceIdA}-{producer.SpanId}-01", forwarded["traceparent"]);
            Assert.NotEqual(SpanIdA, producer.SpanId.ToHexString());
            Assert.False(forwarded.ContainsKey("Diagnostic-Id"));
            Assert.False(forwarded.ContainsKey("Correlation-Context"));
            Assert.Equal("old=1", forwarded["baggage"]); // the handler's baggage, now in the W3C property
            Assert.Equal("kept", forwarded["app"]);
        }
    }

    [Fact]
    public void Forwarding_strips_stale_properties_even_when_nothing_is_propagated()
    {
        using var ambient = new CleanAmbient();
        var instrumentation = new MessagingInstrumentation(new MessagingOptions { Propagator = MessagingPropagators.Parse("none") });
        var forwarded = Properties(
            ("TraceParent", TraceParentA), ("tracestate", "s=1"), ("Diagnostic-Id", TraceParentB),
            ("baggage", "b=1"), ("Correlation-Context", "c=1"), ("app", 5));

        using (ServiceBusPropagation.StartSend(instrumentation, forwarded, NewEntity()))
        {
        }

        Assert.Equal(5, Assert.Single(forwarded, p => p.Key == "app").Value);
        Assert.Single(forwarded);
    }

    [Fact]
    public void Core_inject_through_the_outgoing_carrier_also_removes_legacy_properties()
    {
        using var ambient = new CleanAmbient();
        using var parent = new Activity("parent").SetIdFormat(ActivityIdFormat.W3C).Start();
        var forwarded = Properties(("Diagnostic-Id", TraceParentB), ("Correlation-Context", "c=1"));

        W3C.InjectCurrent(new ServiceBusPropertiesCarrier(forwarded));

        Assert.Equal(["traceparent"], forwarded.Keys);
        Assert.Equal(parent.Id, forwarded["traceparent"]);
    }

    [Fact]
    public void DropBaggage_continues_the_trace_without_baggage()
    {
        using var ambient = new CleanAmbient();
        var instrumentation = new MessagingInstrumentation(new W3COptions { Trust = ContextTrust.DropBaggage });
        var received = Properties(("Diagnostic-Id", TraceParentB), ("baggage", "a=1"), ("Correlation-Context", "b=2"));

        using var scope = instrumentation.StartConsumer(ServiceBusMessaging.CreateIncoming(received, NewEntity()));

        Assert.Equal(SpanIdB, scope.Activity!.ParentSpanId.ToHexString());
        Assert.Equal(0, Baggage.Current.Count);
        Assert.Equal(0, scope.Baggage.Count);
    }

    [Fact]
    public void Untrusted_starts_a_new_root_linked_to_the_remote_context()
    {
        using var ambient = new CleanAmbient();
        var instrumentation = new MessagingInstrumentation(new W3COptions { Trust = ContextTrust.Untrusted });
        var received = Properties(("traceparent", TraceParentA), ("Correlation-Context", "tenant=t1"));

        using var scope = instrumentation.StartConsumer(ServiceBusMessaging.CreateIncoming(received, NewEntity()));

        var consumer = scope.Activity!;
        Assert.Equal(ParentingMode.Link, scope.Parenting);
        Assert.NotEqual(TraceIdA, consumer.TraceId.ToHexString());
        Assert.Equal(default, consumer.ParentSpanId);
        var link = Assert.Single(consumer.Links);
        Assert.Equal(TraceIdA, link.Context.TraceId.ToHexString());
        Assert.Equal(SpanIdA, link.Context.SpanId.ToHexString());
        Assert.Equal(0, Baggage.Current.Count);
    }

    [Fact]
    public void Outbound_baggage_policy_applies_through_the_carrier()
    {
        using var ambient = new CleanAmbient();
        var options = new W3COptions();
        options.OutboundBaggage.DeniedKeys.Add("auth.token");
        var instrumentation = new MessagingInstrumentation(options);
        var sent = Properties(("Correlation-Context", "auth.token=stale"));
        Baggage.Current = Baggage.Create(new Dictionary<string, string> { ["auth.token"] = "secret", ["tenant"] = "t1" });

        using (ServiceBusPropagation.StartSend(instrumentation, sent, NewEntity()))
        {
        }

        Assert.Equal("tenant=t1", sent["baggage"]);
        Assert.False(sent.ContainsKey("Correlation-Context"));
        Assert.DoesNotContain(sent.Values, v => v is string s && s.Contains("auth.token", StringComparison.Ordinal));
    }

    [Fact]
    public void Spans_carry_the_service_bus_semantic_conventions()
    {
        using var ambient = new CleanAmbient();
        var topic = NewEntity("topic");
        var sent = Properties();
        using (ServiceBusPropagation.StartSend(W3C, sent, topic, "msg-7", "conv-1", bodySize: 12, "ns.servicebus.windows.net"))
        {
        }

        var enqueued = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var incoming = ServiceBusMessaging.CreateIncoming(
            Deliver(sent), topic + "/Subscriptions/audit", "msg-7", deliveryCount: 3, enqueued,
            correlationId: "conv-1", bodySize: 12, fullyQualifiedNamespace: "ns.servicebus.windows.net");
        Assert.Equal(topic, incoming.Destination);
        Assert.Equal("audit", incoming.Subscription);
        Assert.True(incoming.Redelivered);
        Assert.Equal(3, incoming.DeliveryCount);
        Assert.Equal(enqueued, incoming.EnqueuedAt);
        using (W3C.StartConsumer(incoming))
        {
        }

        var producer = Assert.Single(SpansOf(topic), static a => a.Kind == ActivityKind.Producer);
        Assert.Equal("send " + topic, producer.DisplayName);
        Assert.Equal("servicebus", producer.GetTagItem("messaging.system"));
        Assert.Equal("send", producer.GetTagItem("messaging.operation.type"));
        Assert.Equal("msg-7", producer.GetTagItem("messaging.message.id"));
        Assert.Equal("conv-1", producer.GetTagItem("messaging.message.conversation_id"));
        Assert.Equal(12L, producer.GetTagItem("messaging.message.body.size"));
        Assert.Equal("ns.servicebus.windows.net", producer.GetTagItem("server.address"));

        var consumer = Assert.Single(SpansOf(topic), static a => a.Kind == ActivityKind.Consumer);
        Assert.Equal("process " + topic, consumer.DisplayName);
        Assert.Equal("servicebus", consumer.GetTagItem("messaging.system"));
        Assert.Equal("process", consumer.GetTagItem("messaging.operation.type"));
        Assert.Equal("audit", consumer.GetTagItem("messaging.destination.subscription.name"));
        Assert.Equal("msg-7", consumer.GetTagItem("messaging.message.id"));
        Assert.Equal(3, consumer.GetTagItem("messaging.servicebus.message.delivery_count"));
        Assert.Null(consumer.GetTagItem("messaging.message.delivery_count"));
        Assert.Equal(enqueued.ToUnixTimeSeconds(), consumer.GetTagItem("messaging.servicebus.message.enqueued_time"));
        Assert.Equal("ns.servicebus.windows.net", consumer.GetTagItem("server.address"));
        Assert.Equal(producer.SpanId, consumer.ParentSpanId);
    }

    [Theory]
    [InlineData(1, false, ParentingMode.Child)]
    [InlineData(2, true, ParentingMode.Link)]
    public void Delivery_count_drives_a_redelivery_parenting_policy(int deliveryCount, bool redelivered, ParentingMode expected)
    {
        using var ambient = new CleanAmbient();
        var instrumentation = new MessagingInstrumentation(new W3COptions
        {
            ParentingPolicy = m => m.Redelivered ? ParentingMode.Link : ParentingMode.Child,
        });
        var received = Properties(("traceparent", TraceParentA));

        var incoming = ServiceBusMessaging.CreateIncoming(received, NewEntity(), deliveryCount: deliveryCount);
        using var scope = instrumentation.StartConsumer(incoming);

        Assert.Equal(redelivered, incoming.Redelivered);
        Assert.Equal(expected, scope.Parenting);
        if (expected == ParentingMode.Child)
        {
            Assert.Equal(TraceIdA, scope.Activity!.TraceId.ToHexString());
            Assert.Equal(SpanIdA, Assert.Single(scope.Activity.Links).Context.SpanId.ToHexString());
        }
        else
        {
            Assert.NotEqual(TraceIdA, scope.Activity!.TraceId.ToHexString());
            Assert.Equal(SpanIdA, Assert.Single(scope.Activity.Links).Context.SpanId.ToHexString());
        }
    }

    [Fact]
    public void Entity_paths_without_a_subscription_are_kept_whole()
    {
        using var ambient = new CleanAmbient();
        var queue = ServiceBusMessaging.CreateIncoming(Properties(), "orders", deliveryCount: 0);
        var explicitSubscription = ServiceBusMessaging.CreateIncoming(Properties(), "topic/Subscriptions/a", subscription: "b");

        Assert.Equal("orders", queue.Destination);
        Assert.Null(queue.Subscription);
        Assert.Null(queue.DeliveryCount);
        Assert.False(queue.Redelivered);
        Assert.Equal("servicebus", queue.System);
        Assert.Equal("topic", explicitSubscription.Destination);
        Assert.Equal("b", explicitSubscription.Subscription);
        Assert.Throws<ArgumentOutOfRangeException>(() => ServiceBusMessaging.CreateIncoming(Properties(), "orders", deliveryCount: -1));
    }

    /// <summary>The exported spans whose <c>messaging.destination.name</c> is <paramref name="destination"/>.</summary>
    private List<Activity> SpansOf(string destination) =>
        [.. _spans.Exported.Where(a => a.GetTagItem("messaging.destination.name") as string == destination)];
}

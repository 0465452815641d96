using System.Collections.Concurrent;
using System.Diagnostics;
using Messaging.Tests.Support;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Xunit;
using static Messaging.Tests.Core.CoreTestSupport;

namespace Messaging.Tests.Core;

/// <summary>
/// The producer side: PRODUCER span and injection. Several tests depend on nothing (or nothing but an unsampling
/// listener) listening to the library's source, so the class runs alone.
/// </summary>
[Collection(ListenerSensitiveTests.Name)]
public sealed class ProducerScopeTests
{
    // ---- owned headers -------------------------------------------------------------------------------------

    [Fact]
    public void PropagationHeaders_lists_what_the_propagator_writes_and_cannot_be_changed()
    {
        var w3c = new MessagingInstrumentation(new MessagingOptions { Propagator = Messaging.Propagation.MessagingPropagators.Parse("tracecontext,baggage") });
        var b3 = new MessagingInstrumentation(new MessagingOptions { Propagator = Messaging.Propagation.MessagingPropagators.Parse("b3") });

        Assert.Equal(["baggage", "traceparent", "tracestate"], w3c.PropagationHeaders.Order(StringComparer.Ordinal));
        Assert.Equal(["b3"], b3.PropagationHeaders);
        Assert.Throws<NotSupportedException>(() => ((IList<string>)w3c.PropagationHeaders)[0] = "other");
    }

    // ---- span ----------------------------------------------------------------------------------------------

    [Fact]
    public void Per_message_attributes_replace_a_value_a_listener_set_when_the_span_started()
    {
        var destination = UniqueDestination("orders");
        using var spans = new ExportedSpans(
            a => a.OperationName.EndsWith(destination, StringComparison.Ordinal),
            static b => b.AddProcessor(new TagOnStart("messaging.message.id", "set-by-listener")));

        using (new MessagingInstrumentation().StartConsumer(
            new IncomingMessage("rabbitmq", destination, new DictionaryHeaderCarrier(Headers())) { MessageId = "m-1" }))
        {
        }

        var span = Assert.Single(spans.Exported);
        var ids = span.TagObjects.Where(static t => t.Key == "messaging.message.id").ToList();
        Assert.Equal("m-1", Assert.Single(ids).Value);
    }

    [Fact]
    public void Sampling_relevant_attributes_reach_the_sampler_and_per_message_attributes_only_recorded_spans()
    {
        var destination = UniqueDestination("orders");
        var sampler = new DroppingSampler(destination);
        using var tracing = new ExportedSpans(configure: b => b.SetSampler(sampler));

        // Dropped spans are created (propagation only) but never exported: keep the ones the scopes started.
        var started = new List<Activity?>();
        var headers = new DictionaryHeaderCarrier(Headers());
        using (var scope = new MessagingInstrumentation().StartProducer(
            new OutgoingMessage("rabbitmq", destination) { OperationName = "publish", MessageId = "m-1", RoutingKey = "rk", BodySize = 42, ServerAddress = "broker", ServerPort = 5672 },
            headers))
        {
            started.Add(scope.Activity);
        }

        var incoming = new IncomingMessage("rabbitmq", destination, headers) { MessageId = "m-1", RoutingKey = "rk", BodySize = 42, ServerAddress = "broker", ServerPort = 5672 };
        using (var scope = new MessagingInstrumentation().StartConsumer(incoming))
        {
            started.Add(scope.Activity);
        }

        Assert.DoesNotContain(tracing.Exported, a => a.OperationName.EndsWith(destination, StringComparison.Ordinal));
        var sampled = sampler.Seen.ToDictionary(static s => s.Span, static s => s.Tags);
        foreach (var (span, operationType, operationName) in new[] { ("send " + destination, "send", "publish"), ("process " + destination, "process", "process") })
        {
            var tags = sampled[span];
            Assert.Equal("rabbitmq", tags["messaging.system"]);
            Assert.Equal(destination, tags["messaging.destination.name"]);
            Assert.Equal(operationType, tags["messaging.operation.type"]);
            Assert.Equal(operationName, tags["messaging.operation.name"]);
            Assert.Equal("broker", tags["server.address"]);
            Assert.Equal(5672, tags["server.port"]);
            Assert.False(tags.ContainsKey("messaging.message.id"));
        }

        Assert.Equal(2, started.Count);
        Assert.All(started, static a =>
        {
            Assert.NotNull(a);
            Assert.True(a.IsStopped);
            Assert.False(a.IsAllDataRequested);
            Assert.Null(a.GetTagItem("messaging.message.id"));
            Assert.Null(a.GetTagItem("messaging.message.body.size"));
        });
    }

    [Fact]
    public void Spans_of_one_destination_share_nothing_stale_when_system_operation_or_server_change()
    {
        var destination = UniqueDestination("orders");
        using var collector = SpansOf(destination);
        var instrumentation = new MessagingInstrumentation();
        var variants = new[]
        {
            new IncomingMessage("rabbitmq", destination, new DictionaryHeaderCarrier(Headers())) { ServerAddress = "a", ServerPort = 5672 },
            new IncomingMessage("rabbitmq", destination, new DictionaryHeaderCarrier(Headers())) { ServerAddress = "a", ServerPort = 5672 },
            new IncomingMessage("rabbitmq", destination, new DictionaryHeaderCarrier(Headers())) { ServerAddress = "b", ServerPort = 5671 },
            new IncomingMessage("servicebus", destination, new DictionaryHeaderCarrier(Headers())) { Subscription = "audit", OperationName = "receive" },
            new IncomingMessage("rabbitmq", destination, new DictionaryHeaderCarrier(Headers())) { ServerAddress = "a", ServerPort = 5672 },
        };
        foreach (var message in variants)
        {
            using (instrumentation.StartConsumer(message))
            {
            }
        }

        var spans = collector.Exported.ToList();
        Assert.Equal(variants.Length, spans.Count);
        for (var i = 0; i < variants.Length; i++)
        {
            var (span, message) = (spans[i], variants[i]);
            Assert.Equal("process " + destination, span.DisplayName);
            Assert.Equal(message.System, span.GetTagItem("messaging.system"));
            Assert.Equal(message.OperationName, span.GetTagItem("messaging.operation.name"));
            Assert.Equal(message.Subscription, span.GetTagItem("messaging.destination.subscription.name"));
            Assert.Equal(message.ServerAddress, span.GetTagItem("server.address"));
            Assert.Equal(message.ServerPort, span.GetTagItem("server.port"));
        }
    }

    [Fact]
    public void Spans_alternating_between_destinations_are_named_and_tagged_for_their_own_destination()
    {
        var first = UniqueDestination("orders");
        var second = UniqueDestination("invoices");
        using var collector = ExportedSpans.Named("send " + first, "process " + first, "send " + second, "process " + second);
        var instrumentation = new MessagingInstrumentation();
        var destinations = new[] { first, first, second, first, second, second };
        foreach (var destination in destinations)
        {
            using (instrumentation.StartProducer(new OutgoingMessage("rabbitmq", destination), new DictionaryHeaderCarrier(new Dictionary<string, object?>())))
            {
            }

            using (instrumentation.StartConsumer(new IncomingMessage("rabbitmq", destination, new DictionaryHeaderCarrier(Headers()))))
            {
            }
        }

        var spans = collector.Exported.ToList();
        Assert.Equal(2 * destinations.Length, spans.Count);
        for (var i = 0; i < destinations.Length; i++)
        {
            var (send, process) = (spans[2 * i], spans[(2 * i) + 1]);
            Assert.Equal("send " + destinations[i], send.DisplayName);
            Assert.Equal(destinations[i], send.GetTagItem("messaging.destination.name"));
            Assert.Equal("send", send.GetTagItem("messaging.operation.type"));
            Assert.Equal("process " + destinations[i], process.DisplayName);
            Assert.Equal(destinations[i], process.GetTagItem("messaging.destination.name"));
            Assert.Equal("process", process.GetTagItem("messaging.operation.type"));
        }
    }

    [Fact]
    public void Producer_span_is_named_send_destination_with_kind_producer_and_semconv_tags()
    {
        var destination = UniqueDestination("orders");
        using var collector = SpansOf(destination);
        var headers = Headers();
        var message = new OutgoingMessage("rabbitmq", destination)
        {
            OperationName = "publish",
            MessageId = "m-1",
            ConversationId = "conv-1",
            BodySize = 42,
            RoutingKey = "orders.created",
            ServerAddress = "broker.local",
            ServerPort = 5672,
        };

        Activity? span;
        using (var scope = Instrumentation().StartProducer(message, new DictionaryHeaderCarrier(headers)))
        {
            span = scope.Activity;
            Assert.NotNull(span);
            Assert.Same(span, Activity.Current);
        }

        Assert.Same(span, Assert.Single(collector.Exported));
        Assert.Equal("send " + destination, span.DisplayName);
        Assert.Equal(ActivityKind.Producer, span.Kind);
        Assert.Equal("rabbitmq", span.GetTagItem("messaging.system"));
        Assert.Equal(destination, span.GetTagItem("messaging.destination.name"));
        Assert.Equal("send", span.GetTagItem("messaging.operation.type"));
        Assert.Equal("publish", span.GetTagItem("messaging.operation.name"));
        Assert.Equal("m-1", span.GetTagItem("messaging.message.id"));
        Assert.Equal("conv-1", span.GetTagItem("messaging.message.conversation_id"));
        Assert.Equal(42L, span.GetTagItem("messaging.message.body.size"));
        Assert.Equal("orders.created", span.GetTagItem("messaging.rabbitmq.destination.routing_key"));
        Assert.Equal("broker.local", span.GetTagItem("server.address"));
        Assert.Equal(5672, span.GetTagItem("server.port"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        Assert.Equal(TraceParent(span), headers["traceparent"]);
    }

    [Fact]
    public void Optional_tags_are_absent_when_unknown_and_operation_name_defaults_to_send()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);

        using (Instrumentation().StartProducer(new OutgoingMessage("servicebus", destination), new DictionaryHeaderCarrier(Headers())))
        {
        }

        var span = Assert.Single(collector.Exported);
        Assert.Equal("send", span.GetTagItem("messaging.operation.name"));
        Assert.Null(span.GetTagItem("messaging.message.id"));
        Assert.Null(span.GetTagItem("messaging.message.body.size"));
        Assert.Null(span.GetTagItem("server.port"));
        Assert.Null(span.GetTagItem("error.type"));
    }

    [Fact]
    public void Producer_span_is_a_child_of_the_ambient_activity_which_is_current_again_after_dispose()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        using var ambient = AmbientSource.StartRoot();
        var headers = Headers();

        using (var scope = Instrumentation().StartProducer(new OutgoingMessage(TestSystem, destination), new DictionaryHeaderCarrier(headers)))
        {
            Assert.NotNull(scope.Activity);
            Assert.Same(ambient, scope.Activity.Parent);
            Assert.Equal(ambient.TraceId, scope.Activity.TraceId);
        }

        Assert.Same(ambient, Activity.Current);
        var span = Assert.Single(collector.Exported);
        Assert.Equal(TraceParent(span), headers["traceparent"]);
    }

    [Fact]
    public void RecordException_sets_error_status_and_error_type_and_tags_the_sent_metric()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        using var metrics = new MetricCollector<long>(Instruments.SentMessages);

        using (var scope = Instrumentation().StartProducer(new OutgoingMessage(TestSystem, destination), new DictionaryHeaderCarrier(Headers())))
        {
            scope.RecordException(new TimeoutException("broker did not confirm"));
        }

        var span = Assert.Single(collector.Exported);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("broker did not confirm", span.StatusDescription);
        Assert.Equal("System.TimeoutException", span.GetTagItem("error.type"));
        var exception = Assert.Single(span.Events);
        Assert.Equal("exception", exception.Name);
        Assert.Contains(exception.Tags, t => t.Key == "exception.type" && Equals(t.Value, "System.TimeoutException"));

        var sent = Assert.Single(Of(metrics, destination));
        Assert.Equal(1, sent.Value);
        Assert.Equal("System.TimeoutException", sent.Tag("error.type"));
        Assert.Equal(TestSystem, sent.Tag("messaging.system"));
    }

    [Fact]
    public void Successful_send_is_counted_once_without_error_type_even_if_disposed_twice()
    {
        var destination = UniqueDestination();
        using var metrics = new MetricCollector<long>(Instruments.SentMessages);

        var scope = Instrumentation().StartProducer(new OutgoingMessage(TestSystem, destination), new DictionaryHeaderCarrier(Headers()));
        scope.Dispose();
        scope.Dispose();

        var sent = Assert.Single(Of(metrics, destination));
        Assert.Null(sent.Tag("error.type"));
    }

    // ---- nothing to do ----------------------------------------------------------------------------------------

    [Fact]
    public void CanSkipProducer_holds_only_while_nothing_listens_and_there_is_no_context_to_carry()
    {
        AssertNothingListensToTheLibrary();
        Assert.Null(Activity.Current);
        var instrumentation = Instrumentation();
        Assert.True(instrumentation.CanSkipProducer);

        // What it promises: StartProducer would create no span and write nothing.
        var headers = Headers();
        using (var scope = instrumentation.StartProducer(new OutgoingMessage(TestSystem, UniqueDestination()), new DictionaryHeaderCarrier(headers)))
        {
            Assert.Null(scope.Activity);
        }

        Assert.Empty(headers);

        // An ambient span, even one that nothing records, is context to carry.
        using (new Activity("upstream").Start())
        {
            Assert.False(instrumentation.CanSkipProducer);
        }

        var previous = Baggage.Current;
        Baggage.Current = Baggage.Create(new Dictionary<string, string> { ["tenant"] = "t-1" });
        try
        {
            Assert.False(instrumentation.CanSkipProducer);
        }
        finally
        {
            Baggage.Current = previous;
        }

        using (SpansOf(UniqueDestination()))
        {
            Assert.False(instrumentation.CanSkipProducer);
        }

        using (new MetricCollector<long>(Instruments.SentMessages))
        {
            Assert.False(instrumentation.CanSkipProducer);
        }

        using (new MetricCollector<long>(Instruments.HeaderSize))
        {
            Assert.False(instrumentation.CanSkipProducer);
        }

        Assert.True(instrumentation.CanSkipProducer);
    }

    [Fact]
    public void CanSkipProducer_never_holds_with_a_propagator_that_is_not_the_librarys()
    {
        AssertNothingListensToTheLibrary();
        Assert.True(Instrumentation(o => o.Propagator = global::Messaging.Propagation.MessagingPropagators.Parse("b3,tracecontext,baggage")).CanSkipProducer);
        Assert.True(Instrumentation(o => o.Propagator = global::Messaging.Propagation.MessagingPropagators.Parse("none")).CanSkipProducer);

        // A foreign propagator may write something even without a context: always the full path.
        Assert.False(Instrumentation(o => o.Propagator = new OpenTelemetry.Context.Propagation.TraceContextPropagator()).CanSkipProducer);
        Assert.False(Instrumentation(o => o.Propagator = new global::Messaging.Propagation.CompositePropagator(
            new global::Messaging.Propagation.W3CTraceContextPropagator(), new OpenTelemetry.Context.Propagation.BaggagePropagator())).CanSkipProducer);
    }

    // ---- inject does not depend on sampling ----------------------------------------------------------------

    [Fact]
    public void Unsampled_producer_span_still_injects_its_context_with_flags_00()
    {
        AssertNothingListensToTheLibrary();
        var destination = UniqueDestination();
        using var collector = UnsampledSpans();
        var headers = Headers();

        using (var scope = Instrumentation().StartProducer(new OutgoingMessage(TestSystem, destination), new DictionaryHeaderCarrier(headers)))
        {
            var span = scope.Activity;
            Assert.NotNull(span);
            Assert.False(span.Recorded);
            Assert.False(span.IsAllDataRequested);
            Assert.Equal($"00-{span.TraceId.ToHexString()}-{span.SpanId.ToHexString()}-00", headers["traceparent"]);
        }
    }

    [Fact]
    public void Unsampled_producer_span_under_an_ambient_activity_injects_the_ambient_trace_id_with_flags_00()
    {
        AssertNothingListensToTheLibrary();
        var destination = UniqueDestination();

        // The subject is a listener that creates an unrecorded producer span under a local, unsampled parent: the
        // OpenTelemetry SDK creates none there, so this is a raw ActivityListener (it collects nothing).
        using var listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == MessagingTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                options.Name == "send " + destination ? ActivitySamplingResult.PropagationData : ActivitySamplingResult.None,
        };
        ActivitySource.AddActivityListener(listener);
        using var ambient = new Activity("ambient").SetParentId(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None).Start();
        var headers = Headers();

        using (var scope = Instrumentation().StartProducer(new OutgoingMessage(TestSystem, destination), new DictionaryHeaderCarrier(headers)))
        {
            Assert.NotNull(scope.Activity);
            Assert.False(scope.Activity.Recorded);
            var traceParent = Assert.IsType<string>(headers["traceparent"]);
            Assert.Equal(ambient.TraceId.ToHexString(), traceParent.Split('-')[1]);
            Assert.EndsWith("-00", traceParent, StringComparison.Ordinal);
        }

        Assert.Same(ambient, Activity.Current);
    }

    [Fact]
    public void Unsampled_ambient_activity_without_producer_span_is_injected_with_flags_00()
    {
        AssertNothingListensToTheLibrary();
        using var ambient = new Activity("ambient").SetParentId(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None).Start();
        Assert.False(ambient.Recorded);
        var headers = Headers();

        using (var scope = Instrumentation().StartProducer(new OutgoingMessage(TestSystem, UniqueDestination()), new DictionaryHeaderCarrier(headers)))
        {
            Assert.Null(scope.Activity);
        }

        Assert.Equal($"00-{ambient.TraceId.ToHexString()}-{ambient.SpanId.ToHexString()}-00", headers["traceparent"]);
    }

    [Fact]
    public void Without_any_library_listener_the_ambient_context_is_injected_as_is()
    {
        AssertNothingListensToTheLibrary();
        using var ambient = AmbientSource.StartRoot();
        ambient.TraceStateString = "vendor=abc";
        Baggage.Current = Bag(("tenant", "acme"));
        var headers = Headers(("custom", "keep"));

        using (var scope = Instrumentation().StartProducer(new OutgoingMessage(TestSystem, UniqueDestination()), new DictionaryHeaderCarrier(headers)))
        {
            Assert.Null(scope.Activity);
            Assert.Same(ambient, Activity.Current);
        }

        Assert.Equal(TraceParent(ambient), headers["traceparent"]);
        Assert.EndsWith("-01", (string)headers["traceparent"]!, StringComparison.Ordinal);
        Assert.Equal("vendor=abc", headers["tracestate"]);
        Assert.Equal("tenant=acme", headers["baggage"]);
        Assert.Equal("keep", headers["custom"]);
        Assert.Equal(4, headers.Count);
    }

    [Fact]
    public void Without_any_listener_an_activity_with_a_w3c_parent_id_is_injected_as_is()
    {
        AssertNothingListensToTheLibrary();
        Activity.Current = null;
        using var ambient = new Activity("x").SetParentId("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").Start();
        var headers = Headers();

        using (Instrumentation().StartProducer(new OutgoingMessage(TestSystem, UniqueDestination()), new DictionaryHeaderCarrier(headers)))
        {
        }

        Assert.Equal($"00-0af7651916cd43dd8448eb211c80319c-{ambient.SpanId.ToHexString()}-01", headers["traceparent"]);
        Assert.False(headers.ContainsKey("tracestate"));
    }

    [Fact]
    public void Without_any_context_no_traceparent_is_written_but_baggage_is()
    {
        AssertNothingListensToTheLibrary();
        Activity.Current = null;
        Baggage.Current = Bag(("tenant", "acme"), ("user", "bob smith"));
        var fromProducer = Headers();
        var fromInject = Headers();
        var instrumentation = Instrumentation();

        using (var scope = instrumentation.StartProducer(new OutgoingMessage(TestSystem, UniqueDestination()), new DictionaryHeaderCarrier(fromProducer)))
        {
            Assert.Null(scope.Activity);
        }

        instrumentation.InjectCurrent(new DictionaryHeaderCarrier(fromInject));

        foreach (var headers in new[] { fromProducer, fromInject })
        {
            Assert.Equal(["baggage"], headers.Keys);
            Assert.Equal("tenant=acme,user=bob%20smith", headers["baggage"]);
        }
    }

    [Fact]
    public void InjectCurrent_injects_the_current_activity_and_baggage_without_starting_a_span()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        using var ambient = AmbientSource.StartRoot();
        Baggage.Current = Bag(("k", "v"));
        var headers = Headers();

        Instrumentation().InjectCurrent(new DictionaryHeaderCarrier(headers));

        Assert.Equal(TraceParent(ambient), headers["traceparent"]);
        Assert.Equal("k=v", headers["baggage"]);
        Assert.Same(ambient, Activity.Current);
        Assert.Empty(collector.Exported);
    }

    // ---- stale headers -------------------------------------------------------------------------------------

    [Theory]
    [InlineData("traceparent", "tracestate", "baggage")]
    [InlineData("TraceParent", "TraceState", "Baggage")]
    [InlineData("TRACEPARENT", "TRACESTATE", "BAGGAGE")]
    public void Stale_propagation_headers_are_replaced_never_duplicated_and_other_headers_kept(string traceParentKey, string traceStateKey, string baggageKey)
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        using var ambient = AmbientSource.StartRoot();
        ambient.TraceStateString = "fresh=1";
        Baggage.Current = Bag(("fresh", "2"));
        var binary = new byte[] { 1, 2, 3 };
        var headers = Headers(
            (traceParentKey, "00-11111111111111111111111111111111-2222222222222222-01"),
            (traceStateKey, "stale=1"),
            (baggageKey, "stale=2"),
            ("x-correlation-id", "abc"),
            ("x-binary", binary),
            ("x-number", 7));

        using (var scope = Instrumentation().StartProducer(new OutgoingMessage(TestSystem, destination), new DictionaryHeaderCarrier(headers)))
        {
            Assert.NotNull(scope.Activity);
            AssertFresh(TraceParent(scope.Activity));
        }

        void AssertFresh(string expectedTraceParent)
        {
            Assert.Equal(["traceparent"], KeysLike(headers, "traceparent"));
            Assert.Equal(["tracestate"], KeysLike(headers, "tracestate"));
            Assert.Equal(["baggage"], KeysLike(headers, "baggage"));
            Assert.Equal(expectedTraceParent, headers["traceparent"]);
            Assert.Equal("fresh=1", headers["tracestate"]);
            Assert.Equal("fresh=2", headers["baggage"]);
            Assert.Equal("abc", headers["x-correlation-id"]);
            Assert.Same(binary, headers["x-binary"]);
            Assert.Equal(7, headers["x-number"]);
            Assert.Equal(6, headers.Count);
        }
    }

    [Fact]
    public void Stale_headers_in_several_case_variants_collapse_into_one_canonical_header()
    {
        using var ambient = AmbientSource.StartRoot();
        Baggage.Current = Bag(("fresh", "1"));
        var headers = Headers(
            ("traceparent", "00-11111111111111111111111111111111-2222222222222222-01"),
            ("TraceParent", "00-33333333333333333333333333333333-4444444444444444-01"),
            ("Baggage", "a=1"),
            ("BAGGAGE", "b=2"),
            ("keep", "me"));

        Instrumentation().InjectCurrent(new DictionaryHeaderCarrier(headers));

        Assert.Equal(["traceparent"], KeysLike(headers, "traceparent"));
        Assert.Equal(TraceParent(ambient), headers["traceparent"]);
        Assert.Equal(["baggage"], KeysLike(headers, "baggage"));
        Assert.Equal("fresh=1", headers["baggage"]);
        Assert.Equal("me", headers["keep"]);
        Assert.Equal(3, headers.Count);
    }

    [Fact]
    public void Stale_tracestate_and_baggage_are_removed_when_the_new_context_has_none()
    {
        using var ambient = new Activity("ambient").SetParentId(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded).Start();
        Baggage.Current = default;
        var headers = Headers(
            ("traceparent", "00-11111111111111111111111111111111-2222222222222222-01"),
            ("TraceState", "stale=1"),
            ("baggage", "stale=2"),
            ("keep", "me"));

        Instrumentation().InjectCurrent(new DictionaryHeaderCarrier(headers));

        Assert.Equal(TraceParent(ambient), headers["traceparent"]);
        Assert.Empty(KeysLike(headers, "tracestate"));
        Assert.Empty(KeysLike(headers, "baggage"));
        Assert.Equal(["keep", "traceparent"], headers.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Stale_headers_do_not_survive_when_there_is_nothing_to_inject()
    {
        AssertNothingListensToTheLibrary();
        Activity.Current = null;
        var headers = Headers(
            ("TraceParent", "00-11111111111111111111111111111111-2222222222222222-01"),
            ("tracestate", "stale=1"),
            ("baggage", "stale=2"),
            ("keep", "me"));
        var copy = new Dictionary<string, object?>(headers);
        var instrumentation = Instrumentation();

        // The test flow must have no baggage of its own for this case: give it an empty holder.
        Baggage.Current = default;
        instrumentation.InjectCurrent(new DictionaryHeaderCarrier(headers));
        using (instrumentation.StartProducer(new OutgoingMessage(TestSystem, UniqueDestination()), new DictionaryHeaderCarrier(copy)))
        {
        }

        Assert.Equal(["keep"], headers.Keys);
        Assert.Equal(["keep"], copy.Keys);
    }

    /// <summary>An SDK processor that sets a tag on each span when it starts, as an enriching processor would.</summary>
    private sealed class TagOnStart(string key, string value) : BaseProcessor<Activity>
    {
        public override void OnStart(Activity data) => data.SetTag(key, value);
    }

    /// <summary>An SDK sampler that drops every span and keeps what it was asked about spans of one destination.</summary>
    private sealed class DroppingSampler(string destination) : Sampler
    {
        public ConcurrentQueue<(string Span, Dictionary<string, object?> Tags)> Seen { get; } = new();

        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
        {
            if (samplingParameters.Name.EndsWith(destination, StringComparison.Ordinal))
            {
                Seen.Enqueue((samplingParameters.Name, (samplingParameters.Tags ?? []).ToDictionary(static t => t.Key, static t => t.Value)));
            }

            return new SamplingResult(SamplingDecision.Drop);
        }
    }

    private static void AssertNothingListensToTheLibrary() =>
        Assert.False(
            MessagingTelemetry.Source.HasListeners(),
            "An ActivityListener on the 'Messaging' source is still registered (leaked by another test?); this test needs none.");
}

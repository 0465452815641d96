using System.Collections.Concurrent;
using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using Xunit;
using static Messaging.Tests.Core.CoreTestSupport;

namespace Messaging.Tests.Core;

// The ambient context must survive ConfigureAwait(false) continuations, as in handler code.
#pragma warning disable xUnit1030

/// <summary>
/// The two baggage models of .NET inside a handler: OpenTelemetry's <see cref="Baggage.Current"/> and
/// <see cref="Activity.Baggage"/> (what the runtime's propagator reads for HttpClient). Both hold exactly the
/// message's baggage, a nested publish carries what the handler changed through either, and nothing reaches the next
/// message through either.
/// </summary>
public sealed class BaggageBridgeTests
{
    private const string MessageBaggage = "tenant=acme%20corp+1,user=bob,drop.me=1";

    [Fact]
    public void Inside_a_scope_both_APIs_hold_exactly_the_message_baggage()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);

        using (var scope = Instrumentation().StartConsumer(Incoming(destination, RemoteContext(), MessageBaggage)))
        {
            var expected = Expected(("tenant", "acme corp+1"), ("user", "bob"), ("drop.me", "1"));
            Assert.Equal(expected, Contents(Baggage.Current));
            Assert.Same(scope.Activity, Activity.Current);
            Assert.Equal(expected, ActivityContents(Activity.Current!));
            Assert.Equal("acme corp+1", Activity.Current!.GetBaggageItem("tenant"));
        }

        Assert.Null(Activity.Current);
        Assert.Equal(0, Baggage.Current.Count);
    }

    [Fact]
    public void Members_changed_through_the_activity_API_are_what_a_nested_publish_carries()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        var instrumentation = Instrumentation();

        using (instrumentation.StartConsumer(Incoming(destination, RemoteContext(), MessageBaggage)))
        {
            var span = Activity.Current!;
            span.SetBaggage("tenant", "changed");
            span.SetBaggage("drop.me", null);
            span.AddBaggage("added", "a;b,c");

            // A span the handler starts inherits the consumer span's baggage and can add its own.
            using var child = AmbientSourceChild("handler work");
            child.AddBaggage("from.child", "1");

            Assert.Equal(
                Expected(("tenant", "changed"), ("user", "bob"), ("added", "a;b,c"), ("from.child", "1")),
                PublishedBaggage(instrumentation, destination));
        }
    }

    [Fact]
    public void Members_changed_through_Baggage_Current_are_what_a_nested_publish_carries()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        var instrumentation = Instrumentation();

        using (instrumentation.StartConsumer(Incoming(destination, RemoteContext(), MessageBaggage)))
        {
            Baggage.SetBaggage("tenant", "changed");
            Baggage.SetBaggage("added", "ü%");
            MessagingBaggage.Remove("drop.me");

            // The copy on the activity is unchanged, so it must not bring the removed member back.
            Assert.Equal("1", Activity.Current!.GetBaggageItem("drop.me"));
            Assert.Equal(
                Expected(("tenant", "changed"), ("user", "bob"), ("added", "ü%")),
                PublishedBaggage(instrumentation, destination));
        }
    }

    [Fact]
    public void A_member_changed_through_both_APIs_takes_the_value_of_Baggage_Current_and_removals_through_either_hold()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        var instrumentation = Instrumentation();

        using (instrumentation.StartConsumer(Incoming(destination, RemoteContext(), MessageBaggage)))
        {
            Activity.Current!.SetBaggage("tenant", "from-activity");
            Baggage.SetBaggage("tenant", "from-otel");
            Activity.Current.SetBaggage("user", null);
            Baggage.RemoveBaggage("drop.me");

            Assert.Equal(Expected(("tenant", "from-otel")), PublishedBaggage(instrumentation, destination));
        }
    }

    [Fact]
    public void Outside_a_handler_both_APIs_are_merged_without_duplicates_and_the_outbound_policy_applies_to_both()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        var instrumentation = Instrumentation(o => o.OutboundBaggage.DeniedKeys.Add("secret.*"));

        // As ASP.NET Core leaves it without OpenTelemetry's instrumentation: baggage on the request's activity.
        using var request = AmbientSource.StartRoot("request");
        request.AddBaggage("shared", "from-parent");
        request.AddBaggage("secret.token", "t");
        using var child = AmbientSourceChild("controller");
        child.AddBaggage("shared", "from-child");
        child.AddBaggage("only.activity", "1");
        Baggage.Current = Bag(("only.otel", "2"), ("SHARED", "from-otel"), ("secret.other", "s"));
        try
        {
            var headers = new Dictionary<string, object?>(StringComparer.Ordinal);
            instrumentation.StartProducer(new OutgoingMessage(TestSystem, destination), new DictionaryHeaderCarrier(headers)).Dispose();

            var header = Assert.IsType<string>(headers["baggage"]);
            Assert.Equal(3, header.Split(',').Length);
            Assert.Equal(Expected(("only.activity", "1"), ("only.otel", "2"), ("SHARED", "from-otel")), Decode(instrumentation, headers));
        }
        finally
        {
            Baggage.Current = default;
        }
    }

    [Fact]
    public void The_activity_chain_alone_is_carried_with_the_nearest_value_winning()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        var instrumentation = Instrumentation();
        using var request = AmbientSource.StartRoot("request");
        request.AddBaggage("k", "parent");
        request.AddBaggage("p", "1");
        using var child = AmbientSourceChild("child");
        child.AddBaggage("k", "child");

        Assert.Equal(Expected(("k", "child"), ("p", "1")), PublishedBaggage(instrumentation, destination));
    }

    [Fact]
    public async Task No_message_sees_another_messages_baggage_through_either_API_at_concurrency_16()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        var instrumentation = Instrumentation();
        const int flows = 16;
        const int perFlow = 50;
        var failures = new ConcurrentQueue<string>();
        var published = 0;

        await Task.WhenAll(Enumerable.Range(0, flows).Select(flow => Task.Run(async () =>
        {
            for (var i = 0; i < perFlow; i++)
            {
                var id = $"{flow}-{i}";
                var scope = instrumentation.StartConsumer(Incoming(destination, RemoteContext(), $"msg={id},flow={flow}"));
                try
                {
                    await Task.Yield();
                    var expected = Expected(("msg", id), ("flow", flow.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                    Check(failures, id, "Baggage.Current", expected, Contents(Baggage.Current));
                    Check(failures, id, "Activity.Baggage", expected, ActivityContents(Activity.Current!));

                    // Each handler writes through both APIs: none of it may reach another message.
                    Baggage.SetBaggage("otel." + id, "x");
                    Activity.Current!.AddBaggage("activity." + id, "y");
                    await Task.Yield();
                    var sent = PublishedBaggage(instrumentation, destination);
                    Check(failures, id, "published", new SortedDictionary<string, string>(expected, StringComparer.Ordinal)
                    {
                        ["otel." + id] = "x",
                        ["activity." + id] = "y",
                    }, sent);
                    Interlocked.Increment(ref published);
                }
                finally
                {
                    scope.Dispose();
                }

                if (Activity.Current is not null || Baggage.Current.Count != 0)
                {
                    failures.Enqueue($"{id}: context left behind after the scope");
                }
            }
        })));

        Assert.Empty(failures);
        Assert.Equal(flows * perFlow, published);
    }

    [Fact]
    public void The_HTTP_propagator_writes_one_W3C_baggage_header_of_both_APIs_with_the_outbound_policy_applied()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        var instrumentation = Instrumentation(o => o.OutboundBaggage.DeniedKeys.Add("secret.*"));
        var propagator = instrumentation.CreateHttpPropagator();

        using (instrumentation.StartConsumer(Incoming(destination, RemoteContext(), "tenant=a%2Bb%25c%3Bd%2Ce,secret.token=t")))
        {
            Activity.Current!.AddBaggage("from.activity", "1");
            Baggage.SetBaggage("from.otel", "ü");
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            propagator.Inject(Activity.Current, headers, static (c, n, v) => ((Dictionary<string, string>)c!)[n] = v);

            Assert.Equal(["baggage", "traceparent"], headers.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(Activity.Current.Id, headers["traceparent"]);
            var carrier = new DictionaryHeaderCarrier(headers.ToDictionary(h => h.Key, h => (object?)h.Value));
            Assert.Equal(
                Expected(("tenant", "a+b%c;d,e"), ("from.activity", "1"), ("from.otel", "ü")),
                Contents(instrumentation.Extract(carrier).Baggage));
        }
    }

    [Fact]
    public void The_policy_propagator_injects_both_APIs_baggage_with_the_outbound_policy_through_the_inner_propagator()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        var instrumentation = Instrumentation(o => o.OutboundBaggage.DeniedKeys.Add("secret.*"));
        var propagator = instrumentation.CreatePolicyPropagator();

        using (instrumentation.StartConsumer(Incoming(destination, RemoteContext(), "tenant=acme,secret.token=t")))
        {
            Activity.Current!.AddBaggage("from.activity", "1");
            var headers = new Dictionary<string, object?>(StringComparer.Ordinal);
            var carrier = new DictionaryHeaderCarrier(headers);

            // As OpenTelemetry's instrumentations call it: the current span's context and Baggage.Current.
            propagator.Inject(new PropagationContext(Activity.Current.Context, Baggage.Current), (IHeaderCarrier)carrier, static (c, n, v) => c.SetValue(n, v));

            Assert.Equal(["baggage", "traceparent"], headers.Keys.Order(StringComparer.Ordinal));
            var extracted = propagator.Extract(default, (IHeaderCarrier)carrier, static (c, n) => c.GetValues(n));
            Assert.Equal(Activity.Current.TraceId, extracted.ActivityContext.TraceId);
            Assert.Equal(Expected(("tenant", "acme"), ("from.activity", "1")), Contents(extracted.Baggage));
            Assert.Equal(instrumentation.Propagator.Fields, propagator.Fields);
        }
    }

    private static void Check(ConcurrentQueue<string> failures, string id, string what, SortedDictionary<string, string> expected, SortedDictionary<string, string> actual)
    {
        if (!expected.SequenceEqual(actual))
        {
            failures.Enqueue($"{id}: {what} was [{string.Join(",", actual)}], expected [{string.Join(",", expected)}]");
        }
    }

    private static Activity AmbientSourceChild(string name) =>
        AmbientSource.Source.StartActivity(name) ?? throw new InvalidOperationException("The ambient source has a listener.");

    private static SortedDictionary<string, string> Expected(params (string Key, string Value)[] items) =>
        new(items.ToDictionary(i => i.Key, i => i.Value), StringComparer.Ordinal);

    private static SortedDictionary<string, string> ActivityContents(Activity activity)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in activity.Baggage)
        {
            // Duplicates would show as a failed Add.
            result.Add(key, value!);
        }

        return result;
    }

    private static SortedDictionary<string, string> PublishedBaggage(MessagingInstrumentation instrumentation, string destination)
    {
        var headers = new Dictionary<string, object?>(StringComparer.Ordinal);
        instrumentation.StartProducer(new OutgoingMessage(TestSystem, destination), new DictionaryHeaderCarrier(headers)).Dispose();
        return Decode(instrumentation, headers);
    }

    private static SortedDictionary<string, string> Decode(MessagingInstrumentation instrumentation, Dictionary<string, object?> headers) =>
        Contents(instrumentation.Extract(new DictionaryHeaderCarrier(headers)).Baggage);
}

/// <summary>Without a listener no span is created; a context-only activity carries the message's context when it has baggage.</summary>
[Collection(ListenerSensitiveTests.Name)]
public sealed class BaggageBridgeWithoutListenerTests
{
    [Fact]
    public void Without_a_listener_a_message_with_baggage_gets_a_context_only_activity_holding_its_context_and_baggage()
    {
        var destination = UniqueDestination();
        var remote = RemoteContext();
        Assert.False(MessagingTelemetry.Source.HasListeners());
        var message = Incoming(destination, ("traceparent", TraceParent(remote)), ("tracestate", "vendor=v1"), ("baggage", "tenant=acme,k=%E2%9C%93"));

        using (var scope = Instrumentation().StartConsumer(message))
        {
            Assert.Null(scope.Activity);
            var current = Assert.IsType<Activity>(Activity.Current);
            Assert.Equal(remote.TraceId, current.TraceId);
            Assert.Equal(remote.SpanId, current.ParentSpanId);
            Assert.Equal("vendor=v1", current.TraceStateString);
            Assert.Equal(ActivityIdFormat.W3C, current.IdFormat);
            Assert.Equal("acme", current.GetBaggageItem("tenant"));
            Assert.Equal("✓", current.GetBaggageItem("k"));
            Assert.Equal(2, current.Baggage.Count());
            Assert.Equal("✓", Baggage.Current.GetBaggage("k"));
        }

        Assert.Null(Activity.Current);
        Assert.Equal(0, Baggage.Current.Count);
    }

    [Fact]
    public void Without_a_listener_a_message_without_baggage_gets_no_activity()
    {
        var destination = UniqueDestination();
        Assert.False(MessagingTelemetry.Source.HasListeners());

        using (var scope = Instrumentation().StartConsumer(Incoming(destination, RemoteContext())))
        {
            Assert.Null(scope.Activity);
            Assert.Null(Activity.Current);
        }
    }
}

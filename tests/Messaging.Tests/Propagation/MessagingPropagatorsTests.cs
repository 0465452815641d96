using System.Diagnostics;
using Messaging.Propagation;
using OpenTelemetry.Context.Propagation;
using Xunit;
using static Messaging.Tests.Propagation.PropagationTestHelpers;
using B3Propagator = Messaging.Propagation.B3Propagator;

namespace Messaging.Tests.Propagation;

public sealed class MessagingPropagatorsTests
{
    [Fact]
    public void Environment_variable_name_is_otel_propagators()
    {
        Assert.Equal("OTEL_PROPAGATORS", MessagingPropagators.EnvironmentVariable);
    }

    [Fact]
    public void Default_is_w3c_trace_context_and_baggage()
    {
        var propagator = MessagingPropagators.CreateDefault();

        Assert.Equal(new HashSet<string> { "traceparent", "tracestate", "baggage" }, propagator.Fields);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(" , ,")]
    public void Parse_blank_gives_the_default(string? value)
    {
        var propagator = MessagingPropagators.Parse(value);

        Assert.Equal(MessagingPropagators.CreateDefault().Fields, propagator.Fields);
    }

    [Theory]
    [InlineData("tracecontext", "traceparent,tracestate")]
    [InlineData("baggage", "baggage")]
    [InlineData("b3", "b3")]
    [InlineData("b3multi", "X-B3-Flags,X-B3-Sampled,X-B3-SpanId,X-B3-TraceId")]
    [InlineData("none", "")]
    [InlineData("tracecontext,baggage,b3", "b3,baggage,traceparent,tracestate")]
    [InlineData(" TraceContext , BAGGAGE ", "baggage,traceparent,tracestate")] // trimmed, case-insensitive
    [InlineData("b3,b3,B3", "b3")] // duplicates once
    [InlineData("none,b3", "b3")] // none is ignored alongside other names
    [InlineData("tracecontext,none,baggage", "baggage,traceparent,tracestate")]
    [InlineData("none,none", "")]
    [InlineData("b3,b3multi", "X-B3-Flags,X-B3-Sampled,X-B3-SpanId,X-B3-TraceId,b3")]
    public void Parse_names(string value, string expectedFields)
    {
        var propagator = MessagingPropagators.Parse(value);

        Assert.Equal(
            expectedFields.Split(',', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal),
            propagator.Fields!.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("jaeger", "jaeger")]
    [InlineData("tracecontext,xray", "xray")]
    [InlineData("tracecontext, B3 multi ", "B3 multi")]
    [InlineData("w3c", "w3c")]
    public void Parse_unknown_name_throws_naming_the_value_and_the_supported_names(string value, string offending)
    {
        var exception = Assert.Throws<ArgumentException>(() => MessagingPropagators.Parse(value));

        Assert.Contains($"'{offending}'", exception.Message, StringComparison.Ordinal);
        foreach (var name in new[] { "tracecontext", "baggage", "b3", "b3multi", "none" })
        {
            Assert.Contains(name, exception.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void From_environment_parses_the_current_variable()
    {
        // Reads the process environment without modifying it (no state leaks into other tests).
        var expected = MessagingPropagators.Parse(Environment.GetEnvironmentVariable(MessagingPropagators.EnvironmentVariable));

        Assert.Equal(expected.Fields, MessagingPropagators.FromEnvironment().Fields);
    }

    [Fact]
    public void None_reads_and_writes_nothing()
    {
        var propagator = MessagingPropagators.Parse("none");
        var context = new PropagationContext(Context(), Bag(("k", "v")));

        Assert.Empty(Inject(propagator, context));
        Assert.Equal(context, propagator.Extract(context, Carrier(("traceparent", ValidTraceParent)), Getter));
        Assert.Equal(default, Extract(propagator, ("traceparent", ValidTraceParent)));
    }

    [Fact]
    public void Default_round_trips_trace_context_and_baggage()
    {
        var propagator = MessagingPropagators.CreateDefault();
        var context = new PropagationContext(Context(flags: ActivityTraceFlags.None, traceState: "v=1"), Bag(("user", "a b+c")));

        var headers = Inject(propagator, context);
        var extracted = propagator.Extract(default, new DictionaryHeaderCarrier(headers), Getter);

        Assert.Equal($"00-{TraceId}-{SpanId}-00", headers["traceparent"]);
        Assert.Equal("v=1", headers["tracestate"]);
        Assert.Equal("user=a%20b+c", headers["baggage"]);
        Assert.Equal(context, extracted);
    }

    [Fact]
    public void Composite_injects_every_format()
    {
        var propagator = MessagingPropagators.Parse("tracecontext,baggage,b3,b3multi");

        var headers = Inject(propagator, new PropagationContext(Context(), Bag(("k", "v"))));

        Assert.Equal(
            ["X-B3-Sampled", "X-B3-SpanId", "X-B3-TraceId", "b3", "baggage", "traceparent"],
            headers.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Composite_extract_chains_and_the_first_valid_trace_context_wins()
    {
        const string otherTraceId = "0af7651916cd43dd8448eb211c80319c";
        var headers = new (string, object?)[]
        {
            ("traceparent", ValidTraceParent),
            ("b3", otherTraceId + "-" + SpanId + "-1"),
            ("baggage", "k=v"),
        };

        var w3cFirst = Extract(MessagingPropagators.Parse("tracecontext,b3,baggage"), headers);
        var b3First = Extract(MessagingPropagators.Parse("b3,tracecontext,baggage"), headers);

        Assert.Equal(TraceId, w3cFirst.ActivityContext.TraceId.ToHexString());
        Assert.Equal(otherTraceId, b3First.ActivityContext.TraceId.ToHexString());
        Assert.Equal("v", w3cFirst.Baggage.GetBaggage("k"));
        Assert.Equal("v", b3First.Baggage.GetBaggage("k"));
    }

    [Fact]
    public void Composite_falls_through_to_b3_when_traceparent_is_invalid()
    {
        var extracted = Extract(
            MessagingPropagators.Parse("tracecontext,b3multi"),
            ("traceparent", "ff-" + TraceId + "-" + SpanId + "-01"),
            ("X-B3-TraceId", TraceId),
            ("X-B3-SpanId", SpanId),
            ("X-B3-Sampled", "1"));

        Assert.Equal(Context(), extracted.ActivityContext);
    }

    [Fact]
    public void Composite_fields_are_the_union_and_read_only()
    {
        var propagator = new CompositePropagator(new W3CTraceContextPropagator(), new W3CTraceContextPropagator(), new B3Propagator());

        Assert.Equal(3, propagator.Fields.Count);
        Assert.ThrowsAny<NotSupportedException>(() => propagator.Fields.Add("x"));
    }

    [Fact]
    public void Instrumentation_extracts_alike_through_bundled_foreign_and_mixed_propagators()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var spanId = ActivitySpanId.CreateRandom();
        var headers = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["traceparent"] = System.Text.Encoding.UTF8.GetBytes($"00-{traceId.ToHexString()}-{spanId.ToHexString()}-01"),
            ["baggage"] = System.Text.Encoding.UTF8.GetBytes("tenant=acme,cohort=b"),
        };
        var propagators = new TextMapPropagator[]
        {
            MessagingPropagators.Parse("tracecontext,baggage"),
            MessagingPropagators.Parse("b3,tracecontext,baggage"),
            new CompositePropagator(new TraceContextPropagator(), new W3CBaggagePropagator()),
            new CompositeTextMapPropagator([new TraceContextPropagator(), new BaggagePropagator()]),
        };

        foreach (var propagator in propagators)
        {
            var context = new MessagingInstrumentation(new MessagingOptions { Propagator = propagator }).Extract(new DictionaryHeaderCarrier(headers));

            Assert.Equal(traceId, context.ActivityContext.TraceId);
            Assert.Equal(spanId, context.ActivityContext.SpanId);
            Assert.Equal(ActivityTraceFlags.Recorded, context.ActivityContext.TraceFlags);
            Assert.Equal("acme", context.Baggage.GetBaggage("tenant"));
            Assert.Equal("b", context.Baggage.GetBaggage("cohort"));
        }
    }
}

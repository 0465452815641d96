using System.Diagnostics;
using OpenTelemetry.Context.Propagation;
using Xunit;
using static Messaging.Tests.Propagation.PropagationTestHelpers;
using B3Propagator = Messaging.Propagation.B3Propagator;

namespace Messaging.Tests.Propagation;

public sealed class B3PropagatorTests
{
    private const string ShortTraceId = "a3ce929d0e0e4736";
    private const string PaddedTraceId = "0000000000000000" + ShortTraceId;
    private const string ParentSpanId = "05e3ac9a4f6e3b90";
    private const string OtherTraceId = "0af7651916cd43dd8448eb211c80319c";

    private static readonly B3Propagator Single = new();
    private static readonly B3Propagator Multi = new(singleHeader: false);

    [Fact]
    public void Fields_follow_the_inject_format()
    {
        Assert.Equal(new HashSet<string> { "b3" }, Single.Fields);
        Assert.Equal(new HashSet<string> { "X-B3-TraceId", "X-B3-SpanId", "X-B3-Sampled", "X-B3-Flags" }, Multi.Fields);
        Assert.True(Single.SingleHeaderFormat);
        Assert.False(Multi.SingleHeaderFormat);
    }

    [Theory]
    [InlineData(TraceId + "-" + SpanId + "-1", TraceId, true)]
    [InlineData(TraceId + "-" + SpanId + "-0", TraceId, false)]
    [InlineData(TraceId + "-" + SpanId + "-d", TraceId, true)] // debug implies sampled
    [InlineData(TraceId + "-" + SpanId, TraceId, false)] // deferred
    [InlineData(TraceId + "-" + SpanId + "-1-" + ParentSpanId, TraceId, true)]
    [InlineData(TraceId + "-" + SpanId + "-0-" + ParentSpanId, TraceId, false)]
    [InlineData(ShortTraceId + "-" + SpanId + "-1", PaddedTraceId, true)] // 64-bit id left-padded
    [InlineData(ShortTraceId + "-" + SpanId, PaddedTraceId, false)]
    public void Extract_single_header(string b3, string expectedTraceId, bool recorded)
    {
        var context = Extract(Single, ("b3", b3)).ActivityContext;

        Assert.Equal(expectedTraceId, context.TraceId.ToHexString());
        Assert.Equal(SpanId, context.SpanId.ToHexString());
        Assert.Equal(recorded ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None, context.TraceFlags);
        Assert.True(context.IsRemote);
        Assert.Null(context.TraceState);
    }

    [Theory]
    [InlineData("0")] // sampling-only forms are tolerated and carry no context
    [InlineData("1")]
    [InlineData("d")]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("4BF92F3577B34DA6A3CE929D0E0E4736-" + SpanId + "-1")] // upper-case
    [InlineData(TraceId + "-00F067AA0BA902B7-1")]
    [InlineData("00000000000000000000000000000000-" + SpanId + "-1")] // all-zero trace id
    [InlineData("0000000000000000-" + SpanId + "-1")] // all-zero 64-bit trace id
    [InlineData(TraceId + "-0000000000000000-1")] // all-zero span id
    [InlineData(TraceId + "-" + SpanId + "-x")] // unknown sampling state
    [InlineData(TraceId + "-" + SpanId + "-true")]
    [InlineData(TraceId + "-" + SpanId + "-")]
    [InlineData(TraceId + "-" + SpanId + "-1-")]
    [InlineData(TraceId + "-" + SpanId + "-1-bad")] // malformed parent span id
    [InlineData(TraceId + "-" + SpanId + "-1-" + ParentSpanId + "-extra")]
    [InlineData("4bf92f3577b34da6a3ce-" + SpanId + "-1")] // 20 hex: neither 16 nor 32
    [InlineData(TraceId + "-00f067aa0ba902b-1")] // 15 hex span id
    [InlineData(" " + TraceId + "-" + SpanId + "-1")]
    [InlineData(TraceId + "--" + SpanId)]
    public void Extract_single_header_malformed_gives_no_context(string b3)
    {
        var incoming = new PropagationContext(default, Bag(("k", "v")));

        var result = Single.Extract(incoming, Carrier(("b3", b3)), Getter);

        Assert.Equal(incoming, result);
    }

    [Theory]
    [InlineData("1", null, true)]
    [InlineData("0", null, false)]
    [InlineData(null, null, false)] // absent: deferred
    [InlineData(null, "1", true)] // debug flag
    [InlineData("0", "1", true)]
    [InlineData("1", "0", true)]
    [InlineData("true", null, true)] // legacy boolean
    [InlineData("False", null, false)]
    [InlineData("d", null, true)]
    public void Extract_multi_headers(string? sampled, string? flags, bool recorded)
    {
        var headers = new List<(string, object?)> { ("X-B3-TraceId", TraceId), ("X-B3-SpanId", SpanId), ("X-B3-ParentSpanId", ParentSpanId) };
        if (sampled is not null)
        {
            headers.Add(("X-B3-Sampled", sampled));
        }

        if (flags is not null)
        {
            headers.Add(("X-B3-Flags", flags));
        }

        var context = Extract(Multi, [.. headers]).ActivityContext;

        Assert.Equal(TraceId, context.TraceId.ToHexString());
        Assert.Equal(SpanId, context.SpanId.ToHexString());
        Assert.Equal(recorded ? ActivityTraceFlags.Recorded : ActivityTraceFlags.None, context.TraceFlags);
        Assert.True(context.IsRemote);
    }

    [Fact]
    public void Extract_multi_headers_matches_names_case_insensitively_and_pads_64_bit_ids()
    {
        var context = Extract(Single, ("x-b3-traceid", ShortTraceId), ("x-b3-spanid", SpanId), ("x-b3-sampled", "1")).ActivityContext;

        Assert.Equal(PaddedTraceId, context.TraceId.ToHexString());
        Assert.Equal(ActivityTraceFlags.Recorded, context.TraceFlags);
    }

    [Theory]
    [InlineData("X-B3-TraceId", "xyz")]
    [InlineData("X-B3-TraceId", "4BF92F3577B34DA6A3CE929D0E0E4736")]
    [InlineData("X-B3-TraceId", "00000000000000000000000000000000")]
    [InlineData("X-B3-SpanId", "0000000000000000")]
    [InlineData("X-B3-SpanId", "")]
    [InlineData("X-B3-Sampled", "2")]
    [InlineData("X-B3-Sampled", "yes")]
    [InlineData("X-B3-Flags", "x")]
    [InlineData("x-b3-sampled", "1")] // duplicated (case variant) header
    public void Extract_multi_headers_malformed_gives_no_context(string name, string value)
    {
        var raw = Raw(("X-B3-TraceId", TraceId), ("X-B3-SpanId", SpanId), ("X-B3-Sampled", "1"));
        raw[name] = value;

        var result = Multi.Extract(default, new DictionaryHeaderCarrier(raw), Getter);

        Assert.Equal(default, result);
    }

    [Fact]
    public void Extract_multi_headers_requires_both_ids()
    {
        Assert.Equal(default, Extract(Multi, ("X-B3-TraceId", TraceId), ("X-B3-Sampled", "1")));
        Assert.Equal(default, Extract(Multi, ("X-B3-SpanId", SpanId), ("X-B3-Sampled", "1")));
    }

    [Fact]
    public void Extract_prefers_the_single_header_over_multi_headers()
    {
        var context = Extract(
            Multi,
            ("b3", TraceId + "-" + SpanId + "-0"),
            ("X-B3-TraceId", OtherTraceId),
            ("X-B3-SpanId", ParentSpanId),
            ("X-B3-Sampled", "1")).ActivityContext;

        Assert.Equal(TraceId, context.TraceId.ToHexString());
        Assert.Equal(ActivityTraceFlags.None, context.TraceFlags);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("malformed")]
    public void Extract_falls_back_to_multi_headers_when_the_single_header_has_no_context(string b3)
    {
        var context = Extract(
            Single,
            ("b3", b3),
            ("X-B3-TraceId", OtherTraceId),
            ("X-B3-SpanId", ParentSpanId)).ActivityContext;

        Assert.Equal(OtherTraceId, context.TraceId.ToHexString());
        Assert.Equal(ParentSpanId, context.SpanId.ToHexString());
    }

    [Fact]
    public void Extract_keeps_an_already_valid_context_and_passes_baggage_through()
    {
        var valid = new PropagationContext(Context(traceId: OtherTraceId), Bag(("k", "v")));
        var empty = new PropagationContext(default, Bag(("k", "v")));

        Assert.Equal(valid, Single.Extract(valid, Carrier(("b3", TraceId + "-" + SpanId + "-1")), Getter));
        var extracted = Single.Extract(empty, Carrier(("b3", TraceId + "-" + SpanId + "-1")), Getter);
        Assert.Equal("v", extracted.Baggage.GetBaggage("k"));
        Assert.Equal(TraceId, extracted.ActivityContext.TraceId.ToHexString());
    }

    [Fact]
    public void Extract_rejects_duplicated_single_header()
    {
        var result = Extract(Single, ("b3", TraceId + "-" + SpanId + "-1"), ("B3", TraceId + "-" + SpanId + "-1"));

        Assert.Equal(default, result);
    }

    [Theory]
    [InlineData(ActivityTraceFlags.Recorded, "1")]
    [InlineData(ActivityTraceFlags.None, "0")]
    [InlineData((ActivityTraceFlags)0x02, "0")]
    [InlineData((ActivityTraceFlags)0x03, "1")]
    public void Inject_single_header_by_default(ActivityTraceFlags flags, string sampled)
    {
        var headers = Inject(Single, new PropagationContext(Context(flags: flags, traceState: "a=1"), Bag(("k", "v"))));

        Assert.Equal(new Dictionary<string, object?> { ["b3"] = $"{TraceId}-{SpanId}-{sampled}" }, headers);
    }

    [Theory]
    [InlineData(ActivityTraceFlags.Recorded, "1")]
    [InlineData(ActivityTraceFlags.None, "0")]
    public void Inject_multi_headers_on_request_and_never_parent_span_id(ActivityTraceFlags flags, string sampled)
    {
        var headers = Inject(Multi, new PropagationContext(Context(flags: flags), default));

        Assert.Equal(
            new Dictionary<string, object?> { ["X-B3-TraceId"] = TraceId, ["X-B3-SpanId"] = SpanId, ["X-B3-Sampled"] = sampled },
            headers);
    }

    [Fact]
    public void Inject_writes_nothing_for_an_invalid_context()
    {
        Assert.Empty(Inject(Single, new PropagationContext(default, Bag(("k", "v")))));
        Assert.Empty(Inject(Multi, default));
    }

    [Theory]
    [InlineData(true, ActivityTraceFlags.Recorded)]
    [InlineData(true, ActivityTraceFlags.None)]
    [InlineData(false, ActivityTraceFlags.Recorded)]
    [InlineData(false, ActivityTraceFlags.None)]
    public void Round_trip(bool singleHeader, ActivityTraceFlags flags)
    {
        var propagator = new B3Propagator(singleHeader);
        var original = Context(flags: flags);

        var headers = Inject(propagator, new PropagationContext(original, default));
        var extracted = propagator.Extract(default, new DictionaryHeaderCarrier(headers), Getter).ActivityContext;

        Assert.Equal(original, extracted);
    }
}

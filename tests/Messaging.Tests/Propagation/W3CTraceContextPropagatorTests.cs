using System.Diagnostics;
using System.Text;
using Messaging.Propagation;
using OpenTelemetry.Context.Propagation;
using Xunit;
using static Messaging.Tests.Propagation.PropagationTestHelpers;

namespace Messaging.Tests.Propagation;

public sealed class W3CTraceContextPropagatorTests
{
    private const string Ids = TraceId + "-" + SpanId;

    private static readonly W3CTraceContextPropagator Propagator = new();

    [Fact]
    public void Fields_are_traceparent_and_tracestate()
    {
        Assert.Equal(new HashSet<string> { "traceparent", "tracestate" }, Propagator.Fields);
    }

    [Theory]
    [InlineData("00-" + Ids + "-01", 0x01)]
    [InlineData("00-" + Ids + "-00", 0x00)]
    [InlineData("00-" + Ids + "-02", 0x02)] // random bit
    [InlineData("00-" + Ids + "-03", 0x03)] // sampled + random
    [InlineData("00-" + Ids + "-09", 0x01)] // unknown bit 3 zeroed
    [InlineData("00-" + Ids + "-04", 0x00)] // unknown bit 2 zeroed
    [InlineData("00-" + Ids + "-ff", 0x03)] // every unknown bit zeroed
    [InlineData("00-" + Ids + "-fe", 0x02)]
    public void Extract_valid_version_00_keeps_sampled_and_random_flags_only(string traceParent, int expectedFlags)
    {
        var context = Extract(Propagator, ("traceparent", traceParent)).ActivityContext;

        Assert.Equal(TraceId, context.TraceId.ToHexString());
        Assert.Equal(SpanId, context.SpanId.ToHexString());
        Assert.Equal((ActivityTraceFlags)expectedFlags, context.TraceFlags);
        Assert.True(context.IsRemote);
    }

    [Theory]
    [InlineData("01-" + Ids + "-01", 0x01)]
    [InlineData("02-" + Ids + "-03-", 0x03)]
    [InlineData("cc-" + Ids + "-01-what-the-future-will-be-like", 0x01)]
    [InlineData("fe-" + Ids + "-00-0123456789abcdef", 0x00)]
    [InlineData("0a-" + Ids + "-ff-x", 0x03)]
    public void Extract_accepts_higher_versions_and_ignores_extra_fields(string traceParent, int expectedFlags)
    {
        var context = Extract(Propagator, ("traceparent", traceParent)).ActivityContext;

        Assert.Equal(TraceId, context.TraceId.ToHexString());
        Assert.Equal(SpanId, context.SpanId.ToHexString());
        Assert.Equal((ActivityTraceFlags)expectedFlags, context.TraceFlags);
    }

    [Theory]
    [InlineData("01-" + Ids + "-01")]
    [InlineData("cc-" + Ids + "-01-what-the-future-will-be-like")]
    public void Higher_version_is_re_emitted_as_version_00(string traceParent)
    {
        var extracted = Extract(Propagator, ("traceparent", traceParent));

        var headers = Inject(Propagator, extracted);

        Assert.Equal("00-" + Ids + "-01", headers["traceparent"]);
    }

    [Theory]
    [InlineData("ff-" + Ids + "-01")] // version ff is forbidden
    [InlineData("ff-" + Ids + "-01-extra")]
    [InlineData("00-" + Ids + "-01-")] // version 00 must be exactly 55 characters
    [InlineData("00-" + Ids + "-01-extra")]
    [InlineData("00-" + Ids + "-01 ")]
    [InlineData(" 00-" + Ids + "-01")]
    [InlineData("00-" + Ids + "-1")] // too short
    [InlineData("01-" + Ids + "-1")] // higher version, still too short
    [InlineData("01-" + Ids + "-01x")] // higher version: char 55 must be '-'
    [InlineData("00-4BF92F3577B34DA6A3CE929D0E0E4736-" + SpanId + "-01")] // upper-case trace id
    [InlineData("00-" + TraceId + "-00F067AA0BA902B7-01")] // upper-case span id
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e473A-" + SpanId + "-01")] // one upper-case char
    [InlineData("00-" + Ids + "-0A")] // upper-case flags
    [InlineData("0A-" + Ids + "-01")] // upper-case version
    [InlineData("0g-" + Ids + "-01")] // non-hex version
    [InlineData("00-00000000000000000000000000000000-" + SpanId + "-01")] // all-zero trace id
    [InlineData("00-" + TraceId + "-0000000000000000-01")] // all-zero span id
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e473g-" + SpanId + "-01")] // non-hex trace id
    [InlineData("00-" + TraceId + "-00f067aa0ba902bz-01")] // non-hex span id
    [InlineData("00-" + Ids + "-0g")] // non-hex flags
    [InlineData("00_" + TraceId + "-" + SpanId + "-01")] // wrong delimiter
    [InlineData("00-" + TraceId + "_" + SpanId + "-01")]
    [InlineData("00-" + TraceId + "-" + SpanId + "_01")]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e47-36" + SpanId + "-01")] // misplaced dash
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("00")]
    [InlineData("not a traceparent at all, but it is long enough to reach 55 chars")]
    public void Extract_rejects_invalid_traceparent(string traceParent)
    {
        var result = Extract(Propagator, ("traceparent", traceParent), ("tracestate", "congo=t61rcWkgMzE"));

        Assert.Equal(default, result.ActivityContext);
        Assert.Null(result.ActivityContext.TraceState); // tracestate is dropped with an invalid traceparent
    }

    [Fact]
    public void Extract_rejects_duplicated_traceparent_even_when_identical()
    {
        var result = Extract(
            Propagator,
            ("traceparent", ValidTraceParent),
            ("TraceParent", ValidTraceParent));

        Assert.Equal(default, result.ActivityContext);
    }

    [Fact]
    public void Extract_reads_traceparent_header_name_case_insensitively()
    {
        var context = Extract(Propagator, ("TRACEPARENT", ValidTraceParent)).ActivityContext;

        Assert.Equal(TraceId, context.TraceId.ToHexString());
    }

    [Fact]
    public void Traceparent_as_utf8_bytes_reads_the_same_as_the_string()
    {
        var fromString = Extract(Propagator, ("traceparent", ValidTraceParent), ("tracestate", "rojo=00f067aa0ba902b7"));
        var fromBytes = Extract(
            Propagator,
            ("traceparent", Encoding.UTF8.GetBytes(ValidTraceParent)),
            ("tracestate", Encoding.UTF8.GetBytes("rojo=00f067aa0ba902b7")));

        Assert.True(IsValid(fromBytes.ActivityContext));
        Assert.Equal(fromString, fromBytes);
    }

    [Fact]
    public void Extract_without_headers_returns_the_incoming_context()
    {
        var incoming = new PropagationContext(default, Bag(("k", "v")));

        var result = Propagator.Extract(incoming, Carrier(), Getter);

        Assert.Equal(incoming, result);
    }

    [Fact]
    public void Extract_keeps_an_already_valid_context_unchanged()
    {
        var incoming = new PropagationContext(Context(traceId: "0af7651916cd43dd8448eb211c80319c"), default);

        var result = Propagator.Extract(incoming, Carrier(("traceparent", ValidTraceParent)), Getter);

        Assert.Equal(incoming, result);
    }

    [Fact]
    public void Extract_passes_the_incoming_baggage_through()
    {
        var incoming = new PropagationContext(default, Bag(("k", "v")));

        var result = Propagator.Extract(incoming, Carrier(("traceparent", ValidTraceParent)), Getter);

        Assert.Equal("v", result.Baggage.GetBaggage("k"));
        Assert.True(IsValid(result.ActivityContext));
    }

    [Fact]
    public void Extract_tolerates_null_values_from_the_getter()
    {
        var result = Propagator.Extract<object?>(default, null, static (_, _) => null);
        var nullItems = Propagator.Extract<object>(default, new object(), static (_, _) => new string[] { null!, null! });
        var nullItemAndValue = Propagator.Extract<object>(default, new object(), static (_, name) =>
            name == "traceparent" ? new[] { null!, ValidTraceParent } : new string[] { null! });

        Assert.Equal(default, result);
        Assert.Equal(default, nullItems);
        Assert.True(IsValid(nullItemAndValue.ActivityContext));
        Assert.Null(nullItemAndValue.ActivityContext.TraceState);
    }

    [Theory]
    [InlineData("congo=t61rcWkgMzE", "congo=t61rcWkgMzE")]
    [InlineData("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")]
    [InlineData(" rojo=1 \t, ,congo=2 ,,", "rojo=1,congo=2")] // OWS and empty members ignored
    [InlineData("a=1,b=2,a=3", "a=1,b=2")] // duplicate key: the first is kept
    [InlineData("tenant@system=v", "tenant@system=v")]
    [InlineData("0tenant@vendor=v", "0tenant@vendor=v")]
    [InlineData("a-b_c*d/e=1", "a-b_c*d/e=1")]
    [InlineData("a= leading space kept", "a= leading space kept")]
    [InlineData("a=x!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~", "a=x!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~")]
    public void Extract_normalises_tracestate(string traceState, string expected)
    {
        var context = Extract(Propagator, ("traceparent", ValidTraceParent), ("tracestate", traceState)).ActivityContext;

        Assert.Equal(expected, context.TraceState);
    }

    [Theory]
    [InlineData("A=1")] // upper-case key
    [InlineData("1a=1")] // simple key must start with a letter
    [InlineData("a@=1")] // empty system id
    [InlineData("@a=1")] // empty tenant id
    [InlineData("t@1a=1")] // system id must start with a letter
    [InlineData("t@abcdefghijklmno=1")] // system id longer than 14
    [InlineData("a@b@c=1")]
    [InlineData("a=")] // empty value
    [InlineData("a")] // no '='
    [InlineData("=1")]
    [InlineData("a=b=c")] // '=' in value
    [InlineData("a=\u00e9")] // non-ASCII value
    [InlineData("a=x\ty")] // tab in value
    [InlineData("good=1,bad key=2")] // one invalid member discards the whole header
    [InlineData("good=1,UPPER=2,other=3")]
    public void Extract_discards_whole_tracestate_with_an_invalid_member_but_keeps_traceparent(string traceState)
    {
        var context = Extract(Propagator, ("traceparent", ValidTraceParent), ("tracestate", traceState)).ActivityContext;

        Assert.True(IsValid(context));
        Assert.Null(context.TraceState);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData(",, ,")]
    public void Extract_treats_empty_tracestate_as_absent(string traceState)
    {
        var context = Extract(Propagator, ("traceparent", ValidTraceParent), ("tracestate", traceState)).ActivityContext;

        Assert.True(IsValid(context));
        Assert.Null(context.TraceState);
    }

    [Fact]
    public void Extract_accepts_keys_and_values_at_their_maximum_length()
    {
        var key = "k" + new string('a', 255);
        var value = new string('v', 200);

        var context = Extract(Propagator, ("traceparent", ValidTraceParent), ("tracestate", key + "=" + value)).ActivityContext;

        // 456 characters: within 512, so the single entry is kept.
        Assert.Equal(key + "=" + value, context.TraceState);
    }

    [Fact]
    public void Extract_rejects_a_key_longer_than_256()
    {
        var traceState = "k" + new string('a', 256) + "=1";

        var context = Extract(Propagator, ("traceparent", ValidTraceParent), ("tracestate", traceState)).ActivityContext;

        Assert.Null(context.TraceState);
    }

    [Fact]
    public void Extract_combines_several_tracestate_values_with_commas()
    {
        var context = Extract(
            Propagator,
            ("traceparent", ValidTraceParent),
            ("tracestate", "rojo=1,congo=2"),
            ("TraceState", "lemon=3")).ActivityContext;

        Assert.Equal("rojo=1,congo=2,lemon=3", context.TraceState);
    }

    [Fact]
    public void Extract_limits_tracestate_to_32_members_dropping_from_the_end()
    {
        var members = Enumerable.Range(0, 40).Select(i => $"k{i}=v{i}").ToArray();

        var context = Extract(Propagator, ("traceparent", ValidTraceParent), ("tracestate", string.Join(",", members))).ActivityContext;

        Assert.Equal(string.Join(",", members.Take(32)), context.TraceState);
    }

    [Fact]
    public void Extract_keeps_exactly_32_members()
    {
        var members = Enumerable.Range(0, 32).Select(i => $"k{i}=v{i}").ToArray();

        var context = Extract(Propagator, ("traceparent", ValidTraceParent), ("tracestate", string.Join(",", members))).ActivityContext;

        Assert.Equal(32, context.TraceState!.Split(',').Length);
    }

    [Fact]
    public void Extract_limits_tracestate_to_512_characters_by_whole_entries()
    {
        // Ten entries of 100 characters: 5 fit (5 * 100 + 4 commas = 504), the sixth would make 605.
        var members = Enumerable.Range(0, 10).Select(i => $"k{i}=" + new string((char)('a' + i), 97)).ToArray();

        var traceState = Extract(Propagator, ("traceparent", ValidTraceParent), ("tracestate", string.Join(",", members))).ActivityContext.TraceState;

        Assert.Equal(string.Join(",", members.Take(5)), traceState);
        Assert.True(traceState!.Length <= 512);
    }

    [Fact]
    public void Extract_keeps_a_tracestate_of_exactly_512_characters()
    {
        // 3 entries of 127 characters and 3 commas (384), then one of 128: exactly 512; "z=1" no longer fits.
        var members = Enumerable.Range(0, 3).Select(i => $"k{i}=" + new string('x', 124)).ToList();
        var exact = string.Join(",", members) + ",";
        exact += "y=" + new string('1', 512 - exact.Length - 2);
        Assert.Equal(512, exact.Length);

        var traceState = Extract(Propagator, ("traceparent", ValidTraceParent), ("tracestate", exact + ",z=1")).ActivityContext.TraceState;

        Assert.Equal(exact, traceState);
    }

    [Fact]
    public void Extract_never_cuts_an_entry_when_the_limit_falls_inside_it()
    {
        // 252 + 1 + 252 = 505 characters fit; the third entry would cross 512 and is dropped whole.
        var first = "a=" + new string('1', 250);
        var second = "b=" + new string('2', 250);
        var third = "c=" + new string('3', 250);

        var traceState = Extract(Propagator, ("traceparent", ValidTraceParent), ("tracestate", $"{first},{second},{third}")).ActivityContext.TraceState;

        Assert.Equal(first + "," + second, traceState);
    }

    [Theory]
    [InlineData(ActivityTraceFlags.Recorded, "01")]
    [InlineData(ActivityTraceFlags.None, "00")] // propagation does not depend on sampling
    [InlineData((ActivityTraceFlags)0x02, "02")]
    [InlineData((ActivityTraceFlags)0x03, "03")]
    [InlineData((ActivityTraceFlags)0xff, "03")] // unknown bits are never written
    public void Inject_writes_version_00_traceparent_with_sampled_and_random_flags(ActivityTraceFlags flags, string expectedFlags)
    {
        var headers = Inject(Propagator, new PropagationContext(Context(flags: flags), default));

        Assert.Equal($"00-{TraceId}-{SpanId}-{expectedFlags}", headers["traceparent"]);
        Assert.False(headers.ContainsKey("tracestate"));
    }

    [Fact]
    public void Inject_writes_nothing_for_an_invalid_context()
    {
        var headers = Inject(Propagator, new PropagationContext(default, Bag(("k", "v"))));

        Assert.Empty(headers);
    }

    [Theory]
    [InlineData("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")]
    [InlineData("rojo=1, congo=2", "rojo=1,congo=2")]
    [InlineData("", null)]
    [InlineData("Invalid=1", null)]
    public void Inject_writes_well_formed_tracestate_only(string traceState, string? expected)
    {
        var headers = Inject(Propagator, new PropagationContext(Context(traceState: traceState), default));

        Assert.Equal(expected, headers.GetValueOrDefault("tracestate"));
        Assert.True(headers.ContainsKey("traceparent"));
    }

    [Theory]
    [InlineData("00-" + Ids + "-02")]
    [InlineData("00-" + Ids + "-03")]
    [InlineData("00-" + Ids + "-00")]
    [InlineData("00-" + Ids + "-01")]
    public void Round_trip_preserves_the_random_flag_and_ids(string traceParent)
    {
        var extracted = Extract(Propagator, ("traceparent", traceParent), ("tracestate", "a=1,b=2"));

        var headers = Inject(Propagator, extracted);

        Assert.Equal(traceParent, headers["traceparent"]);
        Assert.Equal("a=1,b=2", headers["tracestate"]);
    }

    [Fact]
    public void Round_trip_through_an_activity()
    {
        using var activity = new Activity("test");
        activity.SetIdFormat(ActivityIdFormat.W3C);
        activity.ActivityTraceFlags = ActivityTraceFlags.None;
        activity.TraceStateString = "vendor=value";
        activity.Start();

        var headers = Inject(Propagator, new PropagationContext(activity.Context, default));
        var extracted = Propagator.Extract(default, new DictionaryHeaderCarrier(headers), Getter).ActivityContext;

        Assert.Equal(activity.TraceId, extracted.TraceId);
        Assert.Equal(activity.SpanId, extracted.SpanId);
        Assert.Equal(ActivityTraceFlags.None, extracted.TraceFlags);
        Assert.Equal("vendor=value", extracted.TraceState);
    }
}

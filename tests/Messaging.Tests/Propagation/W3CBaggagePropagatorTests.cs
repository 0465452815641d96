using System.Text;
using Messaging.Propagation;
using OpenTelemetry.Context.Propagation;
using Xunit;
using static Messaging.Tests.Propagation.PropagationTestHelpers;

namespace Messaging.Tests.Propagation;

/// <summary>The W3C baggage propagator. Some tests count dropped members, a measurement without a destination: the class runs alone.</summary>
[Collection(Core.DestinationlessMetricTests.Name)]
public sealed class W3CBaggagePropagatorTests
{
    private static readonly W3CBaggagePropagator Propagator = new();

    private static Dictionary<string, string> ExtractItems(W3CBaggagePropagator propagator, params (string Name, object? Value)[] headers) =>
        new(Extract(propagator, headers).Baggage.GetBaggage(), StringComparer.Ordinal);

    private static string? InjectHeader(W3CBaggagePropagator propagator, params (string Key, string Value)[] items) =>
        Inject(propagator, new PropagationContext(default, Bag(items))).GetValueOrDefault("baggage") as string;

    [Fact]
    public void Fields_is_baggage()
    {
        Assert.Equal(new HashSet<string> { "baggage" }, Propagator.Fields);
    }

    [Theory]
    [InlineData(0, 8192)]
    [InlineData(64, 0)]
    [InlineData(-1, 8192)]
    [InlineData(64, -5)]
    public void Constructor_rejects_limits_below_one(int maxMembers, int maxBytes)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new W3CBaggagePropagator(maxMembers, maxBytes));
    }

    [Fact]
    public void Constructor_defaults_to_the_w3c_minimums()
    {
        Assert.Equal(64, Propagator.MaxMembers);
        Assert.Equal(8192, Propagator.MaxBytes);
    }

    [Theory]
    [InlineData("k=a+b", "a+b")] // '+' is a literal plus, not a space
    [InlineData("k=a%20b", "a b")]
    [InlineData("k=100%25", "100%")]
    [InlineData("k=%2B", "+")]
    [InlineData("k=%C3%A9t%C3%A9", "\u00e9t\u00e9")] // non-ASCII as percent-encoded UTF-8
    [InlineData("k=%e2%82%ac", "\u20ac")] // lower-case escapes
    [InlineData("k=%F0%9F%98%80", "\U0001F600")]
    [InlineData("k=%FF", "\uFFFD")] // invalid UTF-8
    [InlineData("k=a%C3", "a\uFFFD")] // truncated UTF-8 sequence
    [InlineData("k=%C3%28", "\uFFFD(")]
    [InlineData("k=a=b=c", "a=b=c")] // split at the first '='
    [InlineData("k==", "=")]
    [InlineData(" \t k \t = \t v \t ", "v")] // OWS around key and value
    [InlineData("k=", "")] // empty value
    [InlineData("k= ", "")]
    [InlineData("k=v;prop1=1;prop2", "v")] // properties ignored
    [InlineData("k = v ; p = %ZZ", "v")] // properties never corrupt the value, even malformed ones
    [InlineData("k=v;", "v")]
    [InlineData("k=%2C%3B%22%5C", ",;\"\\")]
    [InlineData("k=%09tab", "\ttab")]
    [InlineData("k=caf\u00e9", "caf\u00e9")] // raw non-ASCII tolerated on read
    public void Extract_decodes_values(string header, string expected)
    {
        var items = ExtractItems(Propagator, ("baggage", header));

        Assert.Equal(expected, Assert.Single(items, i => i.Key == "k").Value);
    }

    [Theory]
    [InlineData("a=1,b@d=2,c=3")] // key is not a token
    [InlineData("a=1,b d=2,c=3")]
    [InlineData("a=1,b(d)=2,c=3")]
    [InlineData("a=1,noequals,c=3")]
    [InlineData("a=1,=2,c=3")] // empty key
    [InlineData("a=1, = 2 ,c=3")]
    [InlineData("a=1,b=%G1,c=3")] // invalid percent escape
    [InlineData("a=1,b=%2,c=3")] // partial escape
    [InlineData("a=1,b=50%,c=3")]
    [InlineData("a=1,b=x\u0001y,c=3")] // raw control character
    [InlineData("a=1,b=x\u007fy,c=3")]
    [InlineData("a=1,\u00e9=2,c=3")] // non-ASCII key
    public void Extract_drops_a_malformed_member_and_keeps_its_neighbours(string header)
    {
        var items = ExtractItems(Propagator, ("baggage", header));

        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["c"] = "3" }, items);
    }

    [Theory]
    [InlineData("a=1,b=x%0Dy,c=3")]
    [InlineData("a=1,b=x%0Ay,c=3")]
    [InlineData("a=1,b=x%00y,c=3")]
    [InlineData("a=1,b=x\ry,c=3")]
    [InlineData("a=1,b=x\ny,c=3")]
    [InlineData("a=1,b=x\0y,c=3")]
    [InlineData("a=1,b\nb=2,c=3")]
    [InlineData("a=1,b\0=2,c=3")]
    public void Extract_refuses_cr_lf_and_nul_and_counts_them(string header)
    {
        Dictionary<string, string>? items = null;
        var drops = CaptureDrops(() => items = ExtractItems(Propagator, ("baggage", header)));

        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["c"] = "3" }, items);
        Assert.Contains((1L, "invalid_characters", "inbound"), drops);
    }

    [Fact]
    public void Extract_counts_malformed_members()
    {
        var drops = CaptureDrops(() => ExtractItems(Propagator, ("baggage", "a=1,bad,c=%zz,d=4")));

        Assert.Equal([(2L, "malformed", "inbound")], drops);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(",,, ,")]
    [InlineData("garbage")]
    public void Extract_returns_the_incoming_context_when_nothing_valid_arrives(string header)
    {
        var incoming = new PropagationContext(Context(), Bag(("x", "1")));

        var result = Propagator.Extract(incoming, Carrier(("baggage", header)), Getter);

        Assert.Equal(incoming, result);
    }

    [Fact]
    public void Extract_combines_several_baggage_values()
    {
        var items = ExtractItems(Propagator, ("baggage", "a=1,b=2"), ("Baggage", "c=3"), ("BAGGAGE", Encoding.UTF8.GetBytes("d=%C3%A9")));

        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["c"] = "3", ["d"] = "\u00e9" }, items);
    }

    [Fact]
    public void Extract_duplicate_key_last_wins()
    {
        var items = ExtractItems(Propagator, ("baggage", "k=1,other=x,k=2"));

        Assert.Equal("2", items["k"]);
    }

    [Fact]
    public void Extract_keys_are_case_sensitive()
    {
        var items = ExtractItems(Propagator, ("baggage", "Key=1,key=2"));

        Assert.Equal(2, items.Count);
    }

    [Fact]
    public void Extract_merges_into_the_incoming_baggage()
    {
        var incoming = new PropagationContext(Context(), Bag(("keep", "1"), ("k", "old")));

        var result = Propagator.Extract(incoming, Carrier(("baggage", "k=new,added=2")), Getter);

        Assert.Equal(incoming.ActivityContext, result.ActivityContext);
        Assert.Equal(
            new Dictionary<string, string> { ["keep"] = "1", ["k"] = "new", ["added"] = "2" },
            new Dictionary<string, string>(result.Baggage.GetBaggage()));
    }

    [Fact]
    public void Extract_accepts_64_members()
    {
        var header = string.Join(",", Enumerable.Range(0, 64).Select(i => $"k{i}={i}"));

        Assert.Equal(64, ExtractItems(Propagator, ("baggage", header)).Count);
    }

    [Fact]
    public void Extract_drops_members_beyond_64_whole_and_counts_them()
    {
        var header = string.Join(",", Enumerable.Range(0, 70).Select(i => $"k{i}={i}"));
        Dictionary<string, string>? items = null;

        var drops = CaptureDrops(() => items = ExtractItems(Propagator, ("baggage", header)));

        Assert.Equal(64, items!.Count);
        Assert.Equal("63", items["k63"]);
        Assert.False(items.ContainsKey("k64"));
        Assert.Equal([(6L, "member_limit", "inbound")], drops);
    }

    [Fact]
    public void Extract_member_limit_is_summed_over_all_values()
    {
        var first = string.Join(",", Enumerable.Range(0, 40).Select(i => $"a{i}={i}"));
        var second = string.Join(",", Enumerable.Range(0, 40).Select(i => $"b{i}={i}"));

        var items = ExtractItems(Propagator, ("baggage", first), ("Baggage", second));

        Assert.Equal(64, items.Count);
        Assert.Equal(40, items.Keys.Count(k => k.StartsWith('a')));
    }

    [Fact]
    public void Extract_accepts_exactly_8192_bytes()
    {
        var header = HeaderOfLength(8192, members: 64);

        var items = ExtractItems(Propagator, ("baggage", header));

        Assert.Equal(64, items.Count);
    }

    [Fact]
    public void Extract_never_keeps_a_partial_member_past_8192_bytes()
    {
        var header = HeaderOfLength(8193, members: 4);
        Dictionary<string, string>? items = null;

        var drops = CaptureDrops(() => items = ExtractItems(Propagator, ("baggage", header)));

        Assert.Equal(3, items!.Count);
        Assert.False(items.ContainsKey("m3"));
        Assert.Equal([(1L, "byte_limit", "inbound")], drops);
    }

    [Fact]
    public void Extract_byte_limit_is_summed_over_all_values()
    {
        var first = HeaderOfLength(5000, members: 2, prefix: "a");
        var second = HeaderOfLength(4000, members: 2, prefix: "b");

        var items = ExtractItems(Propagator, ("baggage", first), ("Baggage", second));

        // 5000 + ',' + 1999-byte b0 = 7000 fits; b1 would reach 9001.
        Assert.Equal(["a0", "a1", "b0"], items.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Extract_honours_custom_limits()
    {
        var propagator = new W3CBaggagePropagator(maxMembers: 2, maxBytes: 100);

        var items = ExtractItems(propagator, ("baggage", "a=1,b=2,c=3"));

        Assert.Equal(["a", "b"], items.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Extract_passes_the_trace_context_through()
    {
        var incoming = new PropagationContext(Context(), default);

        var result = Propagator.Extract(incoming, Carrier(("baggage", "k=v")), Getter);

        Assert.Equal(incoming.ActivityContext, result.ActivityContext);
        Assert.Equal("v", result.Baggage.GetBaggage("k"));
    }

    [Theory]
    [InlineData("a b", "k=a%20b")]
    [InlineData("a+b", "k=a+b")]
    [InlineData("100%", "k=100%25")]
    [InlineData("\u00e9t\u00e9", "k=%C3%A9t%C3%A9")]
    [InlineData("\U0001F600", "k=%F0%9F%98%80")]
    [InlineData(",;\"\\", "k=%2C%3B%22%5C")]
    [InlineData("a=b", "k=a=b")]
    [InlineData("", "k=")]
    [InlineData("\t\u007f", "k=%09%7F")]
    [InlineData("!#$&'()*/:<>?@[]^_`{|}~", "k=!#$&'()*/:<>?@[]^_`{|}~")]
    public void Inject_percent_encodes_values(string value, string expected)
    {
        Assert.Equal(expected, InjectHeader(Propagator, ("k", value)));
    }

    [Fact]
    public void Inject_writes_a_lone_surrogate_as_the_replacement_character()
    {
        Assert.Equal("k=a%EF%BF%BDb", InjectHeader(Propagator, ("k", "a" + '\ud800' + "b")));
    }

    [Fact]
    public void Inject_writes_members_in_ordinal_key_order()
    {
        Assert.Equal("B=3,a=2,b=1", InjectHeader(Propagator, ("b", "1"), ("a", "2"), ("B", "3")));
    }

    [Theory]
    [InlineData("bad key")]
    [InlineData("k\u00e9")]
    [InlineData("a,b")]
    public void Inject_skips_keys_that_are_not_tokens(string key)
    {
        var drops = CaptureDrops(() => Assert.Equal("ok=1", InjectHeader(Propagator, (key, "x"), ("ok", "1"))));

        Assert.Equal([(1L, "malformed", "outbound")], drops);
    }

    [Theory]
    [InlineData("a\rb")]
    [InlineData("a\nb")]
    [InlineData("a\0b")]
    public void Inject_refuses_values_with_cr_lf_or_nul(string value)
    {
        var drops = CaptureDrops(() => Assert.Equal("ok=1", InjectHeader(Propagator, ("bad", value), ("ok", "1"))));

        Assert.Equal([(1L, "invalid_characters", "outbound")], drops);
    }

    [Fact]
    public void Inject_writes_no_header_for_empty_baggage_or_when_nothing_remains()
    {
        Assert.Empty(Inject(Propagator, new PropagationContext(Context(), default)));
        Assert.Null(InjectHeader(Propagator, ("bad key", "v")));
    }

    [Fact]
    public void Inject_keeps_the_first_members_in_key_order_within_the_member_limit()
    {
        var propagator = new W3CBaggagePropagator(maxMembers: 3);

        var drops = CaptureDrops(() =>
            Assert.Equal("a=1,b=2,c=3", InjectHeader(propagator, ("e", "5"), ("d", "4"), ("c", "3"), ("b", "2"), ("a", "1"))));

        Assert.Equal([(2L, "member_limit", "outbound")], drops);
    }

    [Fact]
    public void Inject_drops_a_member_over_the_byte_limit_and_keeps_later_ones_that_fit()
    {
        var propagator = new W3CBaggagePropagator(maxBytes: 20);

        var header = InjectHeader(propagator, ("a", "1"), ("b", new string('x', 30)), ("c", "3"));

        Assert.Equal("a=1,c=3", header);
    }

    [Fact]
    public void Inject_byte_limit_counts_encoded_bytes()
    {
        // "k=%20%20%20" is 11 bytes; the limit is 10.
        var propagator = new W3CBaggagePropagator(maxBytes: 10);

        Assert.Null(InjectHeader(propagator, ("k", "   ")));
        Assert.Equal("k=%20%20", InjectHeader(new W3CBaggagePropagator(maxBytes: 8), ("k", "  ")));
    }

    [Fact]
    public void Inject_propagates_64_members_of_8192_bytes()
    {
        var header = HeaderOfLength(8192, members: 64);
        var items = ExtractItems(Propagator, ("baggage", header));

        var injected = Inject(Propagator, new PropagationContext(default, OpenTelemetry.Baggage.Create(items)))["baggage"] as string;

        Assert.Equal(8192, injected!.Length);
        Assert.Equal(header.Split(',').OrderBy(m => m[..m.IndexOf('=', StringComparison.Ordinal)], StringComparer.Ordinal), injected.Split(','));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("a b+c%d")]
    [InlineData("  leading and trailing  ")]
    [InlineData("\u00e9\u4e2d\U0001F600")]
    [InlineData("=;,\"\\")]
    [InlineData("%20 is not decoded twice")]
    [InlineData("")]
    public void Round_trip_preserves_values_exactly(string value)
    {
        var headers = Inject(Propagator, new PropagationContext(default, Bag(("k", value), ("other", "x"))));

        var items = Propagator.Extract(default, new DictionaryHeaderCarrier(headers), Getter).Baggage;

        Assert.Equal(value, items.GetBaggage("k"));
        Assert.Equal("x", items.GetBaggage("other"));
    }

    /// <summary>Builds a header of exactly <paramref name="length"/> characters with members m0, m1, ….</summary>
    private static string HeaderOfLength(int length, int members, string prefix = "m")
    {
        var builder = new StringBuilder();
        var commas = members - 1;
        var perMember = (length - commas) / members;
        for (var i = 0; i < members; i++)
        {
            var key = $"{prefix}{i}";
            var size = i == members - 1 ? length - commas - (perMember * (members - 1)) : perMember;
            if (i > 0)
            {
                builder.Append(',');
            }

            builder.Append(key).Append('=').Append('v', size - key.Length - 1);
        }

        Assert.Equal(length, builder.Length);
        return builder.ToString();
    }
}

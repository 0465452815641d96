using System.Text;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry;
using Xunit;
using static Messaging.Tests.Core.CoreTestSupport;

namespace Messaging.Tests.Core;

/// <summary>
/// Outbound and inbound baggage policy: allow/deny, refused characters, limits with whole-member drops in a
/// deterministic order, drop counting and logging. The dropped-members counter names no destination, so the class
/// runs alone: every drop a collector sees is this test's.
/// </summary>
[Collection(DestinationlessMetricTests.Name)]
public sealed class BaggagePolicyTests
{
    // ---- allow / deny --------------------------------------------------------------------------------------

    [Fact]
    public void Allow_list_keeps_exact_names_and_prefixes_only()
    {
        var (header, drops) = InjectOutbound(
            p =>
            {
                p.AllowedKeys.Add("user.id");
                p.AllowedKeys.Add("tenant.*");
            },
            ("tenant.id", "1"), ("tenant.region", "eu"), ("tenantx", "2"), ("user.id", "7"), ("user.name", "bob"), ("other", "3"));

        Assert.Equal("tenant.id=1,tenant.region=eu,user.id=7", header);
        Assert.Equal(new Dictionary<string, long> { ["outbound/not_allowed"] = 3 }, drops);
    }

    [Fact]
    public void Deny_wins_over_allow()
    {
        var (header, drops) = InjectOutbound(
            p =>
            {
                p.AllowedKeys.Add("tenant.*");
                p.AllowedKeys.Add("auth.token");
                p.DeniedKeys.Add("tenant.secret");
                p.DeniedKeys.Add("auth.*");
            },
            ("tenant.id", "1"), ("tenant.secret", "s3cr3t"), ("auth.token", "t0k3n"), ("other", "3"));

        Assert.Equal("tenant.id=1", header);
        Assert.Equal(new Dictionary<string, long> { ["outbound/denied"] = 2, ["outbound/not_allowed"] = 1 }, drops);
    }

    [Fact]
    public void Deny_list_alone_drops_exact_names_and_prefixes_and_keeps_the_rest()
    {
        var (header, drops) = InjectOutbound(
            p =>
            {
                p.DeniedKeys.Add("password");
                p.DeniedKeys.Add("auth.*");
            },
            ("auth.token", "t"), ("auth.user", "u"), ("auth", "exact-name-is-not-the-prefix"), ("password", "p"), ("password2", "kept"), ("x", "1"));

        Assert.Equal("auth=exact-name-is-not-the-prefix,password2=kept,x=1", header);
        Assert.Equal(new Dictionary<string, long> { ["outbound/denied"] = 3 }, drops);
    }

    [Fact]
    public void Deny_and_allow_lists_match_keys_ignoring_case()
    {
        var (header, drops) = InjectOutbound(
            p =>
            {
                p.DeniedKeys.Add("auth.*");
                p.DeniedKeys.Add("password");
                p.AllowedKeys.Add("Tenant.*");
                p.AllowedKeys.Add("Auth.Token");
                p.AllowedKeys.Add("PASSWORD");
            },
            ("Auth.Token", "t"), ("PassWord", "p"), ("tenant.id", "1"));

        Assert.Equal("tenant.id=1", header);
        Assert.Equal(new Dictionary<string, long> { ["outbound/denied"] = 2 }, drops);
    }

    [Theory]
    [InlineData("key", "a\rb")]
    [InlineData("key", "a\nb")]
    [InlineData("key", "a\0b")]
    [InlineData("key", "\r\n")]
    [InlineData("ke\ry", "v")]
    [InlineData("ke\ny", "v")]
    [InlineData("ke\0y", "v")]
    public void Outbound_keys_or_values_with_cr_lf_or_nul_are_refused_and_neighbours_kept(string key, string value)
    {
        var (header, drops) = InjectOutbound(_ => { }, ("a", "1"), (key, value), ("z", "2"));

        Assert.Equal("a=1,z=2", header);
        Assert.Equal(new Dictionary<string, long> { ["outbound/invalid_characters"] = 1 }, drops);
    }

    [Theory]
    [InlineData("a=1,key=x%0Dy,z=2")]
    [InlineData("a=1,key=x%0Ay,z=2")]
    [InlineData("a=1,key=x%00y,z=2")]
    [InlineData("a=1,key=x%0d%0ay,z=2")]
    public void Inbound_values_decoding_to_cr_lf_or_nul_are_refused_and_neighbours_kept(string header)
    {
        using var metrics = new MetricCollector<long>(Instruments.BaggageDropped);

        var baggage = Instrumentation().Extract(Carrier(("baggage", header))).Baggage;

        Assert.Equal(Contents(Bag(("a", "1"), ("z", "2"))), Contents(baggage));
        Assert.Equal(new Dictionary<string, long> { ["inbound/invalid_characters"] = 1 }, Sum(metrics.GetMeasurementSnapshot()));
    }

    // ---- limits --------------------------------------------------------------------------------------------

    [Fact]
    public void MaxMembers_keeps_the_first_members_in_ordinal_key_order()
    {
        var (header, drops) = InjectOutbound(p => p.MaxMembers = 2, ("z", "26"), ("a", "1"), ("m", "13"), ("B", "2"));

        // Ordinal order: "B" (0x42) < "a" < "m" < "z".
        Assert.Equal("B=2,a=1", header);
        Assert.Equal(new Dictionary<string, long> { ["outbound/member_limit"] = 2 }, drops);
    }

    // Members, in ordinal key order, with their encoded sizes: a=1111 (6), b=22222222 (10), c=3 (3), d=44 (4);
    // every member after the first kept one costs one more byte for the comma.
    [Theory]
    [InlineData(1000, "a=1111,b=22222222,c=3,d=44", 0)]
    [InlineData(26, "a=1111,b=22222222,c=3,d=44", 0)] // 6 + 11 + 4 + 5 = 26: exactly fits
    [InlineData(25, "a=1111,b=22222222,c=3", 1)] // d would make 26
    [InlineData(17, "a=1111,b=22222222", 2)] // c would make 21, d 22
    [InlineData(16, "a=1111,c=3,d=44", 1)] // b would make 17; c fits (10), d fits (15)
    [InlineData(12, "a=1111,c=3", 2)] // b (17) and d (15) do not fit
    [InlineData(10, "a=1111,c=3", 2)]
    [InlineData(9, "a=1111", 3)] // c would make 10
    [InlineData(6, "a=1111", 3)]
    [InlineData(5, "c=3", 3)] // a (6) and b (10) alone do not fit; c does; d would make 8
    [InlineData(2, null, 4)]
    public void MaxBytes_drops_whole_members_that_do_not_fit_and_keeps_later_ones_that_do(int maxBytes, string? expected, int droppedCount)
    {
        var (header, drops) = InjectOutbound(p => p.MaxBytes = maxBytes, ("d", "44"), ("b", "22222222"), ("c", "3"), ("a", "1111"));

        Assert.Equal(expected, header);
        Assert.Equal(droppedCount == 0 ? new Dictionary<string, long>() : new Dictionary<string, long> { ["outbound/byte_limit"] = droppedCount }, drops);
        Assert.True(header is null || header.Length <= maxBytes);
    }

    [Fact]
    public void MaxMembers_and_MaxBytes_together()
    {
        // a (6) kept; b (+11 = 17) over 12 bytes; c (+4 = 10) kept; d: two members already.
        var (header, drops) = InjectOutbound(
            p =>
            {
                p.MaxMembers = 2;
                p.MaxBytes = 12;
            },
            ("a", "1111"), ("b", "22222222"), ("c", "3"), ("d", "44"));

        Assert.Equal("a=1111,c=3", header);
        Assert.Equal(new Dictionary<string, long> { ["outbound/byte_limit"] = 1, ["outbound/member_limit"] = 1 }, drops);
    }

    [Theory]
    [InlineData("x y", "k=x%20y")]
    [InlineData("a,b", "k=a%2Cb")]
    [InlineData("100%", "k=100%25")]
    [InlineData("a+b", "k=a+b")]
    [InlineData("\u00e9", "k=%C3%A9")] // 2 UTF-8 bytes
    [InlineData("\u20ac", "k=%E2%82%AC")] // 3 UTF-8 bytes
    [InlineData("\U0001F600", "k=%F0%9F%98%80")] // a surrogate pair: 4 UTF-8 bytes
    public void MaxBytes_counts_the_percent_encoded_size_on_the_wire(string value, string wire)
    {
        var (fits, _) = InjectOutbound(p => p.MaxBytes = wire.Length, ("k", value));
        var (tooBig, drops) = InjectOutbound(p => p.MaxBytes = wire.Length - 1, ("k", value));

        Assert.Equal(wire, fits);
        Assert.Null(tooBig);
        Assert.Equal(new Dictionary<string, long> { ["outbound/byte_limit"] = 1 }, drops);
    }

    [Fact]
    public void MaxBytes_counts_a_lone_surrogate_as_the_replacement_character_it_is_sent_as()
    {
        // "k=%EF%BF%BD" is 11 bytes on the wire.
        var (header, _) = InjectOutbound(p => p.MaxBytes = 10, ("k", "\uD800"), ("z", "1"));

        Assert.True(header is null || header.Length <= 10, $"header '{header}' is longer than MaxBytes = 10");
        Assert.Equal("z=1", header);
    }

    [Fact]
    public void Limits_do_not_depend_on_insertion_order()
    {
        var forward = InjectOutbound(p => p.MaxBytes = 12, ("a", "1111"), ("b", "22222222"), ("c", "3"), ("d", "44"));
        var backward = InjectOutbound(p => p.MaxBytes = 12, ("d", "44"), ("c", "3"), ("b", "22222222"), ("a", "1111"));

        Assert.Equal("a=1111,c=3", forward.Header);
        Assert.Equal(forward.Header, backward.Header);
    }

    [Fact]
    public void Default_limits_always_carry_64_members_and_8192_bytes_and_drop_the_65th_member()
    {
        // 63 members of 127 bytes, one of 128, and 63 commas: exactly 8192 bytes.
        var items = new List<(string, string)>();
        for (var i = 0; i < 64; i++)
        {
            items.Add(($"k{i:D2}", new string('v', i == 63 ? 124 : 123)));
        }

        var (header, drops) = InjectOutbound(_ => { }, [.. items]);
        Assert.NotNull(header);
        Assert.Equal(8192, header.Length);
        Assert.Equal(64, header.Split(',').Length);
        Assert.Empty(drops);

        items.Add(("k64", "v"));
        var (limited, limitedDrops) = InjectOutbound(_ => { }, [.. items]);
        Assert.Equal(header, limited);
        Assert.Equal(new Dictionary<string, long> { ["outbound/member_limit"] = 1 }, limitedDrops);
    }

    // ---- inbound -------------------------------------------------------------------------------------------

    [Fact]
    public void Inbound_policy_applies_to_extracted_baggage()
    {
        using var metrics = new MetricCollector<long>(Instruments.BaggageDropped);
        var instrumentation = Instrumentation(o =>
        {
            o.InboundBaggage.DeniedKeys.Add("secret");
            o.InboundBaggage.MaxMembers = 2;
            o.OutboundBaggage.MaxMembers = 1; // outbound policy is not applied on receive
        });

        var context = instrumentation.Extract(Carrier(("traceparent", TraceParent(RemoteContext())), ("baggage", "z=1,secret=s,a=2,m=3")));

        Assert.Equal(Contents(Bag(("a", "2"), ("m", "3"))), Contents(context.Baggage));
        Assert.Equal(new Dictionary<string, long> { ["inbound/denied"] = 1, ["inbound/member_limit"] = 1 }, Sum(metrics.GetMeasurementSnapshot()));
    }

    [Fact]
    public void Inbound_policy_applies_to_the_baggage_a_consumer_scope_makes_current()
    {
        var instrumentation = Instrumentation(o =>
        {
            o.InboundBaggage.AllowedKeys.Add("tenant.*");
            o.InboundBaggage.MaxBytes = 22;
        });
        var message = Incoming(UniqueDestination(), RemoteContext(), "user=bob,tenant.id=acme,tenant.region=eu-west,tenant.tier=gold");

        using (var scope = instrumentation.StartConsumer(message))
        {
            // tenant.id=acme (14), tenant.region=eu-west (+22 = 36: over), tenant.tier=gold (+17 = 31: over).
            Assert.Equal(Contents(Bag(("tenant.id", "acme"))), Contents(Baggage.Current));
            Assert.Equal(Contents(Baggage.Current), Contents(scope.Baggage));
        }
    }

    public static TheoryData<bool> AsBytes => new() { false, true };

    [Theory]
    [MemberData(nameof(AsBytes))]
    public void A_100_KB_baggage_header_of_many_members_is_limited_without_exception(bool asBytes)
    {
        var members = Enumerable.Range(0, 1000).Select(i => $"k{i:D5}={new string('v', 93)}").ToArray();
        var header = string.Join(',', members);
        Assert.True(header.Length > 100_000);
        using var metrics = new MetricCollector<long>(Instruments.BaggageDropped);
        var value = asBytes ? Encoding.UTF8.GetBytes(header) : (object)header;

        var extracted = Instrumentation().Extract(Carrier(("baggage", value))).Baggage;
        Baggage current;
        using (Instrumentation(o => o.InboundBaggage.MaxMembers = 10).StartConsumer(Incoming(UniqueDestination(), ("baggage", value))))
        {
            current = Baggage.Current;
        }

        Assert.Equal(
            Enumerable.Range(0, 64).Select(i => $"k{i:D5}"),
            Contents(extracted).Keys);
        Assert.Equal(
            Enumerable.Range(0, 10).Select(i => $"k{i:D5}"),
            Contents(current).Keys);
        Assert.All(Contents(current).Values, v => Assert.Equal(new string('v', 93), v));
        var drops = Sum(metrics.GetMeasurementSnapshot());
        Assert.True(drops.GetValueOrDefault("inbound/member_limit") >= 936 + 54, string.Join(", ", drops));
    }

    [Fact]
    public void A_100_KB_single_member_is_dropped_without_exception()
    {
        var header = "a=1,big=" + new string('x', 100_000) + ",z=2";

        var extracted = Instrumentation().Extract(Carrier(("baggage", header))).Baggage;
        using var scope = Instrumentation().StartConsumer(Incoming(UniqueDestination(), ("baggage", header)));

        Assert.Equal("1", extracted.GetBaggage("a"));
        Assert.Null(extracted.GetBaggage("big"));
        Assert.True(Contents(extracted).Sum(p => p.Key.Length + p.Value.Length + 2) <= 8192);
        Assert.Equal(Contents(extracted), Contents(Baggage.Current));
    }

    [Theory]
    [InlineData(ContextTrust.DropBaggage)]
    [InlineData(ContextTrust.Untrusted)]
    public void Baggage_discarded_by_trust_is_counted(ContextTrust trust)
    {
        using var metrics = new MetricCollector<long>(Instruments.BaggageDropped);
        var message = Incoming(UniqueDestination(), RemoteContext(), "a=1,b=2,c=3");

        using (Instrumentation(o => o.Trust = trust).StartConsumer(message))
        {
            Assert.Equal(0, Baggage.Current.Count);
        }

        Assert.Equal(new Dictionary<string, long> { ["inbound/untrusted"] = 3 }, Sum(metrics.GetMeasurementSnapshot()));
    }

    // ---- logging -------------------------------------------------------------------------------------------

    [Fact]
    public void Drops_are_logged_once_per_cause_and_interval_with_the_suppressed_count()
    {
        using var logs = new FakeLoggerProvider();
        using var loggerFactory = new LoggerFactory([logs]);
        var time = new FakeTimeProvider();
        var instrumentation = Instrumentation(
            o =>
            {
                o.OutboundBaggage.DeniedKeys.Add("secret");
                o.OutboundBaggage.MaxMembers = 1;
            },
            loggerFactory,
            time);

        Baggage.Current = Bag(("secret", "1"), ("a", "1"));
        instrumentation.InjectCurrent(new DictionaryHeaderCarrier(Headers()));
        instrumentation.InjectCurrent(new DictionaryHeaderCarrier(Headers()));
        instrumentation.InjectCurrent(new DictionaryHeaderCarrier(Headers()));
        Baggage.Current = Bag(("a", "1"), ("b", "2"), ("c", "3"));
        instrumentation.InjectCurrent(new DictionaryHeaderCarrier(Headers()));

        var first = logs.Collector.GetSnapshot().Where(e => e.Id.Id == 2).ToList();
        Assert.Equal(2, first.Count);
        Assert.Equal("denied", first[0].GetStructuredStateValue("Reason"));
        Assert.Equal("outbound", first[0].GetStructuredStateValue("Direction"));
        Assert.Equal("1", first[0].GetStructuredStateValue("Count"));
        Assert.Equal("0", first[0].GetStructuredStateValue("Suppressed"));
        Assert.Equal("member_limit", first[1].GetStructuredStateValue("Reason"));
        Assert.Equal("2", first[1].GetStructuredStateValue("Count"));

        time.Advance(TimeSpan.FromSeconds(61));
        Baggage.Current = Bag(("secret", "1"));
        instrumentation.InjectCurrent(new DictionaryHeaderCarrier(Headers()));

        var all = logs.Collector.GetSnapshot().Where(e => e.Id.Id == 2).ToList();
        Assert.Equal(3, all.Count);
        Assert.Equal("denied", all[2].GetStructuredStateValue("Reason"));
        Assert.Equal("2", all[2].GetStructuredStateValue("Suppressed"));
    }

    // ---- validation ----------------------------------------------------------------------------------------

    [Theory]
    [InlineData(true, 0, 8192, "OutboundBaggage", "OutboundBaggage.MaxMembers")]
    [InlineData(true, -1, 8192, "OutboundBaggage", "OutboundBaggage.MaxMembers")]
    [InlineData(true, 64, 0, "OutboundBaggage", "OutboundBaggage.MaxBytes")]
    [InlineData(false, 0, 8192, "InboundBaggage", "InboundBaggage.MaxMembers")]
    [InlineData(false, 64, -5, "InboundBaggage", "InboundBaggage.MaxBytes")]
    public void Limits_below_one_are_rejected_naming_the_property(bool outbound, int maxMembers, int maxBytes, string paramName, string property)
    {
        var options = new MessagingOptions { Propagator = Messaging.Propagation.MessagingPropagators.CreateDefault() };
        var policy = outbound ? options.OutboundBaggage : options.InboundBaggage;
        policy.MaxMembers = maxMembers;
        policy.MaxBytes = maxBytes;

        var ex = Assert.Throws<ArgumentException>(() => new MessagingInstrumentation(options));
        Assert.StartsWith($"Invalid MessagingOptions: {paramName}.", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"{property} must be at least 1 (was {(maxMembers < 1 ? maxMembers : maxBytes)}).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Smallest_limits_are_valid_and_defaults_are_the_w3c_minimums()
    {
        var policy = new BaggagePolicy();
        Assert.Equal(64, policy.MaxMembers);
        Assert.Equal(8192, policy.MaxBytes);
        Assert.Equal(64, BaggagePolicy.DefaultMaxMembers);
        Assert.Equal(8192, BaggagePolicy.DefaultMaxBytes);
        Assert.Empty(policy.AllowedKeys);
        Assert.Empty(policy.DeniedKeys);

        var (header, _) = InjectOutbound(
            p =>
            {
                p.MaxMembers = 1;
                p.MaxBytes = 1;
            },
            ("a", "1"));
        Assert.Null(header);
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private static DictionaryHeaderCarrier Carrier(params (string Name, object? Value)[] headers) => new(Headers(headers));

    /// <summary>Injects <paramref name="items"/> as the current baggage under an outbound policy; returns the header and the drops counted.</summary>
    private static (string? Header, Dictionary<string, long> Drops) InjectOutbound(Action<BaggagePolicy> configure, params (string Key, string Value)[] items)
    {
        var instrumentation = Instrumentation(o => configure(o.OutboundBaggage));
        var headers = Headers();
        using var metrics = new MetricCollector<long>(Instruments.BaggageDropped);
        Baggage.Current = Bag(items);
        instrumentation.InjectCurrent(new DictionaryHeaderCarrier(headers));
        Baggage.Current = default;
        return (headers.GetValueOrDefault("baggage") as string, Sum(metrics.GetMeasurementSnapshot()));
    }

    /// <summary>Drop counts by "direction/reason".</summary>
    private static Dictionary<string, long> Sum(IEnumerable<CollectedMeasurement<long>> measurements)
    {
        var sums = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var m in measurements)
        {
            var key = m.Tag("direction") + "/" + m.Tag("reason");
            sums[key] = sums.GetValueOrDefault(key) + m.Value;
        }

        return sums;
    }
}

using System.Diagnostics;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Messaging.Propagation;
using OpenTelemetry.Context.Propagation;
using Xunit;
using static Messaging.Tests.Propagation.PropagationTestHelpers;
using B3Propagator = Messaging.Propagation.B3Propagator;

namespace Messaging.Tests.Propagation;

/// <summary>
/// Property tests: every extract path is fed arbitrary text, header-like text and bytes and must never throw
/// (11 properties × 15 000 cases = 165 000 cases, plus 5 000 baggage round trips).
/// </summary>
public sealed class PropagationPropertyTests
{
    /// <summary>Cases per robustness property.</summary>
    public const int Cases = 15_000;

    /// <summary>Cases per round-trip property.</summary>
    public const int RoundTripCases = 5_000;

    private static readonly Config Robustness = Config.QuickThrowOnFailure.WithMaxTest(Cases).WithQuietOnSuccess(true);
    private static readonly Config RoundTrip = Config.QuickThrowOnFailure.WithMaxTest(RoundTripCases).WithQuietOnSuccess(true);

    private static readonly W3CTraceContextPropagator TraceContext = new();
    private static readonly W3CBaggagePropagator BaggagePropagator = new();
    private static readonly B3Propagator B3Single = new();
    private static readonly B3Propagator B3Multi = new(singleHeader: false);
    private static readonly TextMapPropagator Composite = MessagingPropagators.Parse("tracecontext,baggage,b3multi");

    private static readonly string[] Templates =
    [
        ValidTraceParent,
        "01-" + TraceId + "-" + SpanId + "-03-future",
        "rojo=00f067aa0ba902b7, congo=t61rcWkgMzE,tenant@sys=x y",
        "k=v%20x;p=1, k2 = %C3%A9 ,k3=a+b=c",
        TraceId + "-" + SpanId + "-1-05e3ac9a4f6e3b90",
        "a3ce929d0e0e4736-" + SpanId + "-d",
        SpanId,
        "1",
    ];

    private static readonly string[] HeaderNames =
    [
        "traceparent", "TraceParent", "tracestate", "TRACESTATE", "baggage", "Baggage", "b3", "B3",
        "X-B3-TraceId", "x-b3-traceid", "X-B3-SpanId", "x-b3-spanid", "X-B3-Sampled", "X-B3-Flags", "X-B3-ParentSpanId", "other",
    ];

    private static readonly char[] BiasedAlphabet =
        "0123456789abcdefABCDEF-=,;% \t+@*/_~\"\\.:dgz\u00e9\u20ac\ud83d\ude00\ud800\r\n\0\u007f".ToCharArray();

    private static readonly Gen<char> AnyChar = Gen.Choose(0, 0xFFFF).Select(static i => (char)i);

    /// <summary>Arbitrary UTF-16 text: any code unit, lone surrogates and controls included.</summary>
    private static readonly Gen<string> UnicodeText =
        from length in Gen.Choose(0, 80)
        from chars in Gen.ArrayOf(AnyChar, length)
        select new string(chars);

    /// <summary>Header-like text over an alphabet biased to the grammar's delimiters and hex digits.</summary>
    private static readonly Gen<string> HeaderLikeText =
        from length in Gen.Choose(0, 120)
        from chars in Gen.ArrayOf(Gen.Elements(BiasedAlphabet), length)
        select new string(chars);

    /// <summary>A valid header with a few random edits (replace, insert, delete): reaches deep parser paths.</summary>
    private static readonly Gen<string> NearValidText =
        from template in Gen.Elements(Templates)
        from count in Gen.Choose(0, 3)
        from edits in Gen.ArrayOf(
            Gen.Zip(Gen.Choose(0, 2), Gen.Zip(Gen.Choose(0, 200), Gen.Elements(BiasedAlphabet))),
            count)
        select Edit(template, edits);

    /// <summary>Long text (up to ~60 000 characters) built by repetition, so generation stays cheap.</summary>
    private static readonly Gen<string> LongText =
        from piece in Gen.OneOf(HeaderLikeText, NearValidText, Gen.Constant("k=v,"), Gen.Constant("a=1,"))
        from times in Gen.Choose(50, 500)
        select string.Concat(Enumerable.Repeat(piece + ",", times));

    /// <summary>Many distinct, valid members: reaches the member and length limits of tracestate and baggage.</summary>
    private static readonly Gen<string> ManyMembers =
        from count in Gen.Choose(0, 120)
        from width in Gen.Choose(1, 200)
        from separator in Gen.Elements(",", " , ", ",,", "\t,")
        select string.Join(separator, Enumerable.Range(0, count).Select(i => $"k{i}=" + new string('v', 1 + ((i * 7) % width))));

    private static readonly Gen<string?> AnyText = Gen.Frequency(
        (1, Gen.Constant<string?>(null)),
        (1, ManyMembers.Select(static s => (string?)s)),
        (3, HeaderLikeText.Select(static s => (string?)s)),
        (3, NearValidText.Select(static s => (string?)s)),
        (2, UnicodeText.Select(static s => (string?)s)),
        (1, LongText.Select(static s => (string?)s)),
        (1, ArbMap.Default.GeneratorFor<string>().Select(static s => (string?)s)));

    private static readonly Gen<byte[]> AnyBytes = Gen.Frequency(
        (2, ArbMap.Default.GeneratorFor<byte[]>()),
        (2, NearValidText.SelectMany(
            static s => Gen.ArrayOf(Gen.Zip(Gen.Choose(0, 200), Gen.Choose(0, 255)), 2),
            static (s, flips) => Corrupt(Encoding.UTF8.GetBytes(s), flips))),
        (1, HeaderLikeText.Select(static s => Encoding.UTF8.GetBytes(s))));

    /// <summary>A raw header value as a transport might store it.</summary>
    private static readonly Gen<object?> AnyRawValue = Gen.Frequency(
        (6, AnyText.Select(static s => (object?)s)),
        (3, AnyBytes.Select(static b => (object?)b)),
        (1, Gen.Elements<object?>(null, 42, 3.5, new object(), Array.Empty<byte>(), new ReadOnlyMemory<byte>([0x30, 0x31]), DateTime.UnixEpoch)));

    private static readonly Gen<(string, object?)[]> AnyHeaderSet =
        from count in Gen.Choose(0, 8)
        from headers in Gen.ArrayOf(
            from name in Gen.Elements(HeaderNames)
            from value in OrValid(AnyRawValue, ValidValueFor(name))
            select (name, value),
            count)
        select headers;

    [Fact]
    public void Traceparent_and_tracestate_never_throw()
    {
        // Half the time the traceparent is valid, so the tracestate parser is reached.
        Check(Gen.Zip(OrValid(AnyText.Select(static s => (object?)s), ValidTraceParent), AnyText), static pair =>
        {
            var (traceParent, traceState) = pair;
            var result = Extract(TraceContext, ("traceparent", traceParent), ("tracestate", traceState));
            AssertTraceContextInvariants(result.ActivityContext);
        });
    }

    [Fact]
    public void Trace_context_from_arbitrary_bytes_never_throws()
    {
        var traceParent = OrValid(AnyBytes.Select(static b => (object?)b), Encoding.UTF8.GetBytes(ValidTraceParent));
        Check(Gen.Zip(traceParent, AnyBytes), static pair =>
        {
            var result = Extract(TraceContext, ("traceparent", pair.Item1), ("tracestate", pair.Item2));
            AssertTraceContextInvariants(result.ActivityContext);
        });
    }

    [Fact]
    public void Baggage_never_throws_and_respects_limits()
    {
        Check(Gen.ArrayOf(AnyText, 3), static values =>
        {
            var raw = Raw(("baggage", values[0]), ("Baggage", values[1]), ("BAGGAGE", values[2]));
            var baggage = BaggagePropagator.Extract(default, new DictionaryHeaderCarrier(raw), Getter).Baggage;
            AssertBaggageInvariants(baggage);
        });
    }

    [Fact]
    public void Baggage_from_arbitrary_bytes_never_throws()
    {
        Check(AnyBytes, static bytes =>
        {
            var baggage = Extract(BaggagePropagator, ("baggage", bytes)).Baggage;
            AssertBaggageInvariants(baggage);
        });
    }

    [Fact]
    public void B3_single_never_throws()
    {
        Check(Gen.OneOf(AnyText.Select(static s => (object?)s), AnyBytes.Select(static b => (object?)b)), static value =>
        {
            var result = Extract(B3Single, ("b3", value));
            AssertB3Invariants(result.ActivityContext);
        });
    }

    [Fact]
    public void B3_multi_never_throws()
    {
        var values = from traceId in OrValid(AnyRawValue, TraceId)
                     from spanId in OrValid(AnyRawValue, SpanId)
                     from rest in Gen.ArrayOf(OrValid(AnyRawValue, "1"), 3)
                     select new[] { traceId, spanId, rest[0], rest[1], rest[2] };
        Check(values, static values =>
        {
            var result = Extract(
                B3Multi,
                ("X-B3-TraceId", values[0]),
                ("X-B3-SpanId", values[1]),
                ("X-B3-Sampled", values[2]),
                ("X-B3-Flags", values[3]),
                ("x-b3-traceid", values[4]));
            AssertB3Invariants(result.ActivityContext);
        });
    }

    [Fact]
    public void Composite_never_throws_on_arbitrary_header_sets()
    {
        Check(AnyHeaderSet, static headers =>
        {
            var raw = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (name, value) in headers)
            {
                raw[name] = value;
            }

            var result = Composite.Extract(default, new DictionaryHeaderCarrier(raw), Getter);
            AssertTraceContextInvariants(result.ActivityContext);
            AssertBaggageInvariants(result.Baggage);

            // Whatever was accepted must be re-injectable and read back identically.
            var reinjected = Inject(Composite, result);
            var again = Composite.Extract(default, new DictionaryHeaderCarrier(reinjected), Getter);
            Assert.Equal(result.ActivityContext, again.ActivityContext);
        });
    }

    [Fact]
    public void Reading_the_carrier_directly_gives_what_the_getter_gives()
    {
        // The library's getter lets the propagators read stored values (UTF-8 bytes included) without strings; any
        // other getter goes through GetValues. Both must extract the same context and baggage from any header set.
        Check(AnyHeaderSet, static headers =>
        {
            var raw = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (name, value) in headers)
            {
                raw[name] = value;
            }

            var carrier = new DictionaryHeaderCarrier(raw);
            var direct = Composite.Extract<IHeaderCarrier>(default, carrier, PropagationHelpers.CarrierGetter);
            var viaGetter = Composite.Extract(default, carrier, Getter);
            Assert.Equal(viaGetter.ActivityContext, direct.ActivityContext);
            Assert.Equal(viaGetter.ActivityContext.TraceState, direct.ActivityContext.TraceState);
            Assert.Equal(
                viaGetter.Baggage.GetBaggage().OrderBy(static p => p.Key, StringComparer.Ordinal),
                direct.Baggage.GetBaggage().OrderBy(static p => p.Key, StringComparer.Ordinal));
        });
    }

    [Fact]
    public void Getter_returning_odd_sequences_never_throws()
    {
        Check(Gen.Choose(0, 4).SelectMany(static n => Gen.ArrayOf(AnyText, n)), static values =>
        {
            IEnumerable<string>? Lazy(string name)
            {
                foreach (var value in values)
                {
                    yield return value!;
                }
            }

            var list = Composite.Extract<object>(default, new object(), (_, _) => values!);
            var lazy = Composite.Extract<object>(default, new object(), (_, name) => Lazy(name));
            Assert.Equal(list, lazy);
        });
    }

    [Fact]
    public void Header_values_never_throw_on_arbitrary_objects()
    {
        Check(AnyRawValue, static value =>
        {
            var readable = HeaderValues.TryGetString(value, out var text);
            Assert.NotNull(text);
            switch (value)
            {
                case string s:
                    Assert.True(readable);
                    Assert.Same(s, text);
                    break;
                case byte[] bytes:
                    Assert.True(readable);
                    Assert.Equal(Encoding.UTF8.GetString(bytes), text);
                    break;
                case ReadOnlyMemory<byte>:
                    Assert.True(readable);
                    break;
                default:
                    Assert.False(readable);
                    Assert.Equal(string.Empty, text);
                    break;
            }
        });
    }

    [Fact]
    public void Near_valid_traceparent_extracts_only_well_formed_contexts()
    {
        Check(NearValidText, static text =>
        {
            var extracted = Extract(TraceContext, ("traceparent", text)).ActivityContext;
            if (IsValid(extracted))
            {
                // Anything accepted is re-emitted as a canonical version-00 header that parses to the same context.
                var header = Inject(TraceContext, new PropagationContext(extracted, default))["traceparent"] as string;
                Assert.Equal(55, header!.Length);
                Assert.StartsWith("00-", header, StringComparison.Ordinal);
                Assert.Equal(text.AsSpan(3, 49).ToString(), header.AsSpan(3, 49).ToString());
            }
        });
    }

    [Fact]
    public void Baggage_round_trip_preserves_arbitrary_values_within_limits()
    {
        var generous = new W3CBaggagePropagator(maxMembers: 10_000, maxBytes: int.MaxValue);
        var items =
            from count in Gen.Choose(1, 12)
            from pairs in Gen.ArrayOf(Gen.Zip(TokenKey, BaggageValue), count)
            select pairs;

        Check(items, RoundTrip, pairs =>
        {
            var expected = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in pairs)
            {
                expected[key] = value;
            }

            var context = new PropagationContext(default, OpenTelemetry.Baggage.Create(expected));

            // Generous limits: every member survives exactly.
            var headers = Inject(generous, context);
            var extracted = generous.Extract(default, new DictionaryHeaderCarrier(headers), Getter).Baggage;
            Assert.Equal(expected, new Dictionary<string, string>(extracted.GetBaggage(), StringComparer.Ordinal));

            // Default limits: whole members only, each one exact.
            var limited = Inject(BaggagePropagator, context);
            var header = limited.GetValueOrDefault("baggage") as string;
            Assert.True(header is null || header.Length <= W3CBaggagePropagator.DefaultMaxBytes);
            var partial = BaggagePropagator.Extract(default, new DictionaryHeaderCarrier(limited), Getter).Baggage;
            foreach (var (key, value) in partial)
            {
                Assert.Equal(expected[key], value);
            }
        });
    }

    private static Gen<string> TokenKey =>
        from length in Gen.Choose(1, 12)
        from chars in Gen.ArrayOf(Gen.Elements("abcXYZ019!#$%&'*+-.^_`|~".ToCharArray()), length)
        select new string(chars);

    /// <summary>Arbitrary valid UTF-16 text without CR, LF or NUL (those are refused by design).</summary>
    private static Gen<string> BaggageValue =>
        Gen.OneOf(UnicodeText, HeaderLikeText, ArbMap.Default.GeneratorFor<string>()).Select(static s => Sanitize(s ?? string.Empty));

    private static string Sanitize(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var rune in value.EnumerateRunes())
        {
            // EnumerateRunes yields U+FFFD for a lone surrogate, so the result is valid UTF-16.
            builder.Append(rune.Value is '\r' or '\n' or '\0' ? new Rune('_') : rune);
        }

        return builder.ToString();
    }

    private static Gen<object?> OrValid(Gen<object?> gen, object? valid) =>
        Gen.Frequency((1, Gen.Constant(valid)), (1, gen));

    private static object? ValidValueFor(string name) => name.ToUpperInvariant() switch
    {
        "TRACEPARENT" => ValidTraceParent,
        "TRACESTATE" => "rojo=1,congo=2",
        "BAGGAGE" => "k=v%20w,x=1",
        "B3" => TraceId + "-" + SpanId + "-1",
        "X-B3-TRACEID" => TraceId,
        "X-B3-SPANID" => SpanId,
        "X-B3-SAMPLED" or "X-B3-FLAGS" => "1",
        _ => "x",
    };

    private static void Check<T>(Gen<T> gen, Action<T> property) => Check(gen, Robustness, property);

    private static void Check<T>(Gen<T> gen, Config config, Action<T> property) =>
        FsCheck.Check.One(config, Prop.ForAll(gen.ToArbitrary(), property));

    private static string Edit(string template, (int Kind, (int Position, char Char) Edit)[] edits)
    {
        var builder = new StringBuilder(template);
        foreach (var (kind, (position, c)) in edits)
        {
            var index = builder.Length == 0 ? 0 : position % builder.Length;
            switch (kind)
            {
                case 0 when builder.Length > 0:
                    builder[index] = c;
                    break;
                case 1:
                    builder.Insert(index, c);
                    break;
                case 2 when builder.Length > 0:
                    builder.Remove(index, 1);
                    break;
                default:
                    break;
            }
        }

        return builder.ToString();
    }

    private static byte[] Corrupt(byte[] bytes, (int Position, int Value)[] flips)
    {
        foreach (var (position, value) in flips)
        {
            if (bytes.Length > 0)
            {
                bytes[position % bytes.Length] = (byte)value;
            }
        }

        return bytes;
    }

    private static void AssertTraceContextInvariants(ActivityContext context)
    {
        if (!IsValid(context))
        {
            Assert.Equal(default, context);
            return;
        }

        Assert.True(context.IsRemote);
        Assert.Equal(ActivityTraceFlags.None, context.TraceFlags & ~(ActivityTraceFlags)0x03);
        if (context.TraceState is { } traceState)
        {
            Assert.InRange(traceState.Length, 1, 512);
            var members = traceState.Split(',');
            Assert.InRange(members.Length, 1, 32);
            foreach (var member in members)
            {
                var equals = member.IndexOf('=', StringComparison.Ordinal);
                Assert.True(TraceState.IsValidKey(member.AsSpan(0, equals)));
                Assert.True(TraceState.IsValidValue(member.AsSpan(equals + 1)));
            }
        }
    }

    private static void AssertB3Invariants(ActivityContext context)
    {
        if (IsValid(context))
        {
            Assert.True(context.IsRemote);
            Assert.Null(context.TraceState);
            Assert.Equal(ActivityTraceFlags.None, context.TraceFlags & ~ActivityTraceFlags.Recorded);
        }
        else
        {
            Assert.Equal(default, context);
        }
    }

    private static void AssertBaggageInvariants(OpenTelemetry.Baggage baggage)
    {
        Assert.InRange(baggage.Count, 0, W3CBaggagePropagator.DefaultMaxMembers);
        foreach (var (key, value) in baggage)
        {
            Assert.True(W3CBaggagePropagator.IsToken(key));
            Assert.Equal(-1, value.AsSpan().IndexOfAny('\r', '\n', '\0'));
        }
    }
}

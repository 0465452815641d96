using System.Buffers;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using OpenTelemetry.Context.Propagation;

namespace Messaging.Propagation;

/// <summary>Span-based helpers shared by the propagators. Nothing here allocates on the success path.</summary>
internal static class PropagationHelpers
{
    /// <summary>
    /// Whether <paramref name="propagator"/> is known to write nothing for an invalid context and empty baggage: the
    /// library's own (sealed) propagators and composites of them. A foreign propagator might write anyway.
    /// </summary>
    public static bool WritesNothingWithoutContext(TextMapPropagator propagator) => propagator switch
    {
        W3CTraceContextPropagator or W3CBaggagePropagator or B3Propagator or NoopPropagator => true,
        CompositePropagator composite => composite.Propagators.All(WritesNothingWithoutContext),
        _ => false,
    };

    /// <summary>How many values a getter returned for one header.</summary>
    internal enum ValueCount
    {
        /// <summary>No readable value.</summary>
        None,

        /// <summary>Exactly one value.</summary>
        One,

        /// <summary>Two or more values.</summary>
        Many,
    }

    /// <summary>
    /// The getter the library passes with an <see cref="IHeaderCarrier"/>. When a propagator is given exactly this
    /// getter, it may read the carrier through <see cref="IRawHeaderSource"/> instead: same values, no strings allocated.
    /// </summary>
    public static readonly Func<IHeaderCarrier, string, IEnumerable<string>?> CarrierGetter = static (carrier, name) => carrier.GetValues(name);

    private static readonly SearchValues<char> LowerHexChars = SearchValues.Create("0123456789abcdef");

    /// <summary>Whether <paramref name="context"/> has a non-zero trace id and span id.</summary>
    /// <param name="context">The context to test.</param>
    /// <returns><see langword="true"/> when the context identifies a span.</returns>
    public static bool IsValid(in ActivityContext context) =>
        context.TraceId != default && context.SpanId != default;

    /// <summary>
    /// Whether <paramref name="carrier"/> can be read directly: it implements <see cref="IRawHeaderSource"/> and
    /// <paramref name="getter"/> is <see cref="CarrierGetter"/>, so reading it directly gives what the getter would.
    /// </summary>
    /// <typeparam name="T">The carrier type.</typeparam>
    /// <param name="carrier">The carrier.</param>
    /// <param name="getter">The getter the propagator was given.</param>
    /// <param name="source">The carrier as a raw source.</param>
    /// <returns><see langword="true"/> when <paramref name="source"/> may be used instead of <paramref name="getter"/>.</returns>
    public static bool TryGetRawSource<T>(T carrier, Func<T, string, IEnumerable<string>?> getter, [NotNullWhen(true)] out IRawHeaderSource? source)
    {
        // Reading the stored value saves 200 of 504 B (40 %) per consumed message without a listener, 656 B (23 %) with 5 baggage members (consumer micro benchmark).
        if (ReferenceEquals(getter, CarrierGetter) && carrier is IRawHeaderSource raw)
        {
            source = raw;
            return true;
        }

        source = null;
        return false;
    }

    /// <summary>Creates an immutable field set for <see cref="OpenTelemetry.Context.Propagation.TextMapPropagator.Fields"/>.</summary>
    /// <param name="names">The header names.</param>
    /// <returns>A set whose mutating members throw.</returns>
    public static ISet<string> Fields(params string[] names) => ImmutableHashSet.Create(StringComparer.Ordinal, names);

    /// <summary>
    /// Reads the values a getter returned for one header and tells whether there was none, one or several.
    /// <see langword="null"/> entries are ignored.
    /// </summary>
    /// <param name="values">The getter's result.</param>
    /// <param name="single">The single value when the result is <see cref="ValueCount.One"/>.</param>
    /// <returns>How many non-null values there were (none, one, or many).</returns>
    public static ValueCount GetSingle(IEnumerable<string>? values, out string single)
    {
        single = string.Empty;
        switch (values)
        {
            case null:
                return ValueCount.None;
            case IReadOnlyList<string> list:
                var found = ValueCount.None;
                for (var i = 0; i < list.Count; i++)
                {
                    var item = list[i];
                    if (item is null)
                    {
                        continue;
                    }

                    if (found == ValueCount.One)
                    {
                        return ValueCount.Many;
                    }

                    single = item;
                    found = ValueCount.One;
                }

                return found;
            default:
                var result = ValueCount.None;
                foreach (var item in values)
                {
                    if (item is null)
                    {
                        continue;
                    }

                    if (result == ValueCount.One)
                    {
                        return ValueCount.Many;
                    }

                    single = item;
                    result = ValueCount.One;
                }

                return result;
        }
    }

    /// <summary>Whether <paramref name="c"/> is optional white space (space or horizontal tab, RFC 7230).</summary>
    /// <param name="c">The character.</param>
    /// <returns><see langword="true"/> for SP and HTAB.</returns>
    public static bool IsOws(char c) => c is ' ' or '\t';

    /// <summary>Removes leading and trailing optional white space.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The trimmed slice.</returns>
    public static ReadOnlySpan<char> TrimOws(ReadOnlySpan<char> text)
    {
        var start = 0;
        while (start < text.Length && IsOws(text[start]))
        {
            start++;
        }

        var end = text.Length;
        while (end > start && IsOws(text[end - 1]))
        {
            end--;
        }

        return text[start..end];
    }

    /// <summary>The value of a lower-case hex digit, or -1.</summary>
    /// <param name="c">The character.</param>
    /// <returns>0–15, or -1 when <paramref name="c"/> is not <c>[0-9a-f]</c>.</returns>
    public static int LowerHexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        _ => -1,
    };

    /// <summary>The value of a hex digit of either case, or -1.</summary>
    /// <param name="c">The character.</param>
    /// <returns>0–15, or -1 when <paramref name="c"/> is not a hex digit.</returns>
    public static int AnyHexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>Parses lower-case hex into bytes; <paramref name="hex"/> must be twice as long as <paramref name="bytes"/>.</summary>
    /// <param name="hex">The hex text.</param>
    /// <param name="bytes">The destination.</param>
    /// <returns><see langword="false"/> when a character is not lower-case hex.</returns>
    public static bool TryParseLowerHex(ReadOnlySpan<char> hex, Span<byte> bytes)
    {
        if (hex.Length != bytes.Length * 2)
        {
            return false;
        }

#if NET9_0_OR_GREATER
        if (hex.Length >= 16)
        {
            // Vectorised: validate the alphabet (lower case only), then convert.
            return IsLowerHex(hex)
                && Convert.FromHexString(hex, bytes, out _, out var written) == OperationStatus.Done
                && written == bytes.Length;
        }
#endif

        for (var i = 0; i < bytes.Length; i++)
        {
            var hi = LowerHexValue(hex[2 * i]);
            var lo = LowerHexValue(hex[(2 * i) + 1]);
            if ((hi | lo) < 0)
            {
                return false;
            }

            bytes[i] = (byte)((hi << 4) | lo);
        }

        return true;
    }

    /// <summary>Whether every character is a lower-case hex digit (<c>[0-9a-f]</c>).</summary>
    /// <param name="hex">The text.</param>
    /// <returns><see langword="true"/> when it is lower-case hex (or empty).</returns>
    public static bool IsLowerHex(ReadOnlySpan<char> hex) => hex.IndexOfAnyExcept(LowerHexChars) < 0;

    /// <summary>Whether every byte is zero.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns><see langword="true"/> for an all-zero (or empty) span.</returns>
    public static bool IsAllZero(ReadOnlySpan<byte> bytes) => bytes.IndexOfAnyExcept((byte)0) < 0;

    /// <summary>The lower-case hex digit for a nibble.</summary>
    /// <param name="nibble">0–15.</param>
    /// <returns>The digit.</returns>
    public static char LowerHexDigit(int nibble) => (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);

    /// <summary>Writes a trace id as 32 lower-case hex characters.</summary>
    /// <param name="traceId">The trace id.</param>
    /// <param name="destination">At least 32 characters.</param>
    public static void WriteTraceId(ActivityTraceId traceId, Span<char> destination) =>
        traceId.ToHexString().AsSpan().CopyTo(destination); // the id holds its lower-case hex text already

    /// <summary>Writes a span id as 16 lower-case hex characters.</summary>
    /// <param name="spanId">The span id.</param>
    /// <param name="destination">At least 16 characters.</param>
    public static void WriteSpanId(ActivitySpanId spanId, Span<char> destination) =>
        spanId.ToHexString().AsSpan().CopyTo(destination);
}

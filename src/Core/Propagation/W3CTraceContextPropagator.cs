using System.Diagnostics;
using OpenTelemetry.Context.Propagation;

namespace Messaging.Propagation;

/// <summary>
/// Propagates trace context in the W3C Trace Context Level 2 headers <c>traceparent</c> and <c>tracestate</c>.
/// </summary>
/// <remarks>
/// <para>
/// Extract leaves a context that already holds a valid <see cref="ActivityContext"/> unchanged, so this propagator
/// composes with others (first valid context wins). A <c>traceparent</c> is accepted when it is exactly one value,
/// lower-case hex, with non-zero ids; version <c>00</c> must be exactly 55 characters, version <c>ff</c> is invalid and
/// a higher version is read from its first 55 characters when those are followed by the end of the value or a dash.
/// Of the trace flags, bit 0 (sampled) and bit 1 (random) are kept and every other bit is cleared. Malformed input
/// yields the incoming context unchanged; Extract never throws.
/// </para>
/// <para>
/// <c>tracestate</c> values are combined with commas and normalised: empty members are skipped, duplicate keys keep
/// their first occurrence, and the list is cut to at most 32 members and 512 characters by dropping whole members
/// from the end. If any member is malformed, the whole <c>tracestate</c> is discarded (the specification permits
/// this, and a vendor's partially parsed state is worse than none). It is never read when <c>traceparent</c> is invalid.
/// </para>
/// <para>
/// Inject writes <c>traceparent</c> as version <c>00</c> whenever the context is valid, whatever its sampling
/// decision, and <c>tracestate</c> when it is non-empty and well formed.
/// </para>
/// </remarks>
public sealed class W3CTraceContextPropagator : TextMapPropagator
{
    /// <summary>The <c>traceparent</c> header name.</summary>
    internal const string TraceParentHeader = "traceparent";

    /// <summary>The <c>tracestate</c> header name.</summary>
    internal const string TraceStateHeader = "tracestate";

    private const int TraceParentLength = 55;
    private const ActivityTraceFlags KnownFlags = (ActivityTraceFlags)0x03;

    private static readonly ISet<string> FieldSet = PropagationHelpers.Fields(TraceParentHeader, TraceStateHeader);

    /// <inheritdoc />
    public override ISet<string> Fields => FieldSet;

    /// <inheritdoc />
    public override PropagationContext Extract<T>(PropagationContext context, T carrier, Func<T, string, IEnumerable<string>?> getter)
    {
        if (carrier is null || getter is null || PropagationHelpers.IsValid(context.ActivityContext))
        {
            return context;
        }

        ActivityTraceId traceId;
        ActivitySpanId spanId;
        ActivityTraceFlags flags;
        string? traceState;
        if (PropagationHelpers.TryGetRawSource(carrier, getter, out var source))
        {
            // The library's own carrier: read the stored value (often UTF-8 bytes) without allocating strings.
            if (source.Find(TraceParentHeader, out var value) != PropagationHelpers.ValueCount.One
                || !TryParseTraceParent(value, out traceId, out spanId, out flags))
            {
                return context;
            }

            traceState = source.Find(TraceStateHeader, out _) == PropagationHelpers.ValueCount.None
                ? null
                : TraceState.Parse(getter(carrier, TraceStateHeader));
        }
        else
        {
            if (PropagationHelpers.GetSingle(getter(carrier, TraceParentHeader), out var traceParent) != PropagationHelpers.ValueCount.One
                || !TryParseTraceParent(traceParent, out traceId, out spanId, out flags))
            {
                return context;
            }

            traceState = TraceState.Parse(getter(carrier, TraceStateHeader));
        }

        return new PropagationContext(new ActivityContext(traceId, spanId, flags, traceState, isRemote: true), context.Baggage);
    }

    /// <inheritdoc />
    public override void Inject<T>(PropagationContext context, T carrier, Action<T, string, string> setter)
    {
        var activityContext = context.ActivityContext;
        if (carrier is null || setter is null || !PropagationHelpers.IsValid(activityContext))
        {
            return;
        }

        setter(carrier, TraceParentHeader, FormatTraceParent(activityContext.TraceId, activityContext.SpanId, activityContext.TraceFlags));

        var traceState = activityContext.TraceState;
        if (!string.IsNullOrEmpty(traceState))
        {
            traceState = TraceState.Normalize(traceState);
            if (traceState is not null)
            {
                setter(carrier, TraceStateHeader, traceState);
            }
        }
    }

    private static bool TryParseTraceParent(in HeaderValue value, out ActivityTraceId traceId, out ActivitySpanId spanId, out ActivityTraceFlags flags)
    {
        if (value.DecodeBufferLength > HeaderValue.StackChars)
        {
            return TryParseTraceParent(value.ToString(), out traceId, out spanId, out flags);
        }

        Span<char> buffer = stackalloc char[value.DecodeBufferLength];
        return TryParseTraceParent(value.GetChars(buffer), out traceId, out spanId, out flags);
    }

    /// <summary>Parses a <c>traceparent</c> value per the version rules of W3C Trace Context Level 2.</summary>
    /// <param name="value">The header value.</param>
    /// <param name="traceId">The trace id.</param>
    /// <param name="spanId">The parent (span) id.</param>
    /// <param name="flags">The sampled and random flags; other bits cleared.</param>
    /// <returns><see langword="true"/> when the value is valid.</returns>
    internal static bool TryParseTraceParent(ReadOnlySpan<char> value, out ActivityTraceId traceId, out ActivitySpanId spanId, out ActivityTraceFlags flags)
    {
        traceId = default;
        spanId = default;
        flags = ActivityTraceFlags.None;

        if (value.Length < TraceParentLength)
        {
            return false;
        }

        var versionHigh = PropagationHelpers.LowerHexValue(value[0]);
        var versionLow = PropagationHelpers.LowerHexValue(value[1]);
        if ((versionHigh | versionLow) < 0 || value[2] != '-')
        {
            return false;
        }

        var version = (versionHigh << 4) | versionLow;
        if (version == 0xff
            || (version == 0 && value.Length != TraceParentLength)
            || (value.Length > TraceParentLength && value[TraceParentLength] != '-')
            || value[35] != '-'
            || value[52] != '-')
        {
            return false;
        }

        // The ids keep their hex text: validated here, they are created from it directly (no round trip through bytes).
        var traceHex = value.Slice(3, 32);
        var spanHex = value.Slice(36, 16);
        var flagHigh = PropagationHelpers.LowerHexValue(value[53]);
        var flagLow = PropagationHelpers.LowerHexValue(value[54]);
        if ((flagHigh | flagLow) < 0
            || !PropagationHelpers.IsLowerHex(traceHex)
            || !PropagationHelpers.IsLowerHex(spanHex)
            || traceHex.IndexOfAnyExcept('0') < 0
            || spanHex.IndexOfAnyExcept('0') < 0)
        {
            return false;
        }

        traceId = ActivityTraceId.CreateFromString(traceHex);
        spanId = ActivitySpanId.CreateFromString(spanHex);
        flags = (ActivityTraceFlags)((flagHigh << 4) | flagLow) & KnownFlags;
        return true;
    }

    /// <summary>Formats a version <c>00</c> <c>traceparent</c>, keeping only the sampled and random flags.</summary>
    /// <param name="traceId">The trace id.</param>
    /// <param name="spanId">The span id.</param>
    /// <param name="flags">The trace flags.</param>
    /// <returns>The 55-character header value.</returns>
    internal static string FormatTraceParent(ActivityTraceId traceId, ActivitySpanId spanId, ActivityTraceFlags flags) =>
        string.Create(TraceParentLength, (traceId, spanId, flags: (int)(flags & KnownFlags)), static (span, state) =>
        {
            span[0] = '0';
            span[1] = '0';
            span[2] = '-';
            PropagationHelpers.WriteTraceId(state.traceId, span.Slice(3, 32));
            span[35] = '-';
            PropagationHelpers.WriteSpanId(state.spanId, span.Slice(36, 16));
            span[52] = '-';
            span[53] = '0';
            span[54] = PropagationHelpers.LowerHexDigit(state.flags);
        });
}

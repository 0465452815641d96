using System.Diagnostics;
using OpenTelemetry.Context.Propagation;

namespace Messaging.Propagation;

/// <summary>
/// Propagates trace context in Zipkin B3 headers: the single <c>b3</c> header or the multiple <c>X-B3-*</c> headers.
/// </summary>
/// <remarks>
/// <para>
/// Extract reads both formats whatever the inject format: a context that is already valid is returned unchanged;
/// otherwise the single <c>b3</c> header is tried first and, when it yields no context (absent, malformed, or a lone
/// sampling decision such as <c>b3: 0</c>), the multiple headers. Ids are lower-case hex and not all zeros; a 64-bit
/// (16 hex) trace id is left-padded with zeros. Sampling <c>1</c> or <c>d</c> (debug), or <c>X-B3-Flags: 1</c>,
/// mean recorded; <c>0</c> or absent (deferred) mean not recorded. <c>X-B3-Sampled</c> also accepts the legacy
/// <c>true</c>/<c>false</c>. Anything malformed yields no context; Extract never throws. B3 carries no baggage: the
/// incoming baggage passes through.
/// </para>
/// <para>
/// Inject writes nothing for an invalid context; otherwise <c>b3: {trace-id}-{span-id}-{1|0}</c> or, in the multiple
/// format, <c>X-B3-TraceId</c>, <c>X-B3-SpanId</c> and <c>X-B3-Sampled</c>. <c>X-B3-ParentSpanId</c> is never written.
/// </para>
/// </remarks>
public sealed class B3Propagator : TextMapPropagator
{
    /// <summary>The single-header name.</summary>
    internal const string SingleHeader = "b3";

    /// <summary>The multi-header trace id name.</summary>
    internal const string TraceIdHeader = "X-B3-TraceId";

    /// <summary>The multi-header span id name.</summary>
    internal const string SpanIdHeader = "X-B3-SpanId";

    /// <summary>The multi-header sampling decision name.</summary>
    internal const string SampledHeader = "X-B3-Sampled";

    /// <summary>The multi-header debug flag name.</summary>
    internal const string FlagsHeader = "X-B3-Flags";

    private const int SingleLength = 32 + 1 + 16 + 1 + 1;

    private static readonly ISet<string> SingleFields = PropagationHelpers.Fields(SingleHeader);
    private static readonly ISet<string> MultiFields = PropagationHelpers.Fields(TraceIdHeader, SpanIdHeader, SampledHeader, FlagsHeader);

    private readonly bool _singleHeader;

    /// <summary>Creates a B3 propagator.</summary>
    /// <param name="singleHeader">
    /// <see langword="true"/> (the default) to inject the single <c>b3</c> header; <see langword="false"/> to inject the
    /// <c>X-B3-*</c> headers. Extract reads both formats either way.
    /// </param>
    public B3Propagator(bool singleHeader = true)
    {
        _singleHeader = singleHeader;
    }

    /// <summary>Gets a value indicating whether Inject writes the single <c>b3</c> header.</summary>
    public bool SingleHeaderFormat => _singleHeader;

    /// <inheritdoc />
    public override ISet<string> Fields => _singleHeader ? SingleFields : MultiFields;

    /// <inheritdoc />
    public override PropagationContext Extract<T>(PropagationContext context, T carrier, Func<T, string, IEnumerable<string>?> getter)
    {
        if (carrier is null || getter is null || PropagationHelpers.IsValid(context.ActivityContext))
        {
            return context;
        }

        if (PropagationHelpers.GetSingle(getter(carrier, SingleHeader), out var single) == PropagationHelpers.ValueCount.One
            && TryParseSingle(single, out var extracted))
        {
            return new PropagationContext(extracted, context.Baggage);
        }

        return TryExtractMulti(carrier, getter, out extracted)
            ? new PropagationContext(extracted, context.Baggage)
            : context;
    }

    /// <inheritdoc />
    public override void Inject<T>(PropagationContext context, T carrier, Action<T, string, string> setter)
    {
        var activityContext = context.ActivityContext;
        if (carrier is null || setter is null || !PropagationHelpers.IsValid(activityContext))
        {
            return;
        }

        var sampled = (activityContext.TraceFlags & ActivityTraceFlags.Recorded) != 0;
        if (_singleHeader)
        {
            setter(carrier, SingleHeader, string.Create(SingleLength, (activityContext.TraceId, activityContext.SpanId, sampled), static (span, state) =>
            {
                PropagationHelpers.WriteTraceId(state.TraceId, span[..32]);
                span[32] = '-';
                PropagationHelpers.WriteSpanId(state.SpanId, span.Slice(33, 16));
                span[49] = '-';
                span[50] = state.sampled ? '1' : '0';
            }));
            return;
        }

        setter(carrier, TraceIdHeader, activityContext.TraceId.ToHexString());
        setter(carrier, SpanIdHeader, activityContext.SpanId.ToHexString());
        setter(carrier, SampledHeader, sampled ? "1" : "0");
    }

    /// <summary>Parses a single <c>b3</c> header: <c>{trace-id}-{span-id}[-{sampling}[-{parent-span-id}]]</c>.</summary>
    /// <param name="value">The header value.</param>
    /// <param name="context">The remote context.</param>
    /// <returns><see langword="true"/> when the value carries a valid trace id and span id.</returns>
    internal static bool TryParseSingle(ReadOnlySpan<char> value, out ActivityContext context)
    {
        context = default;
        var dash = value.IndexOf('-');
        if (dash < 0)
        {
            // A lone sampling decision ("0", "1", "d") is legal but carries no context.
            return false;
        }

        if (!TryParseTraceId(value[..dash], out var traceId))
        {
            return false;
        }

        value = value[(dash + 1)..];
        dash = value.IndexOf('-');
        if (!TryParseSpanId(dash < 0 ? value : value[..dash], out var spanId))
        {
            return false;
        }

        var flags = ActivityTraceFlags.None;
        if (dash >= 0)
        {
            value = value[(dash + 1)..];
            dash = value.IndexOf('-');
            var sampling = dash < 0 ? value : value[..dash];
            if (sampling.Length != 1)
            {
                return false;
            }

            switch (sampling[0])
            {
                case '1' or 'd':
                    flags = ActivityTraceFlags.Recorded;
                    break;
                case '0':
                    break;
                default:
                    return false;
            }

            if (dash >= 0 && !IsSpanIdSyntax(value[(dash + 1)..]))
            {
                // The parent span id is validated (a fourth dash or bad hex is malformed) but not used.
                return false;
            }
        }

        context = new ActivityContext(traceId, spanId, flags, traceState: null, isRemote: true);
        return true;
    }

    private static bool TryExtractMulti<T>(T carrier, Func<T, string, IEnumerable<string>?> getter, out ActivityContext context)
    {
        context = default;
        if (PropagationHelpers.GetSingle(getter(carrier, TraceIdHeader), out var traceIdText) != PropagationHelpers.ValueCount.One
            || PropagationHelpers.GetSingle(getter(carrier, SpanIdHeader), out var spanIdText) != PropagationHelpers.ValueCount.One
            || !TryParseTraceId(traceIdText, out var traceId)
            || !TryParseSpanId(spanIdText, out var spanId))
        {
            return false;
        }

        var flags = ActivityTraceFlags.None;
        switch (PropagationHelpers.GetSingle(getter(carrier, SampledHeader), out var sampled))
        {
            case PropagationHelpers.ValueCount.Many:
                return false;
            case PropagationHelpers.ValueCount.One:
                if (sampled is "1" or "d" || sampled.Equals("true", StringComparison.OrdinalIgnoreCase))
                {
                    flags = ActivityTraceFlags.Recorded;
                }
                else if (!(sampled is "0" || sampled.Equals("false", StringComparison.OrdinalIgnoreCase)))
                {
                    return false;
                }

                break;
        }

        switch (PropagationHelpers.GetSingle(getter(carrier, FlagsHeader), out var debug))
        {
            case PropagationHelpers.ValueCount.Many:
                return false;
            case PropagationHelpers.ValueCount.One:
                if (debug == "1")
                {
                    flags = ActivityTraceFlags.Recorded;
                }
                else if (debug != "0")
                {
                    return false;
                }

                break;
        }

        context = new ActivityContext(traceId, spanId, flags, traceState: null, isRemote: true);
        return true;
    }

    private static bool TryParseTraceId(ReadOnlySpan<char> hex, out ActivityTraceId traceId)
    {
        traceId = default;
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        var parsed = hex.Length switch
        {
            32 => PropagationHelpers.TryParseLowerHex(hex, bytes),
            16 => PropagationHelpers.TryParseLowerHex(hex, bytes[8..]), // 64-bit id: left-padded with zeros
            _ => false,
        };
        if (!parsed || PropagationHelpers.IsAllZero(bytes))
        {
            return false;
        }

        traceId = ActivityTraceId.CreateFromBytes(bytes);
        return true;
    }

    private static bool TryParseSpanId(ReadOnlySpan<char> hex, out ActivitySpanId spanId)
    {
        spanId = default;
        Span<byte> bytes = stackalloc byte[8];
        if (!PropagationHelpers.TryParseLowerHex(hex, bytes) || PropagationHelpers.IsAllZero(bytes))
        {
            return false;
        }

        spanId = ActivitySpanId.CreateFromBytes(bytes);
        return true;
    }

    private static bool IsSpanIdSyntax(ReadOnlySpan<char> hex)
    {
        Span<byte> bytes = stackalloc byte[8];
        return PropagationHelpers.TryParseLowerHex(hex, bytes);
    }
}

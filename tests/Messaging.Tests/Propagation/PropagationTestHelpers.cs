using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using OpenTelemetry.Context.Propagation;

namespace Messaging.Tests.Propagation;

/// <summary>Carrier plumbing shared by the propagation tests: a <see cref="DictionaryHeaderCarrier"/> over raw headers.</summary>
internal static class PropagationTestHelpers
{
    public const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    public const string SpanId = "00f067aa0ba902b7";
    public const string ValidTraceParent = "00-" + TraceId + "-" + SpanId + "-01";

    public static readonly Func<DictionaryHeaderCarrier, string, IEnumerable<string>?> Getter = static (c, n) => c.GetValues(n);
    public static readonly Action<DictionaryHeaderCarrier, string, string> Setter = static (c, n, v) => c.SetValue(n, v);

    public static DictionaryHeaderCarrier Carrier(params (string Name, object? Value)[] headers) => new(Raw(headers));

    public static Dictionary<string, object?> Raw(params (string Name, object? Value)[] headers) => Core.CoreTestSupport.Headers(headers);

    /// <summary>Extracts the way the library does: its own getter, so the propagators read the carrier directly.</summary>
    public static PropagationContext Extract(TextMapPropagator propagator, params (string Name, object? Value)[] headers) =>
        propagator.Extract<IHeaderCarrier>(default, Carrier(headers), Messaging.Propagation.PropagationHelpers.CarrierGetter);

    public static Dictionary<string, object?> Inject(TextMapPropagator propagator, PropagationContext context)
    {
        var raw = new Dictionary<string, object?>(StringComparer.Ordinal);
        propagator.Inject(context, new DictionaryHeaderCarrier(raw), Setter);
        return raw;
    }

    public static ActivityContext Context(
        string traceId = TraceId,
        string spanId = SpanId,
        ActivityTraceFlags flags = ActivityTraceFlags.Recorded,
        string? traceState = null) =>
        new(ActivityTraceId.CreateFromString(traceId), ActivitySpanId.CreateFromString(spanId), flags, traceState, isRemote: true);

    public static OpenTelemetry.Baggage Bag(params (string Key, string Value)[] items) => Core.CoreTestSupport.Bag(items);

    public static bool IsValid(ActivityContext context) => context.TraceId != default && context.SpanId != default;

    /// <summary>
    /// The baggage-dropped measurements made while <paramref name="action"/> runs. The counter names no destination:
    /// callers run alone (<see cref="Core.DestinationlessMetricTests"/>), so every drop counted is theirs.
    /// </summary>
    public static List<(long Value, string? Reason, string? Direction)> CaptureDrops(Action action)
    {
        using var drops = new MetricCollector<long>(Instruments.BaggageDropped);
        action();
        return [.. drops.GetMeasurementSnapshot().Select(static m => (m.Value, m.Tags.GetValueOrDefault("reason") as string, m.Tags.GetValueOrDefault("direction") as string))];
    }
}

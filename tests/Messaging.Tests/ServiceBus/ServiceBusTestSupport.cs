using System.Diagnostics;
using Messaging.Propagation;
using Messaging.Tests.Support;
using OpenTelemetry;

namespace Messaging.Tests.ServiceBus;

/// <summary>
/// Gives a test a clean ambient context (no <see cref="Activity.Current"/>, a baggage holder of its own) and restores
/// exactly what was there before on dispose, so nothing a test sets leaks into another.
/// </summary>
internal sealed class CleanAmbient : IDisposable
{
    private readonly AmbientContext.Snapshot _previous = AmbientContext.Capture();

    public CleanAmbient() => AmbientContext.Clear();

    public void Dispose() => AmbientContext.Restore(_previous);
}

/// <summary>Options with an explicit W3C propagator: tests never depend on the process's <c>OTEL_PROPAGATORS</c>.</summary>
internal sealed class W3COptions : MessagingOptions
{
    public W3COptions() => Propagator = MessagingPropagators.CreateDefault();
}

/// <summary>Worker options (the worker's engine has an explicit W3C propagator).</summary>
internal sealed class W3CWorkerOptions : ConsumerWorkerOptions
{
}

internal static class ServiceBusTestData
{
    /// <summary>An instrumentation with default options and an explicit W3C propagator.</summary>
    public static readonly MessagingInstrumentation W3C = new(new W3COptions());

    public const string TraceIdA = "4bf92f3577b34da6a3ce929d0e0e4736";
    public const string SpanIdA = "00f067aa0ba902b7";
    public const string TraceParentA = "00-" + TraceIdA + "-" + SpanIdA + "-01";

    public const string TraceIdB = "0af7651916cd43dd8448eb211c80319c";
    public const string SpanIdB = "b7ad6b7169203331";
    public const string TraceParentB = "00-" + TraceIdB + "-" + SpanIdB + "-01";

    /// <summary>A destination no other test uses, to filter process-global spans.</summary>
    public static string NewEntity(string prefix = "orders") => TestData.UniqueName(prefix);

    /// <summary>What a broker hands the receiver: a read-only copy of the sent application properties.</summary>
    public static IReadOnlyDictionary<string, object> Deliver(IDictionary<string, object> sent) =>
        new Dictionary<string, object>(sent, StringComparer.Ordinal);

    public static Dictionary<string, object> Properties(params (string Name, object? Value)[] properties)
    {
        var result = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (name, value) in properties)
        {
            result[name] = value!; // Service Bus application properties may hold null at run time.
        }

        return result;
    }

    public static Dictionary<string, string> BaggageOf(Baggage baggage) => new(baggage.GetBaggage(), StringComparer.Ordinal);
}

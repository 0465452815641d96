using System.Diagnostics;
using Messaging.Propagation;
using Messaging.Tests.Support;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Xunit;

namespace Messaging.Tests.Core;

/// <summary>
/// Tests whose outcome depends on what listens to the library's <c>Messaging</c> ActivitySource (unsampled spans,
/// no span at all). ActivityListeners are process-global, so these tests run alone, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ListenerSensitiveTests
{
    public const string Name = "Messaging ActivitySource listeners (run alone)";
}

/// <summary>
/// Tests that count measurements whose tags name no destination (baggage members dropped). The library's instruments
/// are process-wide and a metric collector sees every test's measurements, so these tests run alone, after the
/// parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DestinationlessMetricTests
{
    public const string Name = "Measurements without a destination tag (run alone)";
}

/// <summary>Small builders shared by the Core tests.</summary>
internal static class CoreTestSupport
{
    public const string TestSystem = "test-system";

    public static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A destination no other test uses: spans, metrics and samplers are filtered by it.</summary>
    public static string UniqueDestination(string prefix = "queue") => TestData.UniqueName(prefix);

    /// <summary>Exports (OpenTelemetry SDK, in memory) the producer and consumer spans of <paramref name="destination"/>.</summary>
    public static ExportedSpans SpansOf(string destination) => ExportedSpans.Named("send " + destination, "process " + destination);

    /// <summary>
    /// A tracer provider whose sampler drops every span. The SDK still creates a dropped root span, or child of a remote
    /// parent, as propagation-only (its context is injected), but never records or exports it: the test inspects the
    /// span its scope started.
    /// </summary>
    public static ExportedSpans UnsampledSpans() => new(configure: static b => b.SetSampler(new AlwaysOffSampler()));

    /// <summary>The measurements collected so far whose <c>messaging.destination.name</c> is <paramref name="destination"/>.</summary>
    public static List<CollectedMeasurement<T>> Of<T>(MetricCollector<T> metrics, string destination)
        where T : struct =>
        [.. metrics.GetMeasurementSnapshot().Where(m => m.Tags.TryGetValue("messaging.destination.name", out var d) && Equals(d, destination))];

    /// <summary>A tag of a measurement as a string; null when absent.</summary>
    public static string? Tag<T>(this CollectedMeasurement<T> measurement, string key)
        where T : struct =>
        measurement.Tags.TryGetValue(key, out var value) ? value as string : null;

    public static MessagingInstrumentation Instrumentation(Action<MessagingOptions>? configure = null, ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
    {
        // Explicit propagator: never depend on OTEL_PROPAGATORS of the test process.
        var options = new MessagingOptions { Propagator = MessagingPropagators.CreateDefault() };
        configure?.Invoke(options);
        return new MessagingInstrumentation(options, loggerFactory, time);
    }

    public static ActivityContext RemoteContext(ActivityTraceFlags flags = ActivityTraceFlags.Recorded, string? traceState = null) =>
        new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), flags, traceState, isRemote: true);

    public static string TraceParent(ActivityContext context) =>
        $"00-{context.TraceId.ToHexString()}-{context.SpanId.ToHexString()}-{((context.TraceFlags & ActivityTraceFlags.Recorded) != 0 ? "01" : "00")}";

    public static string TraceParent(Activity activity) =>
        $"00-{activity.TraceId.ToHexString()}-{activity.SpanId.ToHexString()}-{(activity.Recorded ? "01" : "00")}";

    public static Dictionary<string, object?> Headers(params (string Name, object? Value)[] headers)
    {
        var raw = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in headers)
        {
            raw.Add(name, value);
        }

        return raw;
    }

    public static IncomingMessage Incoming(string destination, params (string Name, object? Value)[] headers) =>
        new(TestSystem, destination, new DictionaryHeaderCarrier(Headers(headers)));

    public static IncomingMessage Incoming(string destination, ActivityContext remote, string? baggage = null) =>
        baggage is null
            ? Incoming(destination, ("traceparent", TraceParent(remote)))
            : Incoming(destination, ("traceparent", TraceParent(remote)), ("baggage", baggage));

    public static Baggage Bag(params (string Key, string Value)[] items)
    {
        var dictionary = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in items)
        {
            dictionary[key] = value;
        }

        return Baggage.Create(dictionary);
    }

    /// <summary>The members of a baggage in ordinal key order, for content comparison (Baggage equality is order-sensitive).</summary>
    public static SortedDictionary<string, string> Contents(Baggage baggage) => new(baggage.GetBaggage().ToDictionary(), StringComparer.Ordinal);

    /// <summary>Header names equal to <paramref name="name"/> ignoring case.</summary>
    public static List<string> KeysLike(IDictionary<string, object?> headers, string name) =>
        headers.Keys.Where(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase)).ToList();
}

/// <summary>An ambient (application) activity source, with its own listener, unrelated to the library's source.</summary>
/// <remarks>
/// The listener collects nothing: it only makes the source create activities, so a test has an application's
/// ambient span that no tracer provider of a test exports, whatever listens to the library's source.
/// </remarks>
internal static class AmbientSource
{
    public static readonly ActivitySource Source = new("Messaging.Tests.Core.Ambient");

    private static readonly ActivityListener Listener = CreateListener();

    /// <summary>Starts a new root activity from the ambient source and makes it current (in the caller's flow).</summary>
    public static Activity StartRoot(string name = "ambient")
    {
        GC.KeepAlive(Listener);
        Activity.Current = null;
        return Source.StartActivity(name, ActivityKind.Internal, parentContext: default)
            ?? throw new InvalidOperationException("The ambient test source has a listener; it must create activities.");
    }

    private static ActivityListener CreateListener()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => ReferenceEquals(source, Source),
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            SampleUsingParentId = static (ref ActivityCreationOptions<string> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}

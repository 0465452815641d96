using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Messaging.Propagation;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
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

/// <summary>Small builders shared by the Core tests.</summary>
internal static class CoreTestSupport
{
    public const string TestSystem = "test-system";

    public static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A destination no other test uses: spans, metrics and samplers are filtered by it.</summary>
    public static string UniqueDestination(string prefix = "queue") => prefix + "-" + Guid.NewGuid().ToString("N");

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

/// <summary>
/// A listener on the library's source that samples only spans with the given names (so tests running in parallel,
/// each with its own destination, do not see each other's spans) and collects them when they stop.
/// </summary>
internal sealed class ActivityCollector : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly HashSet<string> _names;

    public ActivityCollector(ActivitySamplingResult sampling, params string[] names)
    {
        _names = new HashSet<string>(names, StringComparer.Ordinal);
        _listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == MessagingTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> options) => _names.Contains(options.Name) ? sampling : ActivitySamplingResult.None,
            SampleUsingParentId = (ref ActivityCreationOptions<string> options) => _names.Contains(options.Name) ? sampling : ActivitySamplingResult.None,
            ActivityStopped = activity =>
            {
                if (_names.Contains(activity.OperationName))
                {
                    _stopped.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> Stopped => [.. _stopped];

    /// <summary>Samples (all data, recorded) the producer and consumer spans of <paramref name="destination"/>.</summary>
    public static ActivityCollector For(string destination, ActivitySamplingResult sampling = ActivitySamplingResult.AllDataAndRecorded) =>
        new(sampling, "send " + destination, "process " + destination);

    public void Dispose() => _listener.Dispose();
}

/// <summary>Records measurements of the library's meter, with the managed thread that made each one.</summary>
internal sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Measurement> _measurements = new();

    public MetricRecorder(params string[] instruments)
    {
        var names = new HashSet<string>(instruments, StringComparer.Ordinal);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MessagingTelemetry.MeterName && names.Contains(instrument.Name))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    public IReadOnlyList<Measurement> All => [.. _measurements];

    /// <summary>Measurements made on the calling thread (for synchronous tests, this excludes parallel tests' ones).</summary>
    public IReadOnlyList<Measurement> OnThisThread
    {
        get
        {
            var thread = Environment.CurrentManagedThreadId;
            return [.. _measurements.Where(m => m.ThreadId == thread)];
        }
    }

    public IReadOnlyList<Measurement> WithTag(string key, string value) =>
        [.. _measurements.Where(m => m.Tags.TryGetValue(key, out var v) && Equals(v, value))];

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var dictionary = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            dictionary[tag.Key] = tag.Value;
        }

        _measurements.Enqueue(new Measurement(instrument.Name, value, dictionary, Environment.CurrentManagedThreadId));
    }

    internal sealed record Measurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags, int ThreadId)
    {
        public string? Tag(string key) => Tags.TryGetValue(key, out var value) ? value as string : null;
    }
}

/// <summary>A logger factory that keeps every entry.</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyList<Entry> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    internal sealed record Entry(string Category, LogLevel Level, EventId EventId, string Message, IReadOnlyDictionary<string, object?> State, Exception? Exception);

    private sealed class Logger(CapturingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var pair in pairs)
                {
                    values[pair.Key] = pair.Value;
                }
            }

            owner._entries.Enqueue(new Entry(category, logLevel, eventId, formatter(state, exception), values, exception));
        }
    }
}

/// <summary>A clock that only moves when told to.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private long _timestamp = 1_000_000;
    private DateTimeOffset _now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _timestamp);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by)
    {
        Interlocked.Add(ref _timestamp, by.Ticks);
        _now += by;
    }
}

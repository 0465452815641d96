using System.Collections;
using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Messaging.Tests.Support;

/// <summary>
/// An OpenTelemetry SDK tracer provider, alive until disposed, whose in-memory exporter receives each span of the
/// library's source and of the tests' own source when the span ends (a simple, synchronous export processor).
/// </summary>
/// <remarks>
/// Like any tracer provider, it listens process-wide: spans of tests running in parallel are exported too, so a test
/// reads only its own (by a destination or trace of its own, or with a filter). The default sampler
/// records everything; a span that ends unrecorded is never exported (to look at one, keep the
/// <see cref="Activity"/> the code under test started, e.g. <see cref="Activity.Current"/>).
/// </remarks>
public sealed class ExportedSpans : IDisposable
{
    private readonly Exports _exports;
    private readonly TracerProvider _provider;

    /// <param name="filter">Which exported spans <see cref="Exported"/> keeps; all when null.</param>
    /// <param name="configure">Adds to the tracer provider before it is built (a sampler, a processor, more sources).</param>
    public ExportedSpans(Func<Activity, bool>? filter = null, Action<TracerProviderBuilder>? configure = null)
    {
        _exports = new Exports(filter ?? (static _ => true));
        var builder = Sdk.CreateTracerProviderBuilder()
            .AddSource(MessagingTelemetry.ActivitySourceName, TestData.SourceName)
            .SetSampler(new AlwaysOnSampler());
        configure?.Invoke(builder);
        _provider = builder.AddInMemoryExporter(_exports).Build();
    }

    /// <summary>Gets the spans exported so far that pass the filter, in the order they ended.</summary>
    public IReadOnlyList<Activity> Exported => _exports.Snapshot();

    /// <summary>Exports the spans, of the library's and the tests' sources, whose operation name is one of <paramref name="names"/>.</summary>
    public static ExportedSpans Named(params string[] names)
    {
        var set = new HashSet<string>(names, StringComparer.Ordinal);
        return new ExportedSpans(a => set.Contains(a.OperationName));
    }

    public void Dispose() => _provider.Dispose();

    /// <summary>
    /// What the in-memory exporter adds to. The exporter writes under its processor's lock, but a test reads while
    /// spans of other threads end: reads and writes take this collection's own lock, and readers get copies.
    /// </summary>
    private sealed class Exports(Func<Activity, bool> filter) : ICollection<Activity>
    {
        private readonly List<Activity> _items = [];

        public int Count
        {
            get
            {
                lock (_items)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public List<Activity> Snapshot()
        {
            lock (_items)
            {
                return [.. _items];
            }
        }

        public void Add(Activity item)
        {
            if (!filter(item))
            {
                return;
            }

            lock (_items)
            {
                _items.Add(item);
            }
        }

        // The exporter only adds; a test reads copies through Exported.
        public void Clear() => throw new NotSupportedException();

        public bool Contains(Activity item) => throw new NotSupportedException();

        public void CopyTo(Activity[] array, int arrayIndex) => throw new NotSupportedException();

        public bool Remove(Activity item) => throw new NotSupportedException();

        public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

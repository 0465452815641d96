using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Messaging.Benchmarks.Common;

/// <summary>The tracer provider every "listener on" measurement uses: AlwaysOn sampling, spans dropped.</summary>
public static class Tracing
{
    /// <summary>The harness's own source (baseline spans, soak root spans).</summary>
    public const string BenchSourceName = "Messaging.Benchmarks";

    public static readonly ActivitySource BenchSource = new(BenchSourceName);

    /// <summary>
    /// An SDK tracer provider listening to the library's source, the harness's own and <paramref name="peerSources"/>
    /// (a peer's own instrumentation), with a no-op processor.
    /// </summary>
    public static TracerProvider CreateProvider(NoopProcessor? processor = null, params string[] peerSources) =>
        Sdk.CreateTracerProviderBuilder()
            .AddMessagingInstrumentation()
            .AddSource(BenchSourceName)
            .AddSource(peerSources)
            .SetSampler(new AlwaysOnSampler())
            .AddProcessor(processor ?? new NoopProcessor())
            .Build()!;
}

/// <summary>Drops every span; counts the ended ones so a run can check spans were really recorded.</summary>
public sealed class NoopProcessor : BaseProcessor<Activity>
{
    private long _ended;

    public long Ended => Interlocked.Read(ref _ended);

    public override void OnEnd(Activity data) => Interlocked.Increment(ref _ended);
}

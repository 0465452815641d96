using System.Diagnostics;
using OpenTelemetry.Metrics;

namespace Messaging.Testing.Internal;

/// <summary>What one registration of the harness owns: its options, its observer and the exporters' collections.</summary>
internal sealed class HarnessState(MessagingTestHarnessOptions options)
{
    public MessagingTestHarnessOptions Options { get; } = options;

    public HarnessObserver Observer { get; } = new();

    public LockedCollection<Activity> Spans { get; } = new();

    public LockedCollection<MetricSnapshot> Metrics { get; } = new();
}

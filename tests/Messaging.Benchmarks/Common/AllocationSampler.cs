using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace Messaging.Benchmarks.Common;

/// <summary>
/// A sampling allocation profiler without extra tools: listens to the runtime's <c>GCAllocationTick</c> event (raised
/// about every 100 KB allocated, naming the type of the object that crossed the mark) and attributes the sampled
/// amount to that type. Statistically, bytes per type. Only enabled with <c>--alloc-profile</c>; it adds overhead.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, long>> _byLabel = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _messages = new(StringComparer.Ordinal);
    private volatile ConcurrentDictionary<string, long>? _current;

    public void Begin(string label, long messages)
    {
        _messages.AddOrUpdate(label, messages, (_, m) => m + messages);
        _current = _byLabel.GetOrAdd(label, static _ => new ConcurrentDictionary<string, long>(StringComparer.Ordinal));
    }

    public void End() => _current = null;

    public void Print(int top)
    {
        foreach (var (label, types) in _byLabel.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var messages = Math.Max(1, _messages.GetValueOrDefault(label));
            var total = types.Values.Sum();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# allocation profile {label}: ~{(double)total / messages:N0} B/msg sampled; top types (B/msg):"));
            foreach (var (type, bytes) in types.OrderByDescending(p => p.Value).Take(top))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"#   {(double)bytes / messages,8:N1}  {type}"));
            }
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        ArgumentNullException.ThrowIfNull(eventSource);
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        var current = _current;
        if (current is null || eventData.EventName is null || !eventData.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal)
            || eventData.PayloadNames is not { } names || eventData.Payload is not { } payload)
        {
            return;
        }

        var typeIndex = names.IndexOf("TypeName");
        var amountIndex = names.IndexOf("AllocationAmount64");
        if (amountIndex < 0)
        {
            amountIndex = names.IndexOf("AllocationAmount");
        }

        if (typeIndex < 0 || amountIndex < 0)
        {
            return;
        }

        var type = payload[typeIndex] as string ?? "?";
        var amount = Convert.ToInt64(payload[amountIndex], CultureInfo.InvariantCulture);
        current.AddOrUpdate(type, amount, (_, sum) => sum + amount);
    }
}

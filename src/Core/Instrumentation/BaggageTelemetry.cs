using System.Collections.Concurrent;
using System.Diagnostics;
using OpenTelemetry;

namespace Messaging;

/// <summary><see cref="BaggageTelemetryOptions"/> frozen for the hot path, with the metric cardinality guard.</summary>
internal sealed class BaggageTelemetry
{
    private readonly KeyPattern _keys;
    private readonly string? _prefix;
    private readonly int _maxValues;
    private readonly ConcurrentDictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _seen = new(StringComparer.Ordinal);

    public BaggageTelemetry(BaggageTelemetryOptions options)
    {
        _keys = new KeyPattern(options.Keys);
        _prefix = string.IsNullOrEmpty(options.AttributePrefix) ? null : options.AttributePrefix;
        _maxValues = options.MaxDistinctValuesPerKey;
        var enabled = !_keys.IsEmpty;
        OnConsumerSpans = enabled && options.OnConsumerSpans;
        OnProducerSpans = enabled && options.OnProducerSpans;
        InMetrics = enabled && options.InMetrics;
        InLogScope = enabled && options.InLogScope;
    }

    public bool OnConsumerSpans { get; }

    public bool OnProducerSpans { get; }

    public bool InMetrics { get; }

    public bool InLogScope { get; }

    public void SetAttributes(Activity activity, Baggage baggage)
    {
        if (baggage.Count == 0)
        {
            return;
        }

        foreach (var (key, value) in baggage)
        {
            if (value is not null && _keys.Matches(key))
            {
                activity.SetTag(Name(key), value);
            }
        }
    }

    public void AddTags(ref TagList tags, Baggage baggage)
    {
        if (baggage.Count == 0)
        {
            return;
        }

        foreach (var (key, value) in baggage)
        {
            if (value is not null && _keys.Matches(key))
            {
                tags.Add(Name(key), Guard(key, value));
            }
        }
    }

    public void AddScope(List<KeyValuePair<string, object?>> scope, Baggage baggage)
    {
        foreach (var (key, value) in baggage)
        {
            if (value is not null && _keys.Matches(key))
            {
                scope.Add(new(Name(key), value));
            }
        }
    }

    private string Name(string key) => _prefix is null ? key : _names.GetOrAdd(key, static (k, p) => p + k, _prefix);

    private string Guard(string key, string value)
    {
        var values = _seen.GetOrAdd(key, static _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal));
        if (values.ContainsKey(value))
        {
            return value;
        }

        lock (values)
        {
            if (values.ContainsKey(value))
            {
                return value;
            }

            if (values.Count >= _maxValues)
            {
                return BaggageTelemetryOptions.OverflowValue;
            }

            values.TryAdd(value, 0);
            return value;
        }
    }
}

namespace Messaging;

/// <summary>
/// Lets a message through once per cause and interval, counting what it held back, so that a flood of bad messages
/// yields one log line per cause and minute rather than one per message.
/// </summary>
internal sealed class LogThrottle
{
    private readonly TimeProvider _time;
    private readonly long _intervalTicks;
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public LogThrottle(TimeProvider time, TimeSpan interval)
    {
        _time = time;
        _intervalTicks = (long)(interval.TotalSeconds * time.TimestampFrequency);
    }

    /// <summary>Returns true when the cause may be logged now; <paramref name="suppressed"/> is how many were held back since.</summary>
    public bool ShouldLog(string cause, long occurrences, out long suppressed)
    {
        var now = _time.GetTimestamp();
        lock (_gate)
        {
            if (!_entries.TryGetValue(cause, out var entry))
            {
                _entries[cause] = new Entry { NextAllowed = now + _intervalTicks };
                suppressed = 0;
                return true;
            }

            if (now >= entry.NextAllowed)
            {
                suppressed = entry.Suppressed;
                entry.Suppressed = 0;
                entry.NextAllowed = now + _intervalTicks;
                return true;
            }

            entry.Suppressed += occurrences;
            suppressed = 0;
            return false;
        }
    }

    private sealed class Entry
    {
        public long NextAllowed;
        public long Suppressed;
    }
}

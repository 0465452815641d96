using OpenTelemetry;

namespace Messaging;

/// <summary>
/// Pruning helpers for <see cref="Baggage.Current"/> in a handler, before it publishes onward: the next hop should
/// not carry what it does not need. Inside a worker's handler each message has its own baggage holder, so pruning
/// affects only that message.
/// </summary>
public static class MessagingBaggage
{
    /// <summary>Removes <paramref name="keys"/> (matched ignoring case) from <see cref="Baggage.Current"/>.</summary>
    /// <param name="keys">The keys to remove.</param>
    /// <returns>The baggage now current.</returns>
    public static Baggage Remove(params string[] keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var pattern = new HashSet<string>(keys, StringComparer.OrdinalIgnoreCase);
        return Replace(key => !pattern.Contains(key));
    }

    /// <summary>Keeps only the members whose key satisfies <paramref name="keep"/> in <see cref="Baggage.Current"/>.</summary>
    /// <param name="keep">Decides, per key, whether the member stays.</param>
    /// <returns>The baggage now current.</returns>
    public static Baggage Retain(Func<string, bool> keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        return Replace(keep);
    }

    private static Baggage Replace(Func<string, bool> keep)
    {
        var current = Baggage.Current;
        var kept = new Dictionary<string, string>(current.Count, StringComparer.Ordinal);
        foreach (var (key, value) in current)
        {
            if (value is not null && keep(key))
            {
                kept[key] = value;
            }
        }

        var result = kept.Count == current.Count ? current : (kept.Count == 0 ? default : Baggage.Create(kept));
        Baggage.Current = result;
        return result;
    }
}

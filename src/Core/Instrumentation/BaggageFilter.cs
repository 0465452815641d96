using OpenTelemetry;

namespace Messaging;

/// <summary>A <see cref="BaggagePolicy"/> frozen for use on the hot path.</summary>
internal sealed class BaggageFilter
{
    private readonly KeyPattern _allow;
    private readonly KeyPattern _deny;
    private readonly int _maxMembers;
    private readonly int _maxBytes;

    public BaggageFilter(BaggagePolicy policy)
    {
        _allow = new KeyPattern(policy.AllowedKeys);
        _deny = new KeyPattern(policy.DeniedKeys);
        _maxMembers = policy.MaxMembers;
        _maxBytes = policy.MaxBytes;
    }

    /// <summary>
    /// Applies the policy, reporting each drop to <paramref name="reporter"/> as <paramref name="direction"/>. Returns
    /// <paramref name="baggage"/> itself (no allocation) when nothing needs dropping.
    /// </summary>
    public Baggage Apply(Baggage baggage, PropagationReporter reporter, string direction)
    {
        var count = baggage.Count;
        if (count == 0)
        {
            return baggage;
        }

        if (count > _maxMembers)
        {
            return Rebuild(baggage.GetBaggage(), reporter, direction);
        }

        // An encoded character takes at most 9 bytes (3 percent-encoded UTF-8 bytes): when even that bound fits, the
        // exact size is not needed. Baggage's own enumerator is a struct: the common case allocates nothing.
        long bound = count - 1;
        foreach (var item in baggage)
        {
            if (!Admits(item.Key, item.Value, out _))
            {
                return Rebuild(baggage.GetBaggage(), reporter, direction);
            }

            bound += item.Key.Length + 1 + (9L * (item.Value?.Length ?? 0));
        }

        if (bound <= _maxBytes)
        {
            return baggage;
        }

        var total = 0;
        foreach (var item in baggage)
        {
            total += (total == 0 ? 0 : 1) + MemberSize(item.Key, item.Value);
        }

        return total > _maxBytes ? Rebuild(baggage.GetBaggage(), reporter, direction) : baggage;
    }

    /// <summary>The encoded size of <c>key=value</c> on the wire, value percent-encoded as the W3C baggage propagator does.</summary>
    internal static int MemberSize(string key, string? value)
    {
        var size = key.Length + 1;
        if (value is null)
        {
            return size;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c < 0x80)
            {
                size += IsLiteral(c) ? 1 : 3;
            }
            else if (c < 0x800)
            {
                size += 6;
            }
            else if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                size += 12; // a surrogate pair is 4 UTF-8 bytes, each percent-encoded.
                i++;
            }
            else
            {
                size += 9; // 3 UTF-8 bytes; a lone surrogate is sent as U+FFFD, also 3 bytes.
            }
        }

        return size;
    }

    private static bool IsLiteral(char c) =>
        c is '!' or (>= '#' and <= '+' and not '%') or (>= '-' and <= ':') or (>= '<' and <= '[') or (>= ']' and <= '~');

    private static bool HasForbiddenChars(string? s) =>
        s is not null && s.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0;

    private bool Admits(string key, string? value, out string reason)
    {
        if (!_deny.IsEmpty && _deny.Matches(key))
        {
            reason = PropagationReporter.Denied;
            return false;
        }

        if (!_allow.IsEmpty && !_allow.Matches(key))
        {
            reason = PropagationReporter.NotAllowed;
            return false;
        }

        if (HasForbiddenChars(key) || HasForbiddenChars(value))
        {
            reason = PropagationReporter.InvalidCharacters;
            return false;
        }

        reason = string.Empty;
        return true;
    }

    private Baggage Rebuild(IReadOnlyDictionary<string, string> items, PropagationReporter reporter, string direction)
    {
        var candidates = new List<KeyValuePair<string, string>>(items.Count);
        foreach (var item in items)
        {
            if (Admits(item.Key, item.Value, out var reason))
            {
                candidates.Add(item);
            }
            else
            {
                reporter.BaggageDropped(direction, reason, 1);
            }
        }

        candidates.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var kept = new Dictionary<string, string>(candidates.Count, StringComparer.Ordinal);
        var bytes = 0;
        int memberLimitDrops = 0, byteLimitDrops = 0;
        foreach (var item in candidates)
        {
            if (kept.Count >= _maxMembers)
            {
                memberLimitDrops++;
                continue;
            }

            var size = MemberSize(item.Key, item.Value) + (kept.Count == 0 ? 0 : 1);
            if (bytes + size > _maxBytes)
            {
                byteLimitDrops++;
                continue;
            }

            bytes += size;
            kept[item.Key] = item.Value;
        }

        reporter.BaggageDropped(direction, PropagationReporter.MemberLimit, memberLimitDrops);
        reporter.BaggageDropped(direction, PropagationReporter.ByteLimit, byteLimitDrops);

        return kept.Count == 0 ? default : Baggage.Create(kept);
    }
}

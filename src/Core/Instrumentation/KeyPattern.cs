namespace Messaging;

/// <summary>A frozen set of baggage key names and <c>prefix*</c> patterns, matched ignoring case.</summary>
internal sealed class KeyPattern
{
    private readonly HashSet<string> _exact = new(StringComparer.OrdinalIgnoreCase);
    private readonly string[] _prefixes;

    public KeyPattern(IEnumerable<string> keys)
    {
        var prefixes = new List<string>();
        foreach (var key in keys)
        {
            if (key.EndsWith('*'))
            {
                prefixes.Add(key[..^1]);
            }
            else
            {
                _exact.Add(key);
            }
        }

        _prefixes = [.. prefixes];
    }

    public bool IsEmpty => _exact.Count == 0 && _prefixes.Length == 0;

    public bool Matches(string key)
    {
        if (_exact.Contains(key))
        {
            return true;
        }

        foreach (var prefix in _prefixes)
        {
            if (key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}

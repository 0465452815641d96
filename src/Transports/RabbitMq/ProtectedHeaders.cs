using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Messaging.Transports.RabbitMq;

/// <summary>
/// A header table that keeps the propagation headers this library injected: RabbitMQ.Client's own publisher
/// instrumentation (when something listens to it) writes its span's context into the same headers, and would
/// otherwise overwrite ours. Its writes to the protected keys are ignored; every other header passes through to
/// the user's dictionary.
/// </summary>
internal sealed class ProtectedHeaders(IDictionary<string, object?> inner, IReadOnlyList<string> protectedKeys) : IDictionary<string, object?>
{
    public ICollection<string> Keys => inner.Keys;

    public ICollection<object?> Values => inner.Values;

    public int Count => inner.Count;

    public bool IsReadOnly => inner.IsReadOnly;

    public object? this[string key]
    {
        get => inner[key];
        set
        {
            if (!IsProtected(key))
            {
                inner[key] = value;
            }
        }
    }

    public void Add(string key, object? value)
    {
        if (!IsProtected(key))
        {
            inner.Add(key, value);
        }
    }

    public void Add(KeyValuePair<string, object?> item) => Add(item.Key, item.Value);

    public bool Remove(string key) => !IsProtected(key) && inner.Remove(key);

    public bool Remove(KeyValuePair<string, object?> item) => !IsProtected(item.Key) && inner.Remove(item);

    public void Clear() => inner.Clear();

    public bool ContainsKey(string key) => inner.ContainsKey(key);

    public bool Contains(KeyValuePair<string, object?> item) => inner.Contains(item);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object? value) => inner.TryGetValue(key, out value);

    public void CopyTo(KeyValuePair<string, object?>[] array, int arrayIndex) => inner.CopyTo(array, arrayIndex);

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => inner.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private bool IsProtected(string key)
    {
        for (var i = 0; i < protectedKeys.Count; i++)
        {
            var name = protectedKeys[i];
            if (HeaderLookup.IsName(key, name))
            {
                return inner.ContainsKey(name);
            }
        }

        return false;
    }
}

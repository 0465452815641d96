using Messaging.Propagation;

namespace Messaging;

/// <summary>
/// An <see cref="IHeaderCarrier"/> over a mutable dictionary of raw header values, the shape most brokers use
/// (AMQP tables, application properties). Values are written as strings and read through
/// <see cref="HeaderValues.TryGetString(object?, out string)"/>, after an optional transport-specific conversion.
/// </summary>
public sealed class DictionaryHeaderCarrier : IHeaderCarrier, IRawHeaderSource
{
    private readonly IDictionary<string, object?> _headers;
    private readonly Func<object?, object?>? _convert;

    /// <summary>Creates a carrier over <paramref name="headers"/>.</summary>
    /// <param name="headers">The message's headers; written in place.</param>
    /// <param name="convert">
    /// An optional conversion applied to each raw value before text normalisation, for transport value types
    /// such as a binary table value. It must not throw.
    /// </param>
    public DictionaryHeaderCarrier(IDictionary<string, object?> headers, Func<object?, object?>? convert = null)
    {
        ArgumentNullException.ThrowIfNull(headers);
        _headers = headers;
        _convert = convert;
    }

    /// <inheritdoc />
    public IEnumerable<string> Keys => _headers.Keys;

    /// <inheritdoc />
    public IReadOnlyList<string>? GetValues(string name)
    {
        string? first = null;
        List<string>? more = null;
        if (_headers.TryGetValue(name, out var exact) && TryRead(exact, out var exactValue))
        {
            first = exactValue.ToString();
        }

        // Peers write different cases (x-b3-traceid vs X-B3-TraceId); AMQP keys are case-sensitive.
        // A concrete Dictionary is enumerated without allocating.
        if (_headers is Dictionary<string, object?> dictionary)
        {
            foreach (var pair in dictionary)
            {
                CollectCaseVariant(name, pair, ref first, ref more);
            }
        }
        else
        {
            foreach (var pair in _headers)
            {
                CollectCaseVariant(name, pair, ref first, ref more);
            }
        }

        return more ?? (first is null ? null : [first]);
    }

    /// <inheritdoc />
    PropagationHelpers.ValueCount IRawHeaderSource.Find(string name, out HeaderValue value)
    {
        // The case-insensitive match needs one pass over the keys anyway; it finds the exact key too (no hash lookup).
        var count = PropagationHelpers.ValueCount.None;
        value = default;
        if (_headers is Dictionary<string, object?> dictionary)
        {
            foreach (var pair in dictionary)
            {
                if (!Count(name, pair, ref count, ref value))
                {
                    return count;
                }
            }
        }
        else
        {
            foreach (var pair in _headers)
            {
                if (!Count(name, pair, ref count, ref value))
                {
                    return count;
                }
            }
        }

        return count;
    }

    /// <inheritdoc />
    public void SetValue(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        RemoveCaseVariants(name);
        _headers[name] = value;
    }

    /// <inheritdoc />
    public bool Remove(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var removed = _headers.Remove(name);
        return RemoveCaseVariants(name) || removed;
    }

    /// <summary>Whether <paramref name="key"/> is <paramref name="name"/> in any case.</summary>
    private static bool IsName(string key, string name) =>
        key.Length == name.Length && string.Equals(key, name, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether <paramref name="key"/> is <paramref name="name"/> in another case.</summary>
    private static bool IsCaseVariant(string key, string name) =>
        IsName(key, name) && !string.Equals(key, name, StringComparison.Ordinal);

    private void CollectCaseVariant(string name, KeyValuePair<string, object?> pair, ref string? first, ref List<string>? more)
    {
        if (!IsCaseVariant(pair.Key, name) || !TryRead(pair.Value, out var value))
        {
            return;
        }

        var text = value.ToString();
        if (first is null)
        {
            first = text;
        }
        else
        {
            (more ??= [first]).Add(text);
        }
    }

    /// <summary>Counts a readable value of <paramref name="name"/> (any case); returns <see langword="false"/> once there are several.</summary>
    private bool Count(string name, KeyValuePair<string, object?> pair, ref PropagationHelpers.ValueCount count, ref HeaderValue value)
    {
        if (!IsName(pair.Key, name) || !TryRead(pair.Value, out var found))
        {
            return true;
        }

        if (count == PropagationHelpers.ValueCount.One)
        {
            count = PropagationHelpers.ValueCount.Many;
            return false;
        }

        value = found;
        count = PropagationHelpers.ValueCount.One;
        return true;
    }

    private bool RemoveCaseVariants(string name)
    {
        if (_headers.Count == 0)
        {
            return false;
        }

        List<string>? variants = null;
        if (_headers is Dictionary<string, object?> dictionary)
        {
            foreach (var key in dictionary.Keys)
            {
                if (IsCaseVariant(key, name))
                {
                    (variants ??= []).Add(key);
                }
            }
        }
        else
        {
            foreach (var key in _headers.Keys)
            {
                if (IsCaseVariant(key, name))
                {
                    (variants ??= []).Add(key);
                }
            }
        }

        if (variants is null)
        {
            return false;
        }

        foreach (var key in variants)
        {
            _headers.Remove(key);
        }

        return true;
    }

    private bool TryRead(object? raw, out HeaderValue value)
    {
        if (_convert is not null)
        {
            try
            {
                raw = _convert(raw);
            }
#pragma warning disable CA1031 // A conversion failure means "absent", never an exception into a broker callback.
            catch
#pragma warning restore CA1031
            {
                value = default;
                return false;
            }
        }

        return HeaderValue.TryCreate(raw, out value);
    }
}

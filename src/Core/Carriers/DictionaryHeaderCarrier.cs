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
    public IReadOnlyList<string>? GetValues(string name) => HeaderLookup.GetValues(_headers, name, _convert);

    /// <inheritdoc />
    PropagationHelpers.ValueCount IRawHeaderSource.Find(string name, out HeaderValue value) => HeaderLookup.Find(_headers, name, _convert, out value);

    /// <inheritdoc />
    public void SetValue(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        HeaderLookup.RemoveAll(_headers, name);
        _headers[name] = value;
    }

    /// <inheritdoc />
    public bool Remove(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return HeaderLookup.RemoveAll(_headers, name);
    }
}

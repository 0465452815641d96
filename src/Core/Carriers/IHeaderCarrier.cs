namespace Messaging;

/// <summary>
/// Read and write access to the headers of one message, independent of any broker.
/// </summary>
/// <remarks>
/// Transports adapt their header model (AMQP table, application properties, …) to this interface;
/// propagators and the baggage policy only ever see a carrier. Implementations must never throw for
/// unusual stored values: a value that cannot be read as text is reported as absent.
/// </remarks>
public interface IHeaderCarrier
{
    /// <summary>Gets the names of all headers present on the message.</summary>
    IEnumerable<string> Keys { get; }

    /// <summary>
    /// Gets the text values of the header named <paramref name="name"/>, matched case-insensitively
    /// (peers differ in the case they write). Returns <see langword="null"/> when no readable value exists.
    /// More than one value is returned only when the message carries several headers whose names
    /// differ only in case.
    /// </summary>
    /// <param name="name">The header name.</param>
    /// <returns>The values as strings, or <see langword="null"/>.</returns>
    IReadOnlyList<string>? GetValues(string name);

    /// <summary>
    /// Sets the header named <paramref name="name"/> (written in the case given) to a string value,
    /// replacing any header whose name differs only in case.
    /// </summary>
    /// <param name="name">The header name, in its canonical case.</param>
    /// <param name="value">The value.</param>
    void SetValue(string name, string value);

    /// <summary>Removes every header whose name equals <paramref name="name"/> ignoring case.</summary>
    /// <param name="name">The header name.</param>
    /// <returns><see langword="true"/> when at least one header was removed.</returns>
    bool Remove(string name);
}

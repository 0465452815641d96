using RabbitMQ.Client;

namespace Messaging.Transports.RabbitMq;

/// <summary>Maps AMQP header tables (<see cref="IReadOnlyBasicProperties.Headers"/>) to the core carrier.</summary>
public static class RabbitMqHeaders
{
    /// <summary>
    /// Creates a carrier over an AMQP header table. Reads accept <see cref="string"/>, UTF-8 <see cref="byte"/> arrays
    /// (how the client delivers long strings) and <see cref="BinaryTableValue"/> (how byte-array fields from other
    /// clients arrive); any other value type is absent. Writes store strings.
    /// </summary>
    /// <param name="headers">The header table; written in place.</param>
    /// <returns>The carrier.</returns>
    public static IHeaderCarrier CreateCarrier(IDictionary<string, object?> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        return new DictionaryHeaderCarrier(headers, ConvertValue);
    }

    /// <summary>Renders a header value as text for display (logs, samples): the carrier's rules, or <see langword="null"/>.</summary>
    /// <param name="value">The raw value.</param>
    /// <returns>The text, or <see langword="null"/> when the value is not text.</returns>
    public static string? ToText(object? value) => HeaderValues.TryGetString(ConvertValue(value), out var text) ? text : null;

    internal static object? ConvertValue(object? value) => value is BinaryTableValue binary ? binary.Bytes : value;
}

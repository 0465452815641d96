namespace Messaging.Transports.ServiceBus;

/// <summary>
/// A read-only <see cref="IHeaderCarrier"/> over the application properties of a received Service Bus message
/// (<c>ServiceBusReceivedMessage.ApplicationProperties</c>, an <see cref="IReadOnlyDictionary{TKey, TValue}"/> of
/// <see cref="string"/> to <see cref="object"/>). No Azure SDK dependency: any such dictionary works.
/// </summary>
/// <remarks>
/// <para>
/// Names are matched case-insensitively. Only <see cref="string"/> values are read: Service Bus application properties
/// are typed AMQP values, and every known writer of these properties (this library, OpenTelemetry, the Azure SDK)
/// writes strings. Anything else — numbers, <see cref="Guid"/>, <see cref="DateTime"/>, <see langword="null"/>, and
/// also <see cref="byte"/> arrays (AMQP binary, not text) — is absent, never an exception.
/// </para>
/// <para>
/// Fallbacks, so the core engine stays the one place that parses and extracts:
/// <list type="bullet">
/// <item><description><c>traceparent</c>: the <c>traceparent</c> property, or, when no string <c>traceparent</c> exists,
/// the Azure SDK's legacy <c>Diagnostic-Id</c> (a traceparent-format string). A <c>traceparent</c> that exists but is
/// malformed is not replaced: the context is then malformed, as the core reports it.</description></item>
/// <item><description><c>tracestate</c>: only read when a string <c>traceparent</c> exists (a tracestate belongs to the
/// traceparent it was written with; <c>Diagnostic-Id</c> never carries one).</description></item>
/// <item><description><c>baggage</c>: the <c>baggage</c> property, or, when absent, the legacy <c>Correlation-Context</c>
/// (comma-separated <c>key=value</c> members, parsed by the W3C baggage rules).</description></item>
/// </list>
/// </para>
/// <para>Writes throw <see cref="NotSupportedException"/>: to forward a message, copy its properties into the new
/// message and inject through a <see cref="ServiceBusPropertiesCarrier"/> (or <see cref="ServiceBusPropagation.StartSend"/>).</para>
/// </remarks>
public sealed class ServiceBusReceivedPropertiesCarrier : IHeaderCarrier
{
    private readonly IReadOnlyDictionary<string, object> _properties;

    /// <summary>Creates a carrier over <paramref name="applicationProperties"/>.</summary>
    /// <param name="applicationProperties">The received message's application properties; never written.</param>
    public ServiceBusReceivedPropertiesCarrier(IReadOnlyDictionary<string, object> applicationProperties)
    {
        ArgumentNullException.ThrowIfNull(applicationProperties);
        _properties = applicationProperties;
    }

    /// <inheritdoc />
    public IEnumerable<string> Keys => _properties.Keys;

    /// <inheritdoc />
    public IReadOnlyList<string>? GetValues(string name) => ApplicationPropertyReader.GetValues(_properties, name);

    /// <summary>Not supported: a received message's application properties are read-only.</summary>
    /// <param name="name">The header name.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="NotSupportedException">Always.</exception>
    public void SetValue(string name, string value) => throw ReadOnly();

    /// <summary>Not supported: a received message's application properties are read-only.</summary>
    /// <param name="name">The header name.</param>
    /// <returns>Never returns.</returns>
    /// <exception cref="NotSupportedException">Always.</exception>
    public bool Remove(string name) => throw ReadOnly();

    private static NotSupportedException ReadOnly() =>
        new("The application properties of a received Service Bus message are read-only. To forward the message, copy them "
            + "into the new message and inject through ServiceBusPropertiesCarrier or ServiceBusPropagation.StartSend.");
}

namespace Messaging.Transports.ServiceBus;

/// <summary>
/// An <see cref="IHeaderCarrier"/> over the application properties of a Service Bus message being sent
/// (<c>ServiceBusMessage.ApplicationProperties</c>, an <see cref="IDictionary{TKey, TValue}"/> of
/// <see cref="string"/> to <see cref="object"/>). No Azure SDK dependency: any such dictionary works.
/// </summary>
/// <remarks>
/// <para>
/// Values are written as strings, in the case given. Names are matched case-insensitively; only
/// <see cref="string"/> values are read — anything else (numbers, <see cref="Guid"/>, <see cref="byte"/> arrays,
/// <see langword="null"/>) is absent, never an exception.
/// </para>
/// <para>
/// The Azure SDK's legacy properties are owned together with their W3C counterparts: reading <c>traceparent</c>
/// falls back to <c>Diagnostic-Id</c>, and <c>baggage</c> to <c>Correlation-Context</c>, when the W3C property is
/// absent (see <see cref="ServiceBusReceivedPropertiesCarrier"/>); writing or removing <c>traceparent</c> also removes
/// <c>Diagnostic-Id</c>, and writing or removing <c>baggage</c> also removes <c>Correlation-Context</c>. So a message
/// forwarded with its properties copied never keeps a stale legacy context next to the new one.
/// </para>
/// </remarks>
public sealed class ServiceBusPropertiesCarrier : IHeaderCarrier
{
    private readonly IDictionary<string, object> _properties;

    /// <summary>Creates a carrier over <paramref name="applicationProperties"/>.</summary>
    /// <param name="applicationProperties">The outgoing message's application properties; written in place.</param>
    public ServiceBusPropertiesCarrier(IDictionary<string, object> applicationProperties)
    {
        ArgumentNullException.ThrowIfNull(applicationProperties);
        _properties = applicationProperties;
    }

    /// <inheritdoc />
    public IEnumerable<string> Keys => _properties.Keys;

    /// <inheritdoc />
    /// <remarks>
    /// <c>traceparent</c> falls back to <c>Diagnostic-Id</c>, and <c>baggage</c> to <c>Correlation-Context</c>, when no
    /// string value of the W3C property exists; <c>tracestate</c> is only read alongside a <c>traceparent</c>.
    /// </remarks>
    public IReadOnlyList<string>? GetValues(string name) => ApplicationPropertyReader.GetValues(_properties, name);

    /// <inheritdoc />
    /// <remarks>Setting <c>traceparent</c> also removes <c>Diagnostic-Id</c>; setting <c>baggage</c> also removes <c>Correlation-Context</c>.</remarks>
    public void SetValue(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        Remove(name);
        _properties[name] = value;
    }

    /// <inheritdoc />
    /// <remarks>Removing <c>traceparent</c> also removes <c>Diagnostic-Id</c>; removing <c>baggage</c> also removes <c>Correlation-Context</c>.</remarks>
    public bool Remove(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var removed = RemoveAllCases(_properties, name);
        if (ApplicationPropertyReader.LegacyCounterpart(name) is { } legacy)
        {
            removed |= RemoveAllCases(_properties, legacy);
        }

        return removed;
    }

    /// <summary>Removes every property whose name equals <paramref name="name"/> ignoring case.</summary>
    internal static bool RemoveAllCases(IDictionary<string, object> properties, string name) => HeaderLookup.RemoveAll(properties!, name);
}

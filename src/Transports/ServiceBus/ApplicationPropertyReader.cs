namespace Messaging.Transports.ServiceBus;

/// <summary>
/// The one read rule of both Service Bus carriers: case-insensitive names, only <see cref="string"/> values, and the
/// legacy fallbacks (<c>Diagnostic-Id</c> for <c>traceparent</c>, <c>Correlation-Context</c> for <c>baggage</c>).
/// </summary>
internal static class ApplicationPropertyReader
{
    /// <summary>Reads <paramref name="name"/> with the Service Bus fallbacks applied.</summary>
    /// <param name="properties">The application properties.</param>
    /// <param name="name">The requested header name.</param>
    /// <returns>The string values, or <see langword="null"/> when none is readable.</returns>
    public static IReadOnlyList<string>? GetValues(IEnumerable<KeyValuePair<string, object>> properties, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (IsName(name, ServiceBusMessaging.TraceParentProperty))
        {
            return Read(properties, ServiceBusMessaging.TraceParentProperty)
                ?? Read(properties, ServiceBusMessaging.DiagnosticIdProperty);
        }

        if (IsName(name, ServiceBusMessaging.TraceStateProperty))
        {
            // tracestate belongs to the traceparent it was written with; Diagnostic-Id never carries one.
            return Read(properties, ServiceBusMessaging.TraceParentProperty) is null
                ? null
                : Read(properties, ServiceBusMessaging.TraceStateProperty);
        }

        if (IsName(name, ServiceBusMessaging.BaggageProperty))
        {
            return Read(properties, ServiceBusMessaging.BaggageProperty)
                ?? Read(properties, ServiceBusMessaging.CorrelationContextProperty);
        }

        return Read(properties, name);
    }

    /// <summary>Gets the legacy property a standard header falls back to, or <see langword="null"/>.</summary>
    /// <param name="name">A header name.</param>
    /// <returns>The legacy property name.</returns>
    public static string? LegacyCounterpart(string name) =>
        IsName(name, ServiceBusMessaging.TraceParentProperty) ? ServiceBusMessaging.DiagnosticIdProperty
        : IsName(name, ServiceBusMessaging.BaggageProperty) ? ServiceBusMessaging.CorrelationContextProperty
        : null;

    public static bool IsName(string a, string b) => HeaderLookup.IsName(a, b);

    // Service Bus application properties are typed AMQP values: only a string is a header value. A byte[] is binary,
    // not text (unlike RabbitMQ, nothing here turns strings into bytes); null, numbers, Guid, DateTime … are absent.
    private static IReadOnlyList<string>? Read(IEnumerable<KeyValuePair<string, object>> properties, string name) =>
        HeaderLookup.GetValues(properties!, name, StringsOnly);

    private static object? StringsOnly(object? value) => value as string;
}

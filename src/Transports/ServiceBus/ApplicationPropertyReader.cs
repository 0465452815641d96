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
            return ReadExact(properties, ServiceBusMessaging.TraceParentProperty)
                ?? ReadExact(properties, ServiceBusMessaging.DiagnosticIdProperty);
        }

        if (IsName(name, ServiceBusMessaging.TraceStateProperty))
        {
            // tracestate belongs to the traceparent it was written with; Diagnostic-Id never carries one.
            return ReadExact(properties, ServiceBusMessaging.TraceParentProperty) is null
                ? null
                : ReadExact(properties, ServiceBusMessaging.TraceStateProperty);
        }

        if (IsName(name, ServiceBusMessaging.BaggageProperty))
        {
            return ReadExact(properties, ServiceBusMessaging.BaggageProperty)
                ?? ReadExact(properties, ServiceBusMessaging.CorrelationContextProperty);
        }

        return ReadExact(properties, name);
    }

    /// <summary>Gets the legacy property a standard header falls back to, or <see langword="null"/>.</summary>
    /// <param name="name">A header name.</param>
    /// <returns>The legacy property name.</returns>
    public static string? LegacyCounterpart(string name) =>
        IsName(name, ServiceBusMessaging.TraceParentProperty) ? ServiceBusMessaging.DiagnosticIdProperty
        : IsName(name, ServiceBusMessaging.BaggageProperty) ? ServiceBusMessaging.CorrelationContextProperty
        : null;

    public static bool IsName(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private static List<string>? ReadExact(IEnumerable<KeyValuePair<string, object>> properties, string name)
    {
        List<string>? values = null;
        foreach (var pair in properties)
        {
            // Service Bus application properties are typed AMQP values: only a string is a header value.
            // A byte[] is binary, not text (unlike RabbitMQ, nothing here turns strings into bytes); null, numbers,
            // Guid, DateTime … are absent. Never an exception.
            if (pair.Value is not string text || !IsName(pair.Key, name))
            {
                continue;
            }

            values ??= new List<string>(1);
            if (string.Equals(pair.Key, name, StringComparison.Ordinal))
            {
                values.Insert(0, text);
            }
            else
            {
                values.Add(text);
            }
        }

        return values;
    }
}

namespace Messaging.Transports.ServiceBus;

/// <summary>
/// The producer side of Service Bus on plain dictionaries, for code that sends through something other than a
/// <c>ServiceBusSender</c> (the sender's own helpers, <c>SendMessageWithContextAsync</c> and friends, use the same rule).
/// </summary>
public static class ServiceBusPropagation
{
    private static readonly string[] TraceProperties =
    [
        ServiceBusMessaging.TraceParentProperty,
        ServiceBusMessaging.TraceStateProperty,
        ServiceBusMessaging.DiagnosticIdProperty,
        ServiceBusMessaging.BaggageProperty,
        ServiceBusMessaging.CorrelationContextProperty,
    ];

    /// <summary>
    /// Starts the PRODUCER span <c>send {entityPath}</c> and replaces the trace properties of
    /// <paramref name="applicationProperties"/> with the current context. Every trace property a Service Bus message
    /// can carry — <c>traceparent</c>, <c>tracestate</c>, <c>Diagnostic-Id</c>, <c>baggage</c>,
    /// <c>Correlation-Context</c>, in any case — is removed first, whatever propagator is configured, so a message
    /// forwarded with its properties copied from a received one never keeps a stale context (the Azure SDK would keep
    /// it). Then the configured propagator injects the current context and the outbound baggage policy applies; other
    /// properties are left as they are. Dispose the scope after the send; call
    /// <see cref="ProducerScope.RecordException(Exception)"/> if it failed.
    /// </summary>
    /// <param name="instrumentation">The propagation engine (for example <see cref="MessagingInstrumentation.Default"/>).</param>
    /// <param name="applicationProperties">The outgoing message's application properties (<c>ServiceBusMessage.ApplicationProperties</c>).</param>
    /// <param name="entityPath">The queue or topic the message is sent to.</param>
    /// <param name="messageId">The message id, when set.</param>
    /// <param name="correlationId">The correlation id, when set.</param>
    /// <param name="bodySize">The body size in bytes, when known.</param>
    /// <param name="fullyQualifiedNamespace">The namespace host name, when known.</param>
    /// <returns>The producer scope; dispose it after the send.</returns>
    public static ProducerScope StartSend(
        MessagingInstrumentation instrumentation,
        IDictionary<string, object> applicationProperties,
        string entityPath,
        string? messageId = null,
        string? correlationId = null,
        long? bodySize = null,
        string? fullyQualifiedNamespace = null)
    {
        ArgumentNullException.ThrowIfNull(instrumentation);
        ArgumentNullException.ThrowIfNull(applicationProperties);
        var message = ServiceBusMessaging.CreateOutgoing(entityPath, messageId, correlationId, bodySize, fullyQualifiedNamespace);
        return instrumentation.StartProducer(message, Prepare(applicationProperties));
    }

    /// <summary>Removes every trace property (any case, whatever the propagator) and returns the carrier to inject into.</summary>
    internal static ServiceBusPropertiesCarrier Prepare(IDictionary<string, object> applicationProperties)
    {
        foreach (var property in TraceProperties)
        {
            ServiceBusPropertiesCarrier.RemoveAllCases(applicationProperties, property);
        }

        return new ServiceBusPropertiesCarrier(applicationProperties);
    }
}

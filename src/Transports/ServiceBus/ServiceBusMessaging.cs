namespace Messaging.Transports.ServiceBus;

/// <summary>
/// Azure Service Bus names and the mapping of a Service Bus message to what the core spans record
/// (OpenTelemetry messaging semantic conventions). No Azure SDK dependency.
/// </summary>
public static class ServiceBusMessaging
{
    /// <summary>The <c>messaging.system</c> value of Azure Service Bus.</summary>
    internal const string MessagingSystem = "servicebus";

    /// <summary>The W3C <c>traceparent</c> application property.</summary>
    internal const string TraceParentProperty = "traceparent";

    /// <summary>The W3C <c>tracestate</c> application property.</summary>
    internal const string TraceStateProperty = "tracestate";

    /// <summary>The W3C <c>baggage</c> application property.</summary>
    internal const string BaggageProperty = "baggage";

    /// <summary>
    /// The Azure SDK's legacy trace property (a traceparent-format string), read when no <c>traceparent</c> exists and
    /// removed whenever <c>traceparent</c> is written.
    /// </summary>
    internal const string DiagnosticIdProperty = "Diagnostic-Id";

    /// <summary>
    /// The legacy baggage property (comma-separated <c>key=value</c>), read when no <c>baggage</c> exists and removed
    /// whenever <c>baggage</c> is written.
    /// </summary>
    internal const string CorrelationContextProperty = "Correlation-Context";

    private const string SubscriptionsSegment = "/Subscriptions/";

    /// <summary>Describes a message about to be sent, for <see cref="MessagingInstrumentation.StartProducer"/>.</summary>
    /// <param name="entityPath">The queue or topic the message is sent to (<c>messaging.destination.name</c>).</param>
    /// <param name="messageId">The message id (<c>messaging.message.id</c>), when set.</param>
    /// <param name="correlationId">The correlation id (<c>messaging.message.conversation_id</c>), when set.</param>
    /// <param name="bodySize">The body size in bytes, when known.</param>
    /// <param name="fullyQualifiedNamespace">The namespace host name (<c>server.address</c>), when known.</param>
    /// <returns>The outgoing message description, with <c>messaging.system</c> = <c>servicebus</c>.</returns>
    public static OutgoingMessage CreateOutgoing(
        string entityPath,
        string? messageId = null,
        string? correlationId = null,
        long? bodySize = null,
        string? fullyQualifiedNamespace = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(entityPath);
        return new OutgoingMessage(MessagingSystem, entityPath)
        {
            MessageId = messageId,
            ConversationId = correlationId,
            BodySize = bodySize,
            ServerAddress = fullyQualifiedNamespace,
        };
    }

    /// <summary>
    /// Describes a received message for <see cref="MessagingInstrumentation.StartConsumer(in IncomingMessage)"/> (and for a parenting
    /// policy): its application properties behind a <see cref="ServiceBusReceivedPropertiesCarrier"/>, the destination
    /// and subscription, the message id, the delivery count (<see cref="IncomingMessage.Redelivered"/> when above 1) and
    /// the enqueue time.
    /// </summary>
    /// <param name="applicationProperties">The received message's application properties.</param>
    /// <param name="entityPath">
    /// The queue or topic received from. A processor's entity path for a subscription, <c>{topic}/Subscriptions/{name}</c>,
    /// is split into the topic (<c>messaging.destination.name</c>) and the subscription.
    /// </param>
    /// <param name="messageId">The message id, when set.</param>
    /// <param name="deliveryCount">The broker's delivery count (1 on the first delivery).</param>
    /// <param name="enqueuedTime">When the message was enqueued, when known.</param>
    /// <param name="subscription">The subscription (<c>messaging.destination.subscription.name</c>); overrides one found in <paramref name="entityPath"/>.</param>
    /// <param name="correlationId">The correlation id, when set.</param>
    /// <param name="bodySize">The body size in bytes, when known.</param>
    /// <param name="fullyQualifiedNamespace">The namespace host name (<c>server.address</c>), when known.</param>
    /// <returns>The incoming message description, with <c>messaging.system</c> = <c>servicebus</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="deliveryCount"/> is negative.</exception>
    public static IncomingMessage CreateIncoming(
        IReadOnlyDictionary<string, object> applicationProperties,
        string entityPath,
        string? messageId = null,
        int deliveryCount = 1,
        DateTimeOffset? enqueuedTime = null,
        string? subscription = null,
        string? correlationId = null,
        long? bodySize = null,
        string? fullyQualifiedNamespace = null)
    {
        ArgumentNullException.ThrowIfNull(applicationProperties);
        ArgumentException.ThrowIfNullOrEmpty(entityPath);
        ArgumentOutOfRangeException.ThrowIfNegative(deliveryCount);

        var destination = entityPath;
        var split = entityPath.IndexOf(SubscriptionsSegment, StringComparison.OrdinalIgnoreCase);
        if (split > 0 && split + SubscriptionsSegment.Length < entityPath.Length)
        {
            destination = entityPath[..split];
            subscription ??= entityPath[(split + SubscriptionsSegment.Length)..];
        }

        return new IncomingMessage(MessagingSystem, destination, new ServiceBusReceivedPropertiesCarrier(applicationProperties))
        {
            MessageId = messageId,
            ConversationId = correlationId,
            BodySize = bodySize,
            Subscription = subscription,
            DeliveryCount = deliveryCount > 0 ? deliveryCount : null,
            Redelivered = deliveryCount > 1,
            EnqueuedAt = enqueuedTime,
            ServerAddress = fullyQualifiedNamespace,
        };
    }
}

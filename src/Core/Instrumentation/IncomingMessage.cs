namespace Messaging;

/// <summary>
/// A received message as the consumer pipeline sees it: its headers and what a consumer span records
/// (OpenTelemetry messaging semantic conventions). Also what a <see cref="MessagingOptions.ParentingPolicy"/> decides on.
/// </summary>
/// <param name="System">The <c>messaging.system</c> value, for example <c>rabbitmq</c>.</param>
/// <param name="Destination">The <c>messaging.destination.name</c>: the queue (or topic) consumed from.</param>
/// <param name="Headers">The message's headers.</param>
public readonly record struct IncomingMessage(string System, string Destination, IHeaderCarrier Headers)
{
    /// <summary>Gets the <c>messaging.operation.name</c>. Default: <c>process</c>.</summary>
    public string OperationName { get; init; } = "process";

    /// <summary>Gets the <c>messaging.message.id</c>, when known.</summary>
    public string? MessageId { get; init; }

    /// <summary>Gets the <c>messaging.message.conversation_id</c> (correlation id), when known.</summary>
    public string? ConversationId { get; init; }

    /// <summary>Gets the <c>messaging.message.body.size</c> in bytes, when known.</summary>
    public long? BodySize { get; init; }

    /// <summary>Gets the routing key the message was published with (RabbitMQ), when known.</summary>
    public string? RoutingKey { get; init; }

    /// <summary>Gets the subscription name (topics with subscriptions), when known.</summary>
    public string? Subscription { get; init; }

    /// <summary>Gets a value indicating whether the broker delivered this message before (RabbitMQ's redelivered flag, or a delivery count above 1).</summary>
    public bool Redelivered { get; init; }

    /// <summary>Gets the broker's delivery count, when the broker keeps one.</summary>
    public int? DeliveryCount { get; init; }

    /// <summary>Gets when the message was enqueued or published, when known.</summary>
    public DateTimeOffset? EnqueuedAt { get; init; }

    /// <summary>Gets the <c>server.address</c>, when known.</summary>
    public string? ServerAddress { get; init; }

    /// <summary>Gets the <c>server.port</c>, when known.</summary>
    public int? ServerPort { get; init; }
}

namespace Messaging;

/// <summary>
/// What a producer span records about a message being sent (OpenTelemetry messaging semantic conventions).
/// </summary>
/// <param name="System">The <c>messaging.system</c> value, for example <c>rabbitmq</c> or <c>servicebus</c>.</param>
/// <param name="Destination">The <c>messaging.destination.name</c>: exchange, queue or topic.</param>
public readonly record struct OutgoingMessage(string System, string Destination)
{
    /// <summary>Gets the <c>messaging.operation.name</c>. Default: <c>send</c>.</summary>
    public string OperationName { get; init; } = "send";

    /// <summary>Gets the <c>messaging.message.id</c>, when known.</summary>
    public string? MessageId { get; init; }

    /// <summary>Gets the <c>messaging.message.conversation_id</c> (correlation id), when known.</summary>
    public string? ConversationId { get; init; }

    /// <summary>Gets the <c>messaging.message.body.size</c> in bytes, when known.</summary>
    public long? BodySize { get; init; }

    /// <summary>Gets the <c>messaging.rabbitmq.destination.routing_key</c>, for RabbitMQ.</summary>
    public string? RoutingKey { get; init; }

    /// <summary>Gets the <c>server.address</c>, when known.</summary>
    public string? ServerAddress { get; init; }

    /// <summary>Gets the <c>server.port</c>, when known.</summary>
    public int? ServerPort { get; init; }
}

namespace Messaging;

/// <summary>Attribute and value names of the OpenTelemetry messaging semantic conventions used by this library.</summary>
internal static class SemanticConventions
{
    public const string MessagingSystem = "messaging.system";
    public const string DestinationName = "messaging.destination.name";
    public const string DestinationSubscriptionName = "messaging.destination.subscription.name";
    public const string OperationType = "messaging.operation.type";
    public const string OperationName = "messaging.operation.name";
    public const string MessageId = "messaging.message.id";
    public const string ConversationId = "messaging.message.conversation_id";
    public const string BodySize = "messaging.message.body.size";
    public const string DeliveryCount = "messaging.message.delivery_count";
    public const string ServiceBusDeliveryCount = "messaging.servicebus.message.delivery_count";
    public const string ServiceBusDispositionStatus = "messaging.servicebus.disposition_status";
    public const string ServiceBusEnqueuedTime = "messaging.servicebus.message.enqueued_time";
    public const string BatchMessageCount = "messaging.batch.message_count";
    public const string ServiceBusSystem = "servicebus";
    public const string OperationTypeCreate = "create";
    public const string RabbitMqRoutingKey = "messaging.rabbitmq.destination.routing_key";
    public const string ServerAddress = "server.address";
    public const string ServerPort = "server.port";
    public const string ErrorType = "error.type";
    public const string OperationTypeSend = "send";
    public const string OperationTypeProcess = "process";
}

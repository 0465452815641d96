using Azure.Core.Amqp;
using Azure.Messaging.ServiceBus;

namespace Messaging.Transports.ServiceBus;

/// <summary>The SDK's messages mapped to what the core spans record, shared by the send helpers, the publisher and the workers.</summary>
internal static class ServiceBusSemantics
{
    public static OutgoingMessage Outgoing(ServiceBusSender sender, ServiceBusMessage message, string operationName) =>
        ServiceBusMessaging.CreateOutgoing(sender.EntityPath, message.MessageId, message.CorrelationId, BodySize(message), sender.FullyQualifiedNamespace)
            with
        { OperationName = operationName };

    public static OutgoingMessage OutgoingBatch(ServiceBusSender sender, string operationName) =>
        ServiceBusMessaging.CreateOutgoing(sender.EntityPath, fullyQualifiedNamespace: sender.FullyQualifiedNamespace) with { OperationName = operationName };

    public static IncomingMessage Incoming(ServiceBusReceivedMessage message, string entityPath, string fullyQualifiedNamespace) =>
        ServiceBusMessaging.CreateIncoming(
            message.ApplicationProperties,
            entityPath,
            message.MessageId,
            message.DeliveryCount,
            message.EnqueuedTime == default ? null : message.EnqueuedTime,
            correlationId: message.CorrelationId,
            bodySize: Body(message).Length,
            fullyQualifiedNamespace: fullyQualifiedNamespace);

    /// <summary>The body of a message with data sections; an AMQP value or sequence body is not bytes (empty: it cannot be deserialised).</summary>
    public static ReadOnlyMemory<byte> Body(ServiceBusReceivedMessage message) =>
        message.GetRawAmqpMessage().Body.BodyType == AmqpMessageBodyType.Data ? message.Body.ToMemory() : ReadOnlyMemory<byte>.Empty;

    private static long? BodySize(ServiceBusMessage message) =>
        message.GetRawAmqpMessage().Body.BodyType == AmqpMessageBodyType.Data ? message.Body.ToMemory().Length : null;
}

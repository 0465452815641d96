using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Messaging.Transports.RabbitMq;

/// <summary>RabbitMQ's mapping to the messaging semantic conventions, shared by publish and consume.</summary>
internal static class RabbitMqSemantics
{
    public const string MessagingSystem = "rabbitmq";

    /// <summary>With the default exchange the routing key is the queue: the destination users think of.</summary>
    public static string Destination(string exchange, string routingKey) =>
        exchange.Length > 0 ? exchange : (routingKey.Length > 0 ? routingKey : "amq.default");

    public static OutgoingMessage Outgoing(string exchange, string routingKey, IReadOnlyBasicProperties properties, int bodySize)
    {
        return new OutgoingMessage(MessagingSystem, Destination(exchange, routingKey))
        {
            OperationName = "publish",
            MessageId = properties.MessageId,
            ConversationId = properties.CorrelationId,
            RoutingKey = routingKey,
            BodySize = bodySize,
        };
    }

    public static IncomingMessage Incoming(string queue, BasicDeliverEventArgs delivery, AmqpTcpEndpoint? endpoint)
    {
        var (headers, deliveryCount) = IncomingHeaders(delivery);
        return Incoming(queue, delivery, endpoint, headers, deliveryCount);
    }

    /// <summary>The carrier over a delivery's headers, and the delivery's number when the queue counts deliveries.</summary>
    public static (IHeaderCarrier Headers, int? DeliveryCount) IncomingHeaders(BasicDeliverEventArgs delivery)
    {
        var headers = delivery.BasicProperties.Headers ?? new Dictionary<string, object?>(0);
        // Quorum queues count earlier deliveries that ended without a settlement (x-delivery-count, absent or 0 on the
        // first): DeliveryCount is this delivery's number.
        int? deliveryCount = headers.TryGetValue("x-delivery-count", out var count) && count is long or int
            ? (int)Math.Clamp(Convert.ToInt64(count, System.Globalization.CultureInfo.InvariantCulture) + 1, 1, int.MaxValue)
            : null;
        return (RabbitMqHeaders.CreateCarrier(headers), deliveryCount);
    }

    public static IncomingMessage Incoming(string queue, BasicDeliverEventArgs delivery, AmqpTcpEndpoint? endpoint, IHeaderCarrier headers, int? deliveryCount)
    {
        var properties = delivery.BasicProperties;
        return new IncomingMessage(MessagingSystem, queue, headers)
        {
            OperationName = "process",
            MessageId = properties.MessageId,
            ConversationId = properties.CorrelationId,
            RoutingKey = delivery.RoutingKey,
            BodySize = delivery.Body.Length,
            Redelivered = delivery.Redelivered || deliveryCount > 1,
            DeliveryCount = deliveryCount,
            EnqueuedAt = properties.IsTimestampPresent() ? DateTimeOffset.FromUnixTimeSeconds(properties.Timestamp.UnixTime) : null,
            ServerAddress = endpoint?.HostName,
            ServerPort = endpoint?.Port,
        };
    }
}

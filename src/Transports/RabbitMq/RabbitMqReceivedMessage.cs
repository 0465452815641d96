using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Messaging.Transports.RabbitMq;

/// <summary>A message a RabbitMQ worker received: the AMQP properties stay reachable (for <see cref="RabbitMqDeaths"/>).</summary>
internal abstract class RabbitMqReceivedMessage : ReceivedMessage
{
    protected RabbitMqReceivedMessage(IncomingMessage message, BasicDeliverEventArgs delivery)
        : base(message, delivery.Body)
    {
        Args = delivery;

        // A quorum queue counts the deliveries that ended without a settlement: attempts continue from there.
        FirstAttempt = message.DeliveryCount ?? 1;
    }

    /// <summary>Gets the delivery as the client reported it.</summary>
    public BasicDeliverEventArgs Args { get; }

    /// <summary>Gets the message's AMQP properties.</summary>
    public IReadOnlyBasicProperties Properties => Args.BasicProperties;
}

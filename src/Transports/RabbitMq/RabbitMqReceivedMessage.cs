using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Messaging.Transports.RabbitMq;

/// <summary>
/// A message a RabbitMQ worker received: the AMQP properties stay reachable (for <see cref="RabbitMqDeaths"/>). It
/// keeps the delivery and describes the message from it when asked, rather than a copy of every field.
/// </summary>
internal abstract class RabbitMqReceivedMessage : ReceivedMessage
{
    private readonly RabbitMqSubscription _subscription;
    private readonly IHeaderCarrier _headers;
    private readonly int? _deliveryCount;

    protected RabbitMqReceivedMessage(RabbitMqSubscription subscription, BasicDeliverEventArgs delivery)
    {
        _subscription = subscription;
        Args = delivery;
        (_headers, _deliveryCount) = RabbitMqSemantics.IncomingHeaders(delivery);

        // A quorum queue counts the deliveries that ended without a settlement: attempts continue from there.
        FirstAttempt = _deliveryCount ?? 1;
    }

    /// <summary>Gets the delivery as the client reported it.</summary>
    public BasicDeliverEventArgs Args { get; }

    /// <summary>Gets the message's AMQP properties.</summary>
    public IReadOnlyBasicProperties Properties => Args.BasicProperties;

    /// <summary>Gets what every delivery of one subscription shares: channel, queue, dead-letter queue, endpoint.</summary>
    protected RabbitMqSubscription Subscription => _subscription;

    private protected override IncomingMessage Describe() =>
        RabbitMqSemantics.Incoming(_subscription.Queue, Args, _subscription.Endpoint, _headers, _deliveryCount);

    private protected override ReadOnlyMemory<byte> ReadBody() => Args.Body;
}

/// <summary>What every delivery of one subscription shares (held once, not per message).</summary>
/// <param name="Channel">The channel the deliveries arrive and are settled on.</param>
/// <param name="Queue">The queue consumed.</param>
/// <param name="DeadLetterQueue">The queue dead-lettered messages are copied to (publish mode), or <see langword="null"/> to reject.</param>
/// <param name="Endpoint">The broker endpoint, for <c>server.address</c> and <c>server.port</c>.</param>
internal sealed record RabbitMqSubscription(IChannel Channel, string Queue, string? DeadLetterQueue, AmqpTcpEndpoint? Endpoint);

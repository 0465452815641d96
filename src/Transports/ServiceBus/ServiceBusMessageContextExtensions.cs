using Azure.Messaging.ServiceBus;
using Messaging.Transports.ServiceBus;

namespace Messaging;

/// <summary>The Service Bus message behind a handler's <see cref="MessageContext{TMessage}"/>.</summary>
public static class ServiceBusMessageContextExtensions
{
    /// <summary>
    /// Gets the received <see cref="ServiceBusReceivedMessage"/> (sequence number, session id, properties…), or
    /// <see langword="null"/> when the message did not come from a Service Bus worker. To forward it,
    /// <c>new ServiceBusMessage(received)</c> and send it with a context helper (or <see cref="IServiceBusPublisher"/>):
    /// the copy's stale trace properties are replaced by the handler's context. Settle nothing yourself: the worker does.
    /// </summary>
    /// <typeparam name="TMessage">The body type.</typeparam>
    /// <param name="message">The handler's message.</param>
    /// <returns>The received message, or <see langword="null"/>.</returns>
    public static ServiceBusReceivedMessage? GetServiceBusMessage<TMessage>(this MessageContext<TMessage> message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return (message.Received as ServiceBusDelivery)?.Received;
    }
}

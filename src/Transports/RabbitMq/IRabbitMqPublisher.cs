using RabbitMQ.Client;

namespace Messaging.Transports.RabbitMq;

/// <summary>
/// The application's RabbitMQ publisher, from DI (<c>AddRabbitMqPublisher</c>): channels reused on the shared
/// connection, publisher confirms, and retries with bounded back-off across connection loss. Each publish starts a
/// PRODUCER span and carries the current trace context and baggage; it completes only when the broker confirmed the
/// message. The guarantee is at least once: a message whose confirm was lost is sent again with the same message id.
/// </summary>
public interface IRabbitMqPublisher
{
    /// <summary>Publishes <paramref name="body"/> with context and waits for the broker's confirm.</summary>
    /// <param name="exchange">The exchange; empty for the default exchange.</param>
    /// <param name="routingKey">The routing key (the queue, with the default exchange).</param>
    /// <param name="body">The body.</param>
    /// <param name="properties">The message properties; persistent with a new message id when <see langword="null"/>. A message id is assigned when none is set.</param>
    /// <param name="mandatory">Whether an unroutable message fails the publish (a <see cref="RabbitMQ.Client.Exceptions.PublishException"/>, not retried).</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    /// <returns>The message id, the producer context and the number of attempts.</returns>
    /// <exception cref="TimeoutException">The broker did not confirm the message within <see cref="RabbitMqPublisherOptions.PublishTimeout"/>.</exception>
    Task<PublishResult> PublishAsync(string exchange, string routingKey, ReadOnlyMemory<byte> body, BasicProperties? properties = null, bool mandatory = false, CancellationToken cancellationToken = default);

    /// <summary>Serialises <paramref name="message"/> with <see cref="RabbitMqPublisherOptions.Serializer"/> and publishes it; see <see cref="PublishAsync"/>.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="exchange">The exchange; empty for the default exchange.</param>
    /// <param name="routingKey">The routing key (the queue, with the default exchange).</param>
    /// <param name="message">The message.</param>
    /// <param name="properties">The message properties; persistent with a new message id when <see langword="null"/>.</param>
    /// <param name="mandatory">Whether an unroutable message fails the publish.</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    /// <returns>The message id, the producer context and the number of attempts.</returns>
    Task<PublishResult> PublishMessageAsync<T>(string exchange, string routingKey, T message, BasicProperties? properties = null, bool mandatory = false, CancellationToken cancellationToken = default);
}

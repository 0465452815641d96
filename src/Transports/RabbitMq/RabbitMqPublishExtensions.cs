using System.Runtime.CompilerServices;
using Messaging.Transports.RabbitMq;

namespace RabbitMQ.Client;

/// <summary>
/// Publish helpers on <see cref="IChannel"/> that start a PRODUCER span and inject the current trace context and
/// baggage into the message headers. Create the channel with publisher confirms
/// (<c>new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true)</c>):
/// the helper then completes only when the broker confirmed the message, and a nack or (with <c>mandatory</c>) a
/// return surfaces as a <see cref="Exceptions.PublishException"/> recorded on the span.
/// </summary>
public static class RabbitMqPublishExtensions
{
    /// <summary>Publishes <paramref name="body"/> with context, with default properties (persistent, a new message id).</summary>
    /// <param name="channel">The channel.</param>
    /// <param name="exchange">The exchange; empty for the default exchange.</param>
    /// <param name="routingKey">The routing key (the queue, with the default exchange).</param>
    /// <param name="body">The body.</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    /// <returns>A task that completes when the message was sent (and confirmed, with confirms enabled).</returns>
    public static ValueTask PublishWithContextAsync(this IChannel channel, string exchange, string routingKey, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
        => channel.PublishWithContextAsync(exchange, routingKey, body, new BasicProperties { Persistent = true }, mandatory: false, instrumentation: null, cancellationToken);

    /// <summary>
    /// Publishes <paramref name="body"/> with context. Headers you set are kept; trace headers already present are
    /// replaced by the current context. When the properties have no headers and there is context to carry, a header
    /// table is created for it and left on the properties afterwards; when there is nothing to carry or record (nothing
    /// listens to the library's spans or send metrics, and there is no current activity or baggage) the message is sent
    /// as it is. A message id is
    /// assigned when none is set.
    /// </summary>
    /// <remarks>
    /// The returned <see cref="ValueTask"/> may reuse pooled state: await it (or call <see cref="ValueTask.AsTask"/>)
    /// exactly once, as with any <see cref="ValueTask"/>.
    /// </remarks>
    /// <param name="channel">The channel.</param>
    /// <param name="exchange">The exchange; empty for the default exchange.</param>
    /// <param name="routingKey">The routing key (the queue, with the default exchange).</param>
    /// <param name="body">The body.</param>
    /// <param name="properties">The message properties.</param>
    /// <param name="mandatory">Whether an unroutable message is returned (an exception, with confirms enabled).</param>
    /// <param name="instrumentation">The propagation engine; <see cref="Messaging.MessagingInstrumentation.Default"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    /// <returns>A task that completes when the message was sent (and confirmed, with confirms enabled).</returns>
    public static ValueTask PublishWithContextAsync(
        this IChannel channel,
        string exchange,
        string routingKey,
        ReadOnlyMemory<byte> body,
        BasicProperties properties,
        bool mandatory = false,
        Messaging.MessagingInstrumentation? instrumentation = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(routingKey);
        ArgumentNullException.ThrowIfNull(properties);
        instrumentation ??= Messaging.MessagingInstrumentation.Default;

        properties.MessageId ??= Guid.NewGuid().ToString("N");

        // Nothing to carry and nothing to record (no listener, no ambient context): send as the bare client would,
        // without a header table, a scope or a state machine of ours.
        // Saves the whole producer path, 168 B per publish (header table, carrier, scope; micro measurement). While RabbitMQ.Client's own publisher source has
        // listeners, the full path below keeps its usual behaviour.
        if (properties.Headers is null && !ClientPublisherSource.MayInject && instrumentation.CanSkipProducer)
        {
            return channel.BasicPublishAsync(exchange, routingKey, mandatory, properties, body, cancellationToken);
        }

        return PublishWithScopeAsync(channel, exchange, routingKey, body, properties, mandatory, instrumentation, cancellationToken);
    }

    /// <summary>Serialises <paramref name="message"/> (JSON by default) and publishes it with context; see the body overload.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="channel">The channel.</param>
    /// <param name="exchange">The exchange; empty for the default exchange.</param>
    /// <param name="routingKey">The routing key (the queue, with the default exchange).</param>
    /// <param name="message">The message.</param>
    /// <param name="properties">The message properties; persistent with a new id when <see langword="null"/>.</param>
    /// <param name="mandatory">Whether an unroutable message is returned (an exception, with confirms enabled).</param>
    /// <param name="serializer">The serializer; <see cref="Messaging.JsonMessageSerializer.Default"/> when <see langword="null"/>.</param>
    /// <param name="instrumentation">The propagation engine; <see cref="Messaging.MessagingInstrumentation.Default"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    /// <returns>A task that completes when the message was sent (and confirmed, with confirms enabled).</returns>
    public static ValueTask PublishMessageWithContextAsync<T>(
        this IChannel channel,
        string exchange,
        string routingKey,
        T message,
        BasicProperties? properties = null,
        bool mandatory = false,
        Messaging.IMessageSerializer? serializer = null,
        Messaging.MessagingInstrumentation? instrumentation = null,
        CancellationToken cancellationToken = default)
    {
        serializer ??= Messaging.JsonMessageSerializer.Default;
        properties ??= new BasicProperties { Persistent = true };
        properties.ContentType ??= serializer.ContentType;
        return channel.PublishWithContextAsync(exchange, routingKey, serializer.Serialize(message), properties, mandatory, instrumentation, cancellationToken);
    }

    private static ValueTask PublishWithScopeAsync(
        IChannel channel,
        string exchange,
        string routingKey,
        ReadOnlyMemory<byte> body,
        BasicProperties properties,
        bool mandatory,
        Messaging.MessagingInstrumentation instrumentation,
        CancellationToken cancellationToken)
    {
        var headers = properties.Headers ?? new Dictionary<string, object?>(StringComparer.Ordinal);
        Messaging.ProducerScope? scope = null;
        try
        {
            scope = instrumentation.StartProducer(RabbitMqSemantics.Outgoing(exchange, routingKey, properties, body.Length), RabbitMqHeaders.CreateCarrier(headers));

            // RabbitMQ.Client's own publish span, while something listens to it, writes its context into the headers:
            // guard ours then. Otherwise the table goes out as is (a wrapper would also cost RabbitMQ.Client its fast
            // path for writing a Dictionary). A listener added during this very publish sees our headers replaced by
            // the context of its span, which is a child of the PRODUCER span, so the message stays in the same trace.
            properties.Headers = ClientPublisherSource.MayInject ? new ProtectedHeaders(headers, instrumentation.PropagationHeaders) : headers;
            var publish = channel.BasicPublishAsync(exchange, routingKey, mandatory, properties, body, cancellationToken);
            if (!publish.IsCompletedSuccessfully)
            {
                // Only what is needed after the send waits in the state machine, not every argument.
                // Saves ~90 B/msg (e2e traced, publisher confirms, 2026-12).
                var pending = CompleteAsync(publish, scope, properties, headers);
                scope = null;
                return pending;
            }

            publish.GetAwaiter().GetResult();
            properties.Headers = headers;
            scope.Dispose();
            return default;
        }
#pragma warning disable CA1031 // Reported through the returned task, as an async method would.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            scope?.RecordException(ex);
            properties.Headers = headers;
            scope?.Dispose();
            return ValueTask.FromException(ex);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))] // one publish per message: reuse the state machine box
    private static async ValueTask CompleteAsync(ValueTask publish, Messaging.ProducerScope scope, BasicProperties properties, IDictionary<string, object?> headers)
    {
        try
        {
            await publish.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            scope.RecordException(ex);
            throw;
        }
        finally
        {
            properties.Headers = headers;
            scope.Dispose();
        }
    }
}

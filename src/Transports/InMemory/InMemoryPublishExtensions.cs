namespace Messaging.Transports.InMemory;

/// <summary>Publish helpers that start a PRODUCER span and inject context, exactly as the network transports do.</summary>
public static class InMemoryPublishExtensions
{
    /// <summary>
    /// Publishes a message with the current trace context and baggage injected into its headers (the headers of
    /// <paramref name="properties"/> are created when absent; headers you set are kept).
    /// </summary>
    /// <param name="broker">The broker.</param>
    /// <param name="queue">The queue.</param>
    /// <param name="body">The body.</param>
    /// <param name="properties">Id and headers; created when <see langword="null"/>.</param>
    /// <param name="instrumentation">The propagation engine; when <see langword="null"/>, the broker's (the application's, for a broker from DI), else <see cref="MessagingInstrumentation.Default"/>.</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    /// <returns>A task that completes when the message is enqueued.</returns>
    public static async ValueTask PublishWithContextAsync(
        this InMemoryBroker broker,
        string queue,
        ReadOnlyMemory<byte> body,
        InMemoryMessageProperties? properties = null,
        MessagingInstrumentation? instrumentation = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(broker);
        ArgumentException.ThrowIfNullOrEmpty(queue);
        properties ??= new InMemoryMessageProperties();
        properties.Headers ??= new Dictionary<string, object?>(StringComparer.Ordinal);
        var message = new OutgoingMessage(InMemoryBroker.MessagingSystem, queue)
        {
            MessageId = properties.MessageId,
            ConversationId = properties.CorrelationId,
            BodySize = body.Length,
        };
        using var scope = (instrumentation ?? broker.Instrumentation ?? MessagingInstrumentation.Default).StartProducer(message, new DictionaryHeaderCarrier(properties.Headers));
        try
        {
            await broker.PublishAsync(queue, body, properties, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            scope.RecordException(ex);
            throw;
        }
    }

    /// <summary>Serialises <paramref name="message"/> and publishes it with context; see the byte overload.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="broker">The broker.</param>
    /// <param name="queue">The queue.</param>
    /// <param name="message">The message.</param>
    /// <param name="properties">Id and headers; created when <see langword="null"/>.</param>
    /// <param name="instrumentation">The propagation engine; when <see langword="null"/>, the broker's, else <see cref="MessagingInstrumentation.Default"/>.</param>
    /// <param name="serializer">The serializer; <see cref="JsonMessageSerializer.Default"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    /// <returns>A task that completes when the message is enqueued.</returns>
    public static ValueTask PublishMessageWithContextAsync<T>(
        this InMemoryBroker broker,
        string queue,
        T message,
        InMemoryMessageProperties? properties = null,
        MessagingInstrumentation? instrumentation = null,
        IMessageSerializer? serializer = null,
        CancellationToken cancellationToken = default)
    {
        serializer ??= JsonMessageSerializer.Default;
        properties ??= new InMemoryMessageProperties();
        properties.ContentType ??= serializer.ContentType;
        return broker.PublishWithContextAsync(queue, serializer.Serialize(message), properties, instrumentation, cancellationToken);
    }
}

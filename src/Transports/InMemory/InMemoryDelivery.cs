namespace Messaging.Transports.InMemory;

/// <summary>A message delivered by an <see cref="InMemoryBroker"/>: a copy of what was published, plus delivery state.</summary>
public sealed class InMemoryDelivery
{
    internal InMemoryDelivery(string queue, long deliveryTag, StoredMessage stored)
    {
        Queue = queue;
        DeliveryTag = deliveryTag;
        Body = stored.Body;
        MessageId = stored.MessageId;
        CorrelationId = stored.CorrelationId;
        ContentType = stored.ContentType;
        Timestamp = stored.Timestamp;
        Redelivered = stored.DeliveryCount > 0;
        DeliveryCount = stored.DeliveryCount + 1;
        Headers = stored.CopyHeaders();
    }

    /// <summary>Gets the queue the message was delivered from.</summary>
    public string Queue { get; }

    /// <summary>Gets the broker's tag for settling this delivery.</summary>
    public long DeliveryTag { get; }

    /// <summary>Gets the body.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Gets the message id.</summary>
    public string? MessageId { get; }

    /// <summary>Gets the correlation id.</summary>
    public string? CorrelationId { get; }

    /// <summary>Gets the content type.</summary>
    public string? ContentType { get; }

    /// <summary>Gets when the message was published.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>Gets a value indicating whether the message was delivered before.</summary>
    public bool Redelivered { get; }

    /// <summary>Gets how many times the message has been delivered, this time included.</summary>
    public int DeliveryCount { get; }

    /// <summary>Gets this delivery's own copy of the headers (string values arrive as UTF-8 byte arrays).</summary>
    public IDictionary<string, object?> Headers { get; }
}

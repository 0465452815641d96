namespace Messaging.Transports.InMemory;

/// <summary>Properties of a message published to an <see cref="InMemoryBroker"/>, shaped like AMQP basic properties.</summary>
public sealed class InMemoryMessageProperties
{
    /// <summary>Gets or sets the message id.</summary>
    public string? MessageId { get; set; }

    /// <summary>Gets or sets the correlation (conversation) id.</summary>
    public string? CorrelationId { get; set; }

    /// <summary>Gets or sets the content type.</summary>
    public string? ContentType { get; set; }

    /// <summary>Gets or sets when the message was published; set by the broker when left empty.</summary>
    public DateTimeOffset? Timestamp { get; set; }

    /// <summary>Gets or sets the headers. The broker stores a copy; string values are delivered as UTF-8 byte arrays, as AMQP brokers deliver long strings.</summary>
    public IDictionary<string, object?>? Headers { get; set; }
}

using System.Text;

namespace Messaging.Transports.InMemory;

/// <summary>A message as the broker keeps it: immutable content plus its delivery count.</summary>
internal sealed class StoredMessage
{
    private readonly KeyValuePair<string, object?>[] _headers;

    public StoredMessage(ReadOnlyMemory<byte> body, InMemoryMessageProperties? properties, DateTimeOffset now)
    {
        Body = body.ToArray();
        MessageId = properties?.MessageId;
        CorrelationId = properties?.CorrelationId;
        ContentType = properties?.ContentType;
        Timestamp = properties?.Timestamp ?? now;
        _headers = properties?.Headers is { } headers ? [.. headers.Select(static h => new KeyValuePair<string, object?>(h.Key, Freeze(h.Value)))] : [];
    }

    private StoredMessage(StoredMessage source, KeyValuePair<string, object?>[] headers)
    {
        Body = source.Body;
        MessageId = source.MessageId;
        CorrelationId = source.CorrelationId;
        ContentType = source.ContentType;
        Timestamp = source.Timestamp;
        _headers = headers;
    }

    public ReadOnlyMemory<byte> Body { get; }

    public string? MessageId { get; }

    public string? CorrelationId { get; }

    public string? ContentType { get; }

    public DateTimeOffset Timestamp { get; }

    public int DeliveryCount { get; set; }

    public Dictionary<string, object?> CopyHeaders()
    {
        var copy = new Dictionary<string, object?>(_headers.Length, StringComparer.Ordinal);
        foreach (var (key, value) in _headers)
        {
            copy[key] = value is byte[] bytes ? bytes.Clone() : value;
        }

        return copy;
    }

    /// <summary>The message as it moves to a dead-letter queue: same content and headers, plus the death reason.</summary>
    public StoredMessage DeadLettered(string queue, string reason)
    {
        var headers = new List<KeyValuePair<string, object?>>(_headers.Length + 2);
        foreach (var header in _headers)
        {
            if (header.Key is not ("x-first-death-queue" or "x-first-death-reason"))
            {
                headers.Add(header);
            }
        }

        headers.Add(new("x-first-death-queue", Encoding.UTF8.GetBytes(queue)));
        headers.Add(new("x-first-death-reason", Encoding.UTF8.GetBytes(reason)));
        return new StoredMessage(this, [.. headers]);
    }

    // Strings travel as UTF-8 bytes, as over AMQP; everything else is kept as given.
    private static object? Freeze(object? value) => value switch
    {
        string s => Encoding.UTF8.GetBytes(s),
        byte[] b => b.Clone(),
        _ => value,
    };
}

using System.Collections;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;

namespace Messaging.ServiceBus.TestBroker.Internal;

internal enum BodyKind
{
    None,
    Data,
    Value,
    Sequence,
}

/// <summary>
/// What a sender put into a message (header fields, properties, application properties, its own message
/// annotations and the body), decoded and copied so it outlives the transfer. The broker's own state
/// (sequence number, lock, delivery count) lives beside it in <see cref="StoredMessage"/> and is written
/// as message annotations and the header's delivery-count each time the message is encoded.
/// </summary>
internal sealed class MessageContent
{
    /// <summary>The message format of a Service Bus batch: each data section is one encoded message.</summary>
    public const uint BatchMessageFormat = 0x80013700;

    private readonly List<byte[]> _data = [];
    private readonly List<List<object?>> _sequences = [];
    private object? _value;

    private MessageContent()
    {
    }

    public bool? Durable { get; private set; }

    public byte? Priority { get; private set; }

    public uint? TimeToLiveMilliseconds { get; private set; }

    public Properties Properties { get; private set; } = new();

    /// <summary>Application properties; the broker changes them on abandon, defer and dead-letter.</summary>
    public Dictionary<string, object?> ApplicationProperties { get; } = new(StringComparer.Ordinal);

    /// <summary>The sender's message annotations; the broker's own annotations are written over them.</summary>
    public Dictionary<string, object?> Annotations { get; } = new(StringComparer.Ordinal);

    public BodyKind BodyKind { get; private set; }

    public string? MessageId => Properties.MessageId?.ToString();

    public DateTime? ScheduledEnqueueTimeUtc =>
        Annotations.TryGetValue(BrokerAnnotations.ScheduledEnqueueTime, out var value) && value is DateTime time
            ? DateTime.SpecifyKind(time, DateTimeKind.Utc)
            : null;

    /// <summary>The messages a transfer carries: one, or each part of a batch.</summary>
    public static List<MessageContent> DecodeTransfer(AmqpMessage message)
    {
        if (message.MessageFormat != BatchMessageFormat)
        {
            return [Decode(message)];
        }

        var parts = new List<MessageContent>();
        foreach (var data in message.DataBody)
        {
            if (data.Value is not ArraySegment<byte> segment)
            {
                throw new AmqpException(AmqpErrorCode.DecodeError, "A batch message's data section must hold an encoded message.");
            }

            parts.Add(Decode(segment));
        }

        return parts;
    }

    /// <summary>Decodes a message from its encoded sections (a batch part or a scheduled message).</summary>
    public static MessageContent Decode(ArraySegment<byte> encoded)
    {
        var copy = new ArraySegment<byte>(encoded.AsSpan().ToArray());
        using var message = AmqpMessage.CreateAmqpStreamMessage(new BufferListStream([copy]), true);
        return Decode(message);
    }

    public static MessageContent Decode(AmqpMessage message)
    {
        var content = new MessageContent();
        var sections = message.Sections;
        if ((sections & SectionFlag.Header) != 0)
        {
            content.Durable = message.Header.Durable;
            content.Priority = message.Header.Priority;
            content.TimeToLiveMilliseconds = message.Header.Ttl;
        }

        if ((sections & SectionFlag.Properties) != 0)
        {
            content.Properties = CopyProperties(message.Properties);
        }

        if ((sections & SectionFlag.ApplicationProperties) != 0)
        {
            foreach (var pair in message.ApplicationProperties.Map)
            {
                if (AmqpValues.KeyText(pair.Key) is { } key)
                {
                    content.ApplicationProperties[key] = AmqpValues.Copy(pair.Value);
                }
            }
        }

        if ((sections & SectionFlag.MessageAnnotations) != 0)
        {
            foreach (var pair in message.MessageAnnotations.Map)
            {
                if (AmqpValues.KeyText(pair.Key) is { } key && !BrokerAnnotations.IsBrokerOwned(key))
                {
                    content.Annotations[key] = AmqpValues.Copy(pair.Value);
                }
            }
        }

        if ((sections & SectionFlag.Data) != 0)
        {
            content.BodyKind = BodyKind.Data;
            foreach (var data in message.DataBody)
            {
                content._data.Add(data.Value is ArraySegment<byte> segment ? segment.AsSpan().ToArray() : []);
            }
        }
        else if ((sections & SectionFlag.AmqpValue) != 0)
        {
            content.BodyKind = BodyKind.Value;
            content._value = AmqpValues.Copy(message.ValueBody.Value);
        }
        else if ((sections & SectionFlag.AmqpSequence) != 0)
        {
            content.BodyKind = BodyKind.Sequence;
            foreach (var sequence in message.SequenceBody)
            {
                content._sequences.Add(AmqpValues.CopyList(sequence.List));
            }
        }

        return content;
    }

    /// <summary>An independent copy (topic fan-out, dead-lettering): application properties can then differ.</summary>
    public MessageContent Clone()
    {
        var clone = new MessageContent
        {
            Durable = Durable,
            Priority = Priority,
            TimeToLiveMilliseconds = TimeToLiveMilliseconds,
            Properties = CopyProperties(Properties),
            BodyKind = BodyKind,
            _value = AmqpValues.Copy(_value),
        };
        clone._data.AddRange(_data);
        foreach (var sequence in _sequences)
        {
            clone._sequences.Add(AmqpValues.CopyList(sequence));
        }

        foreach (var pair in ApplicationProperties)
        {
            clone.ApplicationProperties[pair.Key] = AmqpValues.Copy(pair.Value);
        }

        foreach (var pair in Annotations)
        {
            clone.Annotations[pair.Key] = AmqpValues.Copy(pair.Value);
        }

        return clone;
    }

    /// <summary>Builds a new AMQP message with the broker's annotations and the header's delivery-count.</summary>
    public AmqpMessage ToAmqpMessage(uint deliveryCount, IEnumerable<KeyValuePair<string, object?>> brokerAnnotations)
    {
        var message = BodyKind switch
        {
            BodyKind.Data => AmqpMessage.Create(_data.Select(bytes => new Data { Value = new ArraySegment<byte>(bytes) }).ToList()),
            BodyKind.Value => AmqpMessage.Create(new AmqpValue { Value = AmqpValues.Copy(_value) }),
            BodyKind.Sequence => AmqpMessage.Create(_sequences.Select(list => new AmqpSequence(AmqpValues.CopyList(list))).ToList()),
            _ => AmqpMessage.Create(),
        };

        message.Header.Durable = Durable;
        message.Header.Priority = Priority;
        message.Header.Ttl = TimeToLiveMilliseconds;
        message.Header.DeliveryCount = deliveryCount;

        CopyPropertiesInto(Properties, message.Properties);

        foreach (var pair in ApplicationProperties)
        {
            message.ApplicationProperties.Map[pair.Key] = AmqpValues.Copy(pair.Value);
        }

        foreach (var pair in Annotations)
        {
            message.MessageAnnotations.Map[pair.Key] = AmqpValues.Copy(pair.Value);
        }

        foreach (var pair in brokerAnnotations)
        {
            message.MessageAnnotations.Map[pair.Key] = pair.Value;
        }

        return message;
    }

    /// <summary>The message's encoded sections, as the management operations carry them.</summary>
    public static byte[] Serialize(AmqpMessage message)
    {
        using var stream = message.ToStream();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    /// <summary>The body as bytes: the data sections concatenated, or null for a value or sequence body.</summary>
    public byte[]? BodyBytes()
    {
        if (BodyKind != BodyKind.Data)
        {
            return _value switch
            {
                ArraySegment<byte> segment when BodyKind == BodyKind.Value => segment.AsSpan().ToArray(),
                _ => null,
            };
        }

        return _data.SelectMany(bytes => bytes).ToArray();
    }

    /// <summary>The body when it is an AMQP value section (null otherwise).</summary>
    public object? BodyValue => BodyKind == BodyKind.Value ? AmqpValues.Copy(_value) : null;

    /// <summary>The body's AMQP sequence sections (empty otherwise).</summary>
    public IReadOnlyList<IList> BodySequences => _sequences.Select(list => (IList)AmqpValues.CopyList(list)).ToList();

    private static Properties CopyProperties(Properties source)
    {
        var copy = new Properties();
        CopyPropertiesInto(source, copy);
        return copy;
    }

    private static void CopyPropertiesInto(Properties source, Properties target)
    {
        target.MessageId = source.MessageId;
        target.UserId = source.UserId.Array is null ? source.UserId : new ArraySegment<byte>(source.UserId.AsSpan().ToArray());
        target.To = source.To;
        target.Subject = source.Subject;
        target.ReplyTo = source.ReplyTo;
        target.CorrelationId = source.CorrelationId;
        target.ContentType = source.ContentType;
        target.ContentEncoding = source.ContentEncoding;
        target.AbsoluteExpiryTime = source.AbsoluteExpiryTime;
        target.CreationTime = source.CreationTime;
        target.GroupId = source.GroupId;
        target.GroupSequence = source.GroupSequence;
        target.ReplyToGroupId = source.ReplyToGroupId;
    }
}

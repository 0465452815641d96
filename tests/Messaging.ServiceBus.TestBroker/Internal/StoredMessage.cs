namespace Messaging.ServiceBus.TestBroker.Internal;

/// <summary>One message in a store: the sender's content and the broker's state. Guarded by its store's lock.</summary>
internal sealed class StoredMessage(long sequenceNumber, MessageContent content, DateTimeOffset enqueuedTime)
{
    public long SequenceNumber { get; } = sequenceNumber;

    public MessageContent Content { get; } = content;

    public DateTimeOffset EnqueuedTime { get; set; } = enqueuedTime;

    public BrokerMessageState State { get; set; }

    /// <summary>Failed deliveries so far: abandons and expired locks (a release does not count).</summary>
    public uint DeliveryCount { get; set; }

    /// <summary>True when the message was deferred before its current lock: an abandon returns it to deferred.</summary>
    public bool Deferred { get; set; }

    public Guid? LockToken { get; set; }

    public DateTimeOffset LockedUntil { get; set; }

    public ITimer? LockTimer { get; set; }

    public DateTimeOffset? ScheduledEnqueueTime { get; set; }

    public ITimer? ScheduleTimer { get; set; }

    /// <summary>The message state annotation's value: 0 active, 1 deferred, 2 scheduled.</summary>
    public int WireState => State switch
    {
        BrokerMessageState.Deferred => 1,
        BrokerMessageState.Scheduled => 2,
        BrokerMessageState.Locked when Deferred => 1,
        _ => 0,
    };

    public bool IsExpired(DateTimeOffset now) =>
        Content.TimeToLiveMilliseconds is { } ttl && EnqueuedTime + TimeSpan.FromMilliseconds(ttl) <= now;

    public void ClearLock()
    {
        LockToken = null;
        LockTimer?.Dispose();
        LockTimer = null;
    }

    public List<KeyValuePair<string, object?>> BrokerAnnotations()
    {
        var annotations = new List<KeyValuePair<string, object?>>(6)
        {
            new(Internal.BrokerAnnotations.SequenceNumber, SequenceNumber),
            new(Internal.BrokerAnnotations.EnqueueSequenceNumber, SequenceNumber),
            new(Internal.BrokerAnnotations.EnqueuedTime, EnqueuedTime.UtcDateTime),
            new(Internal.BrokerAnnotations.MessageState, WireState),
        };
        if (State == BrokerMessageState.Locked)
        {
            annotations.Add(new(Internal.BrokerAnnotations.LockedUntil, LockedUntil.UtcDateTime));
        }

        return annotations;
    }

    public BrokerMessageSnapshot Snapshot(string entityPath) => new()
    {
        EntityPath = entityPath,
        SequenceNumber = SequenceNumber,
        MessageId = Content.MessageId,
        Subject = Content.Properties.Subject,
        CorrelationId = Content.Properties.CorrelationId?.ToString(),
        ContentType = Content.Properties.ContentType.Value,
        SessionId = Content.Properties.GroupId,
        State = State,
        DeliveryCount = (int)DeliveryCount,
        EnqueuedTime = EnqueuedTime,
        ScheduledEnqueueTime = ScheduledEnqueueTime,
        LockToken = State == BrokerMessageState.Locked ? LockToken : null,
        LockedUntil = State == BrokerMessageState.Locked ? LockedUntil : null,
        ApplicationProperties = Content.ApplicationProperties.ToDictionary(pair => pair.Key, pair => AmqpValues.Copy(pair.Value), StringComparer.Ordinal),
        Body = Content.BodyBytes(),
    };
}

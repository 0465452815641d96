namespace Messaging.ServiceBus.TestBroker;

/// <summary>Where a message stands in its entity.</summary>
public enum BrokerMessageState
{
    /// <summary>Available to the next receiver.</summary>
    Active,

    /// <summary>Delivered in peek-lock mode and not yet settled; the lock has not expired.</summary>
    Locked,

    /// <summary>Deferred: only a receive by sequence number returns it.</summary>
    Deferred,

    /// <summary>Scheduled: it becomes active at its scheduled enqueue time.</summary>
    Scheduled,
}

/// <summary>How a receiver settled a locked message, or why a settlement was refused.</summary>
public enum SettlementOutcome
{
    /// <summary>Completed (AMQP accepted, or update-disposition "completed"): the message is removed.</summary>
    Completed,

    /// <summary>Abandoned (AMQP modified): available again, its delivery count one higher.</summary>
    Abandoned,

    /// <summary>Dead-lettered (AMQP rejected): moved to the entity's dead-letter queue.</summary>
    DeadLettered,

    /// <summary>Deferred (AMQP modified with undeliverable-here): kept aside for a receive by sequence number.</summary>
    Deferred,

    /// <summary>Released (AMQP released): available again, its delivery count unchanged.</summary>
    Released,

    /// <summary>Refused: the lock token was unknown, already settled or expired; the receiver saw a lock-lost error.</summary>
    LockLost,
}

/// <summary>A copy of one message as the broker holds it, taken by the inspection helpers.</summary>
public sealed record BrokerMessageSnapshot
{
    /// <summary>The entity path holding it, e.g. <c>orders</c>, <c>orders/$deadletterqueue</c>, <c>t/Subscriptions/s</c>.</summary>
    public required string EntityPath { get; init; }

    /// <summary>The sequence number the broker assigned when the message was sent or scheduled.</summary>
    public required long SequenceNumber { get; init; }

    /// <summary>The sender's message id.</summary>
    public string? MessageId { get; init; }

    /// <summary>The sender's subject (label).</summary>
    public string? Subject { get; init; }

    /// <summary>The sender's correlation id.</summary>
    public string? CorrelationId { get; init; }

    /// <summary>The sender's content type.</summary>
    public string? ContentType { get; init; }

    /// <summary>The sender's session id (kept, but the broker has no session semantics).</summary>
    public string? SessionId { get; init; }

    /// <summary>Where the message stands.</summary>
    public required BrokerMessageState State { get; init; }

    /// <summary>
    /// Failed delivery attempts so far (abandons and expired locks), which is what a peek shows; a receive
    /// shows one more, because the Service Bus client counts the delivery in progress.
    /// </summary>
    public required int DeliveryCount { get; init; }

    /// <summary>When the message was enqueued (for a scheduled message: when it became active).</summary>
    public required DateTimeOffset EnqueuedTime { get; init; }

    /// <summary>When a scheduled message becomes active.</summary>
    public DateTimeOffset? ScheduledEnqueueTime { get; init; }

    /// <summary>The current lock's token, while <see cref="State"/> is <see cref="BrokerMessageState.Locked"/>.</summary>
    public Guid? LockToken { get; init; }

    /// <summary>The current lock's expiry, while <see cref="State"/> is <see cref="BrokerMessageState.Locked"/>.</summary>
    public DateTimeOffset? LockedUntil { get; init; }

    /// <summary>The application properties, decoded (strings, numbers, Guid, DateTime, byte segments…).</summary>
    public required IReadOnlyDictionary<string, object?> ApplicationProperties { get; init; }

    /// <summary>The body's data sections concatenated; null when the body is an AMQP value or sequence.</summary>
    public byte[]? Body { get; init; }

    /// <summary>The dead-letter reason (the <c>DeadLetterReason</c> application property), if any.</summary>
    public string? DeadLetterReason => ApplicationProperties.TryGetValue("DeadLetterReason", out var value) ? value as string : null;

    /// <summary>The dead-letter description (the <c>DeadLetterErrorDescription</c> application property), if any.</summary>
    public string? DeadLetterErrorDescription =>
        ApplicationProperties.TryGetValue("DeadLetterErrorDescription", out var value) ? value as string : null;
}

/// <summary>One settlement (or refused settlement) the broker processed, in the order it processed them.</summary>
public sealed record SettlementRecord
{
    /// <summary>The entity path the message was received from.</summary>
    public required string EntityPath { get; init; }

    /// <summary>The message's sequence number, or -1 when the lock token matched no message.</summary>
    public required long SequenceNumber { get; init; }

    /// <summary>The message's id, when the lock token matched a message.</summary>
    public string? MessageId { get; init; }

    /// <summary>The lock token the receiver presented.</summary>
    public required Guid LockToken { get; init; }

    /// <summary>What the broker did.</summary>
    public required SettlementOutcome Outcome { get; init; }

    /// <summary>The outcome the receiver asked for when <see cref="Outcome"/> is <see cref="SettlementOutcome.LockLost"/>.</summary>
    public SettlementOutcome? Requested { get; init; }

    /// <summary>True when the settlement came through <c>$management</c> (update-disposition) rather than the receive link.</summary>
    public required bool ViaManagement { get; init; }

    /// <summary>The broker's clock when it processed the settlement.</summary>
    public required DateTimeOffset Time { get; init; }
}

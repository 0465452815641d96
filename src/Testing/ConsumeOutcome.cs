namespace Messaging.Testing;

/// <summary>How a consumer worker settled a message.</summary>
public enum ConsumeOutcome
{
    /// <summary>Acknowledged: the handler completed and the message left the queue.</summary>
    Acked,

    /// <summary>Dead-lettered (or rejected without a dead-letter destination): the handler failed on every attempt, or the body could not be read.</summary>
    DeadLettered,

    /// <summary>Returned to its queue: the worker stopped before the handler finished.</summary>
    Requeued,
}

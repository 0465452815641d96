using Microsoft.Azure.Amqp.Encoding;

namespace Messaging.ServiceBus.TestBroker.Internal;

/// <summary>The Service Bus names on the wire: message annotations, error conditions, management keys.</summary>
internal static class BrokerAnnotations
{
    public const string SequenceNumber = "x-opt-sequence-number";
    public const string EnqueueSequenceNumber = "x-opt-enqueue-sequence-number";
    public const string EnqueuedTime = "x-opt-enqueued-time";
    public const string LockedUntil = "x-opt-locked-until";
    public const string ScheduledEnqueueTime = "x-opt-scheduled-enqueue-time";
    public const string MessageState = "x-opt-message-state";
    public const string DeadLetterSource = "x-opt-deadletter-source";

    public const string DeadLetterReasonProperty = "DeadLetterReason";
    public const string DeadLetterErrorDescriptionProperty = "DeadLetterErrorDescription";

    public static readonly AmqpSymbol DeadLetterCondition = "com.microsoft:dead-letter";
    public static readonly AmqpSymbol MessageLockLostCondition = "com.microsoft:message-lock-lost";
    public static readonly AmqpSymbol MessageNotFoundCondition = "com.microsoft:message-not-found";
    public static readonly AmqpSymbol ArgumentErrorCondition = "com.microsoft:argument-error";
    public static readonly AmqpSymbol SessionFilter = "com.microsoft:session-filter";
    public static readonly AmqpSymbol NonExclusiveSessionFilter = "com.microsoft:non-exclusive-session-filter";

    /// <summary>Annotations the broker owns: a sender cannot set them, they are rewritten on each delivery.</summary>
    public static bool IsBrokerOwned(string key) =>
        key is SequenceNumber or EnqueueSequenceNumber or EnqueuedTime or LockedUntil or MessageState or DeadLetterSource;
}

using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;
using Microsoft.Azure.Amqp.Transaction;

namespace Messaging.ServiceBus.TestBroker.Internal;

/// <summary>The result of a settlement: done, or refused with the error the client receives.</summary>
internal readonly record struct SettleResult(bool Succeeded, AmqpSymbol Condition, string? Description)
{
    public static SettleResult Done => new(true, default, null);

    public static SettleResult LockLost => new(
        false,
        BrokerAnnotations.MessageLockLostCondition,
        "The lock supplied is invalid: it expired, the message was already settled, or the lock token is unknown.");
}

/// <summary>
/// The messages of one queue, subscription or dead-letter queue: their order, locks, deferral and schedule,
/// and the receive links on it. Every change happens under one lock; the AMQP library is only called after
/// the lock is released (sends, dead-letter moves), so the library's own locks never nest inside it.
/// </summary>
internal sealed class MessageStore
{
    private static readonly TimeSpan Infinite = Timeout.InfiniteTimeSpan;

    private readonly object _gate = new();
    private readonly BrokerContext _context;
    private readonly SortedDictionary<long, StoredMessage> _messages = [];
    private readonly SortedSet<long> _available = [];
    private readonly Dictionary<Guid, StoredMessage> _locks = [];
    private readonly List<Consumer> _consumers = [];
    private int _nextConsumer;

    public MessageStore(BrokerContext context, string path, bool isDeadLetterQueue = false)
    {
        _context = context;
        Path = path;
        DeadLetterQueue = isDeadLetterQueue ? null : new MessageStore(context, $"{path}/{EntityAddress.DeadLetterSuffix}", isDeadLetterQueue: true);
    }

    public string Path { get; }

    /// <summary>The store's dead-letter queue; null for a dead-letter queue itself.</summary>
    public MessageStore? DeadLetterQueue { get; }

    public void AddConsumer(Consumer consumer)
    {
        lock (_gate)
        {
            _consumers.Add(consumer);
        }
    }

    /// <summary>Locks a closed link held stay until they expire (or are settled through $management).</summary>
    public void RemoveConsumer(Consumer consumer)
    {
        lock (_gate)
        {
            _consumers.Remove(consumer);
        }
    }

    public void Enqueue(MessageContent content, long sequenceNumber) =>
        Enqueue(content, sequenceNumber, deliveryCount: 0, enqueuedTime: null);

    public void OnCredit(Consumer consumer, uint credit, bool drain)
    {
        var work = new Work();
        lock (_gate)
        {
            consumer.Credit = Math.Min(consumer.Credit + credit, consumer.Link.LinkCredit);
            Dispatch(work);
            if (drain)
            {
                consumer.Credit = 0;
            }
        }

        Execute(work);
    }

    /// <summary>Settles the delivery a receive link disposed of; returns the state to answer with, or null to ignore it.</summary>
    public DeliveryState? SettleFromLink(ArraySegment<byte> deliveryTag, DeliveryState? state)
    {
        if (state is TransactionalState)
        {
            return Refused(AmqpErrorCode.NotImplemented, "Transactions are not supported by the test broker.");
        }

        if (SettleRequest.FromOutcome(state) is not { } request)
        {
            return state is Received ? null : Refused(AmqpErrorCode.NotAllowed, $"The delivery state '{state}' is not a settlement.");
        }

        var lockToken = deliveryTag.Count == 16 ? new Guid(deliveryTag.AsSpan()) : Guid.Empty;
        var result = Settle(lockToken, request, viaManagement: false);
        if (!result.Succeeded)
        {
            return Refused(result.Condition, result.Description);
        }

        return state switch
        {
            Accepted => AmqpConstants.AcceptedOutcome,
            Released => AmqpConstants.ReleasedOutcome,
            Rejected => new Rejected(),
            _ => state,
        };
    }

    public SettleResult Settle(Guid lockToken, SettleRequest request, bool viaManagement)
    {
        var work = new Work();
        SettleResult result;
        lock (_gate)
        {
            result = SettleLocked(lockToken, request, viaManagement, work);
            Dispatch(work);
        }

        Execute(work);
        return result;
    }

    /// <summary>Extends each lock by the lock duration; null when any token is not a live lock (nothing is renewed then).</summary>
    public DateTime[]? RenewLocks(IReadOnlyList<Guid> lockTokens)
    {
        var work = new Work();
        DateTime[]? expirations;
        lock (_gate)
        {
            var now = _context.Now;
            var messages = new List<StoredMessage>(lockTokens.Count);
            foreach (var token in lockTokens)
            {
                if (!_locks.TryGetValue(token, out var message) || message.LockedUntil <= now)
                {
                    if (message is not null)
                    {
                        ExpireLock(message, work);
                    }

                    messages.Clear();
                    break;
                }

                messages.Add(message);
            }

            if (messages.Count == lockTokens.Count && messages.Count > 0)
            {
                expirations = new DateTime[messages.Count];
                for (var i = 0; i < messages.Count; i++)
                {
                    messages[i].LockedUntil = now + _context.Options.LockDuration;
                    messages[i].LockTimer?.Change(_context.Options.LockDuration, Infinite);
                    expirations[i] = messages[i].LockedUntil.UtcDateTime;
                }
            }
            else
            {
                expirations = null;
            }

            Dispatch(work);
        }

        Execute(work);
        return expirations;
    }

    /// <summary>The encoded messages from a sequence number on, in order, whatever their state (as a peek sees them).</summary>
    public List<byte[]> Peek(long fromSequenceNumber, int count)
    {
        lock (_gate)
        {
            return _messages.Values
                .Where(message => message.SequenceNumber >= fromSequenceNumber)
                .Take(count)
                .Select(Encode)
                .ToList();
        }
    }

    /// <summary>
    /// Receives deferred messages by sequence number, locked (peek-lock) or removed (receive-and-delete);
    /// null when one of them is not a deferred message of this store (nothing is received then).
    /// </summary>
    public List<(byte[] Message, Guid? LockToken)>? ReceiveDeferred(IReadOnlyList<long> sequenceNumbers, bool peekLock)
    {
        lock (_gate)
        {
            var messages = new List<StoredMessage>(sequenceNumbers.Count);
            foreach (var sequenceNumber in sequenceNumbers)
            {
                if (!_messages.TryGetValue(sequenceNumber, out var message) || message.State != BrokerMessageState.Deferred)
                {
                    return null;
                }

                messages.Add(message);
            }

            var received = new List<(byte[] Message, Guid? LockToken)>(messages.Count);
            foreach (var message in messages)
            {
                if (peekLock)
                {
                    var token = Lock(message);
                    received.Add((Encode(message), token));
                }
                else
                {
                    _messages.Remove(message.SequenceNumber);
                    received.Add((Encode(message), null));
                }
            }

            return received;
        }
    }

    /// <summary>Removes scheduled messages; returns the sequence numbers that were not scheduled here.</summary>
    public List<long> CancelScheduled(IReadOnlyList<long> sequenceNumbers)
    {
        var missing = new List<long>();
        lock (_gate)
        {
            foreach (var sequenceNumber in sequenceNumbers)
            {
                if (_messages.TryGetValue(sequenceNumber, out var message) && message.State == BrokerMessageState.Scheduled)
                {
                    message.ScheduleTimer?.Dispose();
                    _messages.Remove(sequenceNumber);
                }
                else
                {
                    missing.Add(sequenceNumber);
                }
            }
        }

        return missing;
    }

    /// <summary>Stops the store's timers (locks, schedules); the broker is shutting down.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var message in _messages.Values)
            {
                message.LockTimer?.Dispose();
                message.ScheduleTimer?.Dispose();
            }
        }

        DeadLetterQueue?.Dispose();
    }

    public List<BrokerMessageSnapshot> Snapshot()
    {
        lock (_gate)
        {
            return _messages.Values.Select(message => message.Snapshot(Path)).ToList();
        }
    }

    private void Enqueue(MessageContent content, long sequenceNumber, uint deliveryCount, DateTimeOffset? enqueuedTime)
    {
        var work = new Work();
        lock (_gate)
        {
            var now = _context.Now;
            var message = new StoredMessage(sequenceNumber, content, enqueuedTime ?? now) { DeliveryCount = deliveryCount };
            _messages[sequenceNumber] = message;
            if (enqueuedTime is null && content.ScheduledEnqueueTimeUtc is { } scheduled && scheduled > now.UtcDateTime)
            {
                message.State = BrokerMessageState.Scheduled;
                message.ScheduledEnqueueTime = new DateTimeOffset(scheduled);
                message.ScheduleTimer = _context.Time.CreateTimer(OnScheduleDue, message, message.ScheduledEnqueueTime.Value - now, Infinite);
                return;
            }

            MakeAvailable(message);
            Dispatch(work);
        }

        Execute(work);
    }

    private void OnScheduleDue(object? state)
    {
        var message = (StoredMessage)state!;
        var work = new Work();
        lock (_gate)
        {
            if (message.State != BrokerMessageState.Scheduled || !_messages.ContainsKey(message.SequenceNumber))
            {
                return;
            }

            message.ScheduleTimer?.Dispose();
            message.ScheduleTimer = null;
            message.EnqueuedTime = _context.Now;
            MakeAvailable(message);
            Dispatch(work);
        }

        Execute(work);
    }

    private SettleResult SettleLocked(Guid lockToken, SettleRequest request, bool viaManagement, Work work)
    {
        var now = _context.Now;
        if (!_locks.TryGetValue(lockToken, out var message) || message.LockedUntil <= now)
        {
            if (message is not null)
            {
                ExpireLock(message, work);
            }

            _context.Record(new SettlementRecord
            {
                EntityPath = Path,
                SequenceNumber = message?.SequenceNumber ?? -1,
                MessageId = message?.Content.MessageId,
                LockToken = lockToken,
                Outcome = SettlementOutcome.LockLost,
                Requested = request.Outcome,
                ViaManagement = viaManagement,
                Time = now,
            });
            return SettleResult.LockLost;
        }

        if (request.Outcome == SettlementOutcome.DeadLettered && DeadLetterQueue is null)
        {
            return new SettleResult(false, AmqpErrorCode.NotAllowed, "A message of a dead-letter queue cannot be dead-lettered again.");
        }

        _locks.Remove(lockToken);
        message.ClearLock();
        ApplyProperties(message, request.PropertiesToModify);
        switch (request.Outcome)
        {
            case SettlementOutcome.Completed:
                _messages.Remove(message.SequenceNumber);
                break;
            case SettlementOutcome.Abandoned:
                message.DeliveryCount++;
                ReturnOrDeadLetter(message, work);
                break;
            case SettlementOutcome.Released:
                Return(message);
                break;
            case SettlementOutcome.Deferred:
                message.Deferred = true;
                message.State = BrokerMessageState.Deferred;
                break;
            case SettlementOutcome.DeadLettered:
                MoveToDeadLetter(message, request.DeadLetterReason, request.DeadLetterErrorDescription, work);
                break;
            default:
                throw new InvalidOperationException($"Unexpected settlement {request.Outcome}.");
        }

        _context.Record(new SettlementRecord
        {
            EntityPath = Path,
            SequenceNumber = message.SequenceNumber,
            MessageId = message.Content.MessageId,
            LockToken = lockToken,
            Outcome = request.Outcome,
            ViaManagement = viaManagement,
            Time = now,
        });
        return SettleResult.Done;
    }

    private void OnLockTimer(object? state)
    {
        var (message, token) = ((StoredMessage, Guid))state!;
        var work = new Work();
        lock (_gate)
        {
            if (message.LockToken != token || message.State != BrokerMessageState.Locked)
            {
                return;
            }

            var remaining = message.LockedUntil - _context.Now;
            if (remaining > TimeSpan.Zero)
            {
                // Renewed after the timer had already fired.
                message.LockTimer?.Change(remaining, Infinite);
                return;
            }

            ExpireLock(message, work);
            Dispatch(work);
        }

        Execute(work);
    }

    private void ExpireLock(StoredMessage message, Work work)
    {
        if (message.LockToken is { } token)
        {
            _locks.Remove(token);
        }

        message.ClearLock();
        message.DeliveryCount++;
        ReturnOrDeadLetter(message, work);
    }

    private void ReturnOrDeadLetter(StoredMessage message, Work work)
    {
        var max = _context.Options.MaxDeliveryCount;
        if (DeadLetterQueue is not null && message.DeliveryCount >= max)
        {
            MoveToDeadLetter(message, "MaxDeliveryCountExceeded", $"Message could not be consumed after {max} delivery attempts.", work);
            return;
        }

        Return(message);
    }

    private void Return(StoredMessage message)
    {
        if (message.Deferred)
        {
            message.State = BrokerMessageState.Deferred;
            return;
        }

        MakeAvailable(message);
    }

    private void MoveToDeadLetter(StoredMessage message, string? reason, string? description, Work work)
    {
        _messages.Remove(message.SequenceNumber);
        _available.Remove(message.SequenceNumber);
        if (reason is not null)
        {
            message.Content.ApplicationProperties[BrokerAnnotations.DeadLetterReasonProperty] = reason;
        }

        if (description is not null)
        {
            message.Content.ApplicationProperties[BrokerAnnotations.DeadLetterErrorDescriptionProperty] = description;
        }

        work.DeadLetters.Add(message);
    }

    private static void ApplyProperties(StoredMessage message, IReadOnlyList<KeyValuePair<string, object?>> properties)
    {
        foreach (var pair in properties)
        {
            message.Content.ApplicationProperties[pair.Key] = pair.Value;
        }
    }

    private void MakeAvailable(StoredMessage message)
    {
        message.State = BrokerMessageState.Active;
        _available.Add(message.SequenceNumber);
    }

    private Guid Lock(StoredMessage message)
    {
        var token = Guid.NewGuid();
        message.State = BrokerMessageState.Locked;
        message.LockToken = token;
        message.LockedUntil = _context.Now + _context.Options.LockDuration;
        message.LockTimer = _context.Time.CreateTimer(OnLockTimer, (message, token), _context.Options.LockDuration, Infinite);
        _locks[token] = message;
        return token;
    }

    private void Dispatch(Work work)
    {
        var now = _context.Now;
        while (_available.Count > 0 && NextConsumerWithCredit() is { } consumer)
        {
            var sequenceNumber = _available.Min;
            _available.Remove(sequenceNumber);
            var message = _messages[sequenceNumber];
            if (message.IsExpired(now))
            {
                _messages.Remove(sequenceNumber);
                continue;
            }

            consumer.Credit--;
            if (consumer.SettleOnSend)
            {
                _messages.Remove(sequenceNumber);
                work.Deliveries.Add((consumer, ToAmqp(message), Guid.NewGuid()));
                continue;
            }

            var token = Lock(message);
            work.Deliveries.Add((consumer, ToAmqp(message), token));
        }
    }

    private Consumer? NextConsumerWithCredit()
    {
        for (var i = 0; i < _consumers.Count; i++)
        {
            var consumer = _consumers[(_nextConsumer + i) % _consumers.Count];
            if (consumer.Credit > 0)
            {
                _nextConsumer = (_nextConsumer + i + 1) % _consumers.Count;
                return consumer;
            }
        }

        return null;
    }

    private static byte[] Encode(StoredMessage message)
    {
        using var amqpMessage = ToAmqp(message);
        return MessageContent.Serialize(amqpMessage);
    }

    private static AmqpMessage ToAmqp(StoredMessage message) =>
        message.Content.ToAmqpMessage(message.DeliveryCount, message.BrokerAnnotations());

    private void Execute(Work work)
    {
        foreach (var message in work.DeadLetters)
        {
            DeadLetterQueue?.Enqueue(message.Content, message.SequenceNumber, message.DeliveryCount, message.EnqueuedTime);
        }

        foreach (var (consumer, message, tag) in work.Deliveries)
        {
            consumer.Send(message, tag);
        }
    }

    private static DeliveryState Refused(AmqpSymbol condition, string? description) =>
        new Rejected { Error = new Error { Condition = condition, Description = description } };

    /// <summary>What to do once the store's lock is released.</summary>
    private sealed class Work
    {
        public List<StoredMessage> DeadLetters { get; } = [];

        public List<(Consumer Consumer, AmqpMessage Message, Guid Tag)> Deliveries { get; } = [];
    }
}

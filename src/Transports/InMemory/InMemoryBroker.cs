namespace Messaging.Transports.InMemory;

/// <summary>
/// A real in-process message broker: named queues, publish with headers, competing consumers, ack / requeue with a
/// redelivered flag, and dead-letter queues. Not a mock: workers consume from it through the same pipeline and the
/// same headers (strings arrive as UTF-8 bytes, as over AMQP) as from a network broker. Thread-safe.
/// </summary>
public sealed class InMemoryBroker
{
    /// <summary>The <c>messaging.system</c> value of this transport.</summary>
    internal const string MessagingSystem = "inmemory";

    private readonly Dictionary<string, InMemoryQueue> _queues = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private long _nextTag;

    /// <summary>Creates an empty broker.</summary>
    /// <param name="timeProvider">The clock for publish timestamps; <see langword="null"/> for the system clock.</param>
    /// <param name="instrumentation">
    /// The propagation engine its publish helpers use when given none; <see langword="null"/> for
    /// <see cref="MessagingInstrumentation.Default"/>. A broker registered with <c>AddInMemoryBroker</c> uses the application's.
    /// </param>
    public InMemoryBroker(TimeProvider? timeProvider = null, MessagingInstrumentation? instrumentation = null)
    {
        _time = timeProvider ?? TimeProvider.System;
        Instrumentation = instrumentation;
    }

    /// <summary>Gets the propagation engine the publish helpers use by default, if one was given.</summary>
    internal MessagingInstrumentation? Instrumentation { get; }

    /// <summary>Declares a queue (idempotent). Messages dead-lettered from it go to <paramref name="deadLetterQueue"/>, declared too.</summary>
    /// <param name="name">The queue name.</param>
    /// <param name="deadLetterQueue">The dead-letter queue, or <see langword="null"/> to discard rejected messages.</param>
    public void DeclareQueue(string name, string? deadLetterQueue = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        lock (_gate)
        {
            if (deadLetterQueue is not null)
            {
                ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
                GetOrAdd(deadLetterQueue);
            }

            var queue = GetOrAdd(name);
            if (deadLetterQueue is not null)
            {
                queue.DeadLetterQueue = deadLetterQueue;
            }
        }
    }

    /// <summary>
    /// Publishes a message as is — no context is injected (use <c>PublishWithContextAsync</c> for that).
    /// The queue is declared if it does not exist.
    /// </summary>
    /// <param name="queue">The queue.</param>
    /// <param name="body">The body.</param>
    /// <param name="properties">Id, headers and other properties.</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    /// <returns>A task that completes when the message is enqueued.</returns>
    public ValueTask PublishAsync(string queue, ReadOnlyMemory<byte> body, InMemoryMessageProperties? properties = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        cancellationToken.ThrowIfCancellationRequested();
        Queue(queue).Enqueue(new StoredMessage(body, properties, _time.GetUtcNow()), front: false);
        return ValueTask.CompletedTask;
    }

    /// <summary>Gets the number of messages ready for delivery in <paramref name="queue"/> (0 for an unknown queue).</summary>
    /// <param name="queue">The queue.</param>
    /// <returns>The count.</returns>
    public int GetReadyCount(string queue)
    {
        lock (_gate)
        {
            return _queues.TryGetValue(queue, out var q) ? q.ReadyCount : 0;
        }
    }

    /// <summary>Gets the number of messages delivered from <paramref name="queue"/> and not yet settled.</summary>
    /// <param name="queue">The queue.</param>
    /// <returns>The count.</returns>
    public int GetUnackedCount(string queue)
    {
        lock (_gate)
        {
            return _queues.TryGetValue(queue, out var q) ? q.UnackedCount : 0;
        }
    }

    /// <summary>Takes the next ready message and settles it at once (like AMQP <c>basic.get</c> with auto-ack), or returns <see langword="null"/>.</summary>
    /// <param name="queue">The queue.</param>
    /// <returns>The delivery, or <see langword="null"/> when the queue is empty.</returns>
    public InMemoryDelivery? Get(string queue)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        var q = Queue(queue);
        if (!q.TryTake(NextTag(), out var delivery))
        {
            return null;
        }

        q.Ack(delivery.DeliveryTag);
        return delivery;
    }

    /// <summary>Waits for the next message on <paramref name="queue"/>; it stays unacknowledged until settled.</summary>
    /// <param name="queue">The queue.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The delivery.</returns>
    public ValueTask<InMemoryDelivery> ReceiveAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        return Queue(queue).ReceiveAsync(this, cancellationToken);
    }

    /// <summary>Acknowledges a delivery: the message leaves the queue.</summary>
    /// <param name="delivery">The delivery.</param>
    public void Ack(InMemoryDelivery delivery)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        Queue(delivery.Queue).Ack(delivery.DeliveryTag);
    }

    /// <summary>Rejects a delivery: requeued (redelivered later, flagged) or dead-lettered / discarded.</summary>
    /// <param name="delivery">The delivery.</param>
    /// <param name="requeue">Whether to return the message to its queue.</param>
    /// <param name="reason">Why, recorded on a dead-lettered message as <c>x-first-death-reason</c>.</param>
    public void Reject(InMemoryDelivery delivery, bool requeue, string reason = "rejected")
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var queue = Queue(delivery.Queue);
        var stored = queue.Settle(delivery.DeliveryTag);
        if (stored is null)
        {
            return;
        }

        if (requeue)
        {
            stored.DeliveryCount++;
            queue.Enqueue(stored, front: true);
        }
        else if (queue.DeadLetterQueue is { } dlq)
        {
            Queue(dlq).Enqueue(stored.DeadLettered(delivery.Queue, reason), front: false);
        }
    }

    internal long NextTag() => Interlocked.Increment(ref _nextTag);

    private InMemoryQueue Queue(string name)
    {
        lock (_gate)
        {
            return GetOrAdd(name);
        }
    }

    private InMemoryQueue GetOrAdd(string name)
    {
        if (!_queues.TryGetValue(name, out var queue))
        {
            queue = new InMemoryQueue(name);
            _queues[name] = queue;
        }

        return queue;
    }
}

using System.Diagnostics.CodeAnalysis;

namespace Messaging.Transports.InMemory;

/// <summary>One queue: ready messages in order, unacknowledged deliveries by tag, and waiting consumers.</summary>
internal sealed class InMemoryQueue(string name)
{
    private readonly LinkedList<StoredMessage> _ready = new();
    private readonly Dictionary<long, StoredMessage> _unacked = [];
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly object _gate = new();

    public string Name { get; } = name;

    public string? DeadLetterQueue { get; set; }

    public int ReadyCount
    {
        get
        {
            lock (_gate)
            {
                return _ready.Count;
            }
        }
    }

    public int UnackedCount
    {
        get
        {
            lock (_gate)
            {
                return _unacked.Count;
            }
        }
    }

    public void Enqueue(StoredMessage message, bool front)
    {
        lock (_gate)
        {
            if (front)
            {
                _ready.AddFirst(message);
            }
            else
            {
                _ready.AddLast(message);
            }

            DispatchLocked();
        }
    }

    public bool TryTake(long tag, [NotNullWhen(true)] out InMemoryDelivery? delivery)
    {
        lock (_gate)
        {
            if (_ready.First is not { } node)
            {
                delivery = null;
                return false;
            }

            _ready.RemoveFirst();
            delivery = DeliverLocked(tag, node.Value);
            return true;
        }
    }

    public ValueTask<InMemoryDelivery> ReceiveAsync(InMemoryBroker broker, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        lock (_gate)
        {
            if (_ready.First is { } node)
            {
                _ready.RemoveFirst();
                return ValueTask.FromResult(DeliverLocked(broker.NextTag(), node.Value));
            }

            waiter = new Waiter(broker);
            waiter.Node = _waiters.AddLast(waiter);
        }

        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.Register(() => Cancel(waiter, cancellationToken));
        }

        return new ValueTask<InMemoryDelivery>(waiter.Completion.Task);
    }

    public void Ack(long tag)
    {
        lock (_gate)
        {
            _unacked.Remove(tag);
        }
    }

    public StoredMessage? Settle(long tag)
    {
        lock (_gate)
        {
            return _unacked.Remove(tag, out var message) ? message : null;
        }
    }

    private void Cancel(Waiter waiter, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (waiter.Node?.List is null)
            {
                return;
            }

            _waiters.Remove(waiter.Node);
        }

        waiter.Completion.TrySetCanceled(cancellationToken);
    }

    private void DispatchLocked()
    {
        while (_ready.First is { } node && _waiters.First is { } waiterNode)
        {
            _ready.RemoveFirst();
            _waiters.RemoveFirst();
            var waiter = waiterNode.Value;
            waiter.Registration.Unregister();
            var delivery = DeliverLocked(waiter.Broker.NextTag(), node.Value);
            waiter.Completion.TrySetResult(delivery);
        }
    }

    private InMemoryDelivery DeliverLocked(long tag, StoredMessage message)
    {
        _unacked[tag] = message;
        return new InMemoryDelivery(Name, tag, message);
    }

    private sealed class Waiter(InMemoryBroker broker)
    {
        public InMemoryBroker Broker { get; } = broker;

        public TaskCompletionSource<InMemoryDelivery> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }

        public CancellationTokenRegistration Registration { get; set; }
    }
}

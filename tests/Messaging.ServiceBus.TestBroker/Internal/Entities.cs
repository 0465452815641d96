namespace Messaging.ServiceBus.TestBroker.Internal;

/// <summary>An entity senders attach to: a queue or a topic. It numbers the messages sent to it.</summary>
internal abstract class SendTarget(string name)
{
    private long _lastSequenceNumber;

    public string Name { get; } = name;

    /// <summary>Accepts messages (scheduled ones wait for their time); returns their sequence numbers.</summary>
    public abstract long[] Send(IReadOnlyList<MessageContent> messages);

    /// <summary>Cancels scheduled messages; returns the sequence numbers that were not scheduled.</summary>
    public abstract List<long> CancelScheduled(IReadOnlyList<long> sequenceNumbers);

    public abstract void Dispose();

    protected long NextSequenceNumber() => Interlocked.Increment(ref _lastSequenceNumber);
}

internal sealed class QueueEntity(BrokerContext context, string name) : SendTarget(name)
{
    public MessageStore Store { get; } = new(context, name);

    public override long[] Send(IReadOnlyList<MessageContent> messages)
    {
        var sequenceNumbers = new long[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            sequenceNumbers[i] = NextSequenceNumber();
            Store.Enqueue(messages[i], sequenceNumbers[i]);
        }

        return sequenceNumbers;
    }

    public override List<long> CancelScheduled(IReadOnlyList<long> sequenceNumbers) => Store.CancelScheduled(sequenceNumbers);

    public override void Dispose() => Store.Dispose();
}

/// <summary>A topic: each message is copied, with the topic's sequence number, into every subscription.</summary>
internal sealed class TopicEntity(BrokerContext context, string name) : SendTarget(name)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, MessageStore> _subscriptions = new(StringComparer.OrdinalIgnoreCase);

    public MessageStore GetOrAddSubscription(string subscription)
    {
        lock (_gate)
        {
            if (!_subscriptions.TryGetValue(subscription, out var store))
            {
                store = new MessageStore(context, $"{Name}/{EntityAddress.SubscriptionsSegment}/{subscription}");
                _subscriptions.Add(subscription, store);
            }

            return store;
        }
    }

    public MessageStore? FindSubscription(string subscription)
    {
        lock (_gate)
        {
            return _subscriptions.GetValueOrDefault(subscription);
        }
    }

    public override long[] Send(IReadOnlyList<MessageContent> messages)
    {
        var subscriptions = Subscriptions();
        var sequenceNumbers = new long[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            sequenceNumbers[i] = NextSequenceNumber();
            foreach (var subscription in subscriptions)
            {
                subscription.Enqueue(messages[i].Clone(), sequenceNumbers[i]);
            }
        }

        return sequenceNumbers;
    }

    public override List<long> CancelScheduled(IReadOnlyList<long> sequenceNumbers)
    {
        var cancelled = new HashSet<long>();
        foreach (var subscription in Subscriptions())
        {
            var missing = subscription.CancelScheduled(sequenceNumbers);
            cancelled.UnionWith(sequenceNumbers.Except(missing));
        }

        return sequenceNumbers.Where(sequenceNumber => !cancelled.Contains(sequenceNumber)).ToList();
    }

    public override void Dispose()
    {
        foreach (var subscription in Subscriptions())
        {
            subscription.Dispose();
        }
    }

    private List<MessageStore> Subscriptions()
    {
        lock (_gate)
        {
            return [.. _subscriptions.Values];
        }
    }
}

using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;
using Microsoft.Azure.Amqp.Transport;

namespace Messaging.ServiceBus.TestBroker.Internal;

/// <summary>
/// The AMQP server side: the runtime provider the library asks for connections, sessions and links, and
/// the entities links attach to. A link attach is answered at once: bound to its node or entity, or refused
/// with an AMQP error (the client sees the matching exception instead of a time-out).
/// </summary>
internal sealed class BrokerRuntime : IRuntimeProvider
{
    private readonly object _entitiesGate = new();
    private readonly Dictionary<string, SendTarget> _entities = new(StringComparer.OrdinalIgnoreCase);
    private readonly ReplyLinks _replies = new();
    private readonly CbsNode _cbs;

    public BrokerRuntime(BrokerContext context)
    {
        Context = context;
        _cbs = new CbsNode(context, _replies);
    }

    public BrokerContext Context { get; }

    public QueueEntity CreateQueue(string name) => GetOrAdd(name, "queue", "topic", () => new QueueEntity(Context, name));

    public TopicEntity CreateTopic(string name) => GetOrAdd(name, "topic", "queue", () => new TopicEntity(Context, name));

    public MessageStore CreateSubscription(string topic, string subscription)
    {
        ValidateName(subscription, "subscription");
        return CreateTopic(topic).GetOrAddSubscription(subscription);
    }

    /// <summary>The store an inspection helper names, e.g. <c>orders</c>, <c>orders/$deadletterqueue</c>, <c>t/Subscriptions/s</c>.</summary>
    public MessageStore FindStore(string entityPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(entityPath);
        EntityAddress address;
        try
        {
            address = EntityAddress.Parse(entityPath);
        }
        catch (AmqpException exception)
        {
            throw new ArgumentException(exception.Message, nameof(entityPath), exception);
        }

        if (address.Cbs || address.Management)
        {
            throw new ArgumentException($"'{entityPath}' is a node, not an entity holding messages.", nameof(entityPath));
        }

        SendTarget? entity;
        lock (_entitiesGate)
        {
            _entities.TryGetValue(address.EntityName, out entity);
        }

        var store = (entity, address.Subscription) switch
        {
            (QueueEntity queue, null) => queue.Store,
            (TopicEntity topic, { } subscription) => topic.FindSubscription(subscription),
            (TopicEntity, null) => throw new ArgumentException($"'{address.EntityName}' is a topic; name a subscription: '{address.EntityName}/Subscriptions/<name>'.", nameof(entityPath)),
            _ => null,
        } ?? throw new ArgumentException($"The broker has no entity '{entityPath}'.", nameof(entityPath));
        return address.DeadLetter ? store.DeadLetterQueue! : store;
    }

    public void Dispose()
    {
        List<SendTarget> entities;
        lock (_entitiesGate)
        {
            entities = [.. _entities.Values];
        }

        foreach (var entity in entities)
        {
            entity.Dispose();
        }
    }

    AmqpConnection IConnectionFactory.CreateConnection(
        TransportBase transport,
        ProtocolHeader protocolHeader,
        bool isInitiator,
        AmqpSettings amqpSettings,
        AmqpConnectionSettings connectionSettings) =>
        new(transport, protocolHeader, isInitiator, amqpSettings, connectionSettings);

    AmqpSession ISessionFactory.CreateSession(AmqpConnection connection, AmqpSessionSettings settings) =>
        new(connection, settings, this);

    AmqpLink ILinkFactory.CreateLink(AmqpSession session, AmqpLinkSettings settings)
    {
        settings.MaxMessageSize = (ulong)Context.Options.MaxMessageSizeInBytes;
        return settings.Role == true ? new ReceivingAmqpLink(session, settings) : new SendingAmqpLink(session, settings);
    }

    IAsyncResult ILinkFactory.BeginOpenLink(AmqpLink link, TimeSpan timeout, AsyncCallback callback, object state)
    {
        try
        {
            Attach(link);
        }
        catch (AmqpException exception)
        {
            Context.Log($"Attach of '{link.Name}' refused: {exception.Error.Condition}: {exception.Error.Description}");
            throw;
        }

        return new CompletedResult(callback, state);
    }

    void ILinkFactory.EndOpenLink(IAsyncResult result)
    {
    }

    private T GetOrAdd<T>(string name, string kind, string otherKind, Func<T> create)
        where T : SendTarget
    {
        ValidateName(name, kind);
        lock (_entitiesGate)
        {
            if (_entities.TryGetValue(name, out var existing))
            {
                return existing as T ?? throw new InvalidOperationException($"'{name}' is a {otherKind}, not a {kind}.");
            }

            var entity = create();
            _entities.Add(name, entity);
            return entity;
        }
    }

    private static void ValidateName(string name, string kind)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.Contains('$', StringComparison.Ordinal) || name.StartsWith('/') || name.EndsWith('/'))
        {
            throw new ArgumentException($"'{name}' is not a valid {kind} name: no '$', no leading or trailing '/'.", nameof(name));
        }
    }

    private void Attach(AmqpLink link)
    {
        // The broker receives on a link the client sends on, and the other way round.
        var brokerReceives = link.IsReceiver;
        var address = brokerReceives ? (link.Settings.Target as Target)?.Address : (link.Settings.Source as Source)?.Address;
        if (address is null)
        {
            throw new AmqpException(AmqpErrorCode.InvalidField, $"The link '{link.Name}' names no {(brokerReceives ? "target" : "source")} address.");
        }

        var parsed = EntityAddress.Parse(address.ToString()!);
        if (parsed.Cbs || parsed.Management)
        {
            if (!brokerReceives)
            {
                _replies.Add((SendingAmqpLink)link);
            }
            else if (parsed.Cbs)
            {
                _cbs.Attach((ReceivingAmqpLink)link);
            }
            else
            {
                ManagementFor(parsed).Attach((ReceivingAmqpLink)link);
            }

            return;
        }

        if (brokerReceives)
        {
            _ = new Publisher(ResolveSendTarget(parsed), (ReceivingAmqpLink)link);
            Context.Log($"Sender attached to '{parsed.StorePath}'.");
            return;
        }

        RefuseSessionFilters(link, parsed);
        var store = ResolveStore(parsed);
        var consumer = new Consumer(store, (SendingAmqpLink)link);
        store.AddConsumer(consumer);
        Context.Log($"Receiver attached to '{store.Path}' ({(consumer.SettleOnSend ? "receive-and-delete" : "peek-lock")}).");
    }

    private ManagementNode ManagementFor(EntityAddress address)
    {
        if (address.Subscription is not null || address.DeadLetter)
        {
            return new ManagementNode(Context, _replies, address.StorePath, ResolveStore(address), sendTarget: null);
        }

        var target = ResolveSendTarget(address);
        var store = (target as QueueEntity)?.Store;
        return new ManagementNode(Context, _replies, address.StorePath, store, target);
    }

    private SendTarget ResolveSendTarget(EntityAddress address)
    {
        if (address.Subscription is not null || address.DeadLetter)
        {
            throw new AmqpException(AmqpErrorCode.NotAllowed, $"'{address.StorePath}' cannot be sent to: send to its queue or topic.");
        }

        lock (_entitiesGate)
        {
            if (_entities.TryGetValue(address.EntityName, out var entity))
            {
                return entity;
            }
        }

        return Context.Options.CreateEntitiesOnDemand
            ? CreateQueue(address.EntityName)
            : throw new AmqpException(AmqpErrorCode.NotFound, $"The messaging entity '{address.EntityName}' could not be found.");
    }

    private MessageStore ResolveStore(EntityAddress address)
    {
        SendTarget? entity;
        lock (_entitiesGate)
        {
            _entities.TryGetValue(address.EntityName, out entity);
        }

        MessageStore? store;
        if (address.Subscription is { } subscription)
        {
            if (entity is QueueEntity)
            {
                throw new AmqpException(AmqpErrorCode.NotFound, $"'{address.EntityName}' is a queue and has no subscriptions.");
            }

            store = (entity as TopicEntity)?.FindSubscription(subscription)
                ?? (Context.Options.CreateEntitiesOnDemand ? CreateSubscription(address.EntityName, subscription) : null);
        }
        else
        {
            if (entity is TopicEntity)
            {
                throw new AmqpException(AmqpErrorCode.NotAllowed, $"'{address.EntityName}' is a topic: receive from '{address.EntityName}/Subscriptions/<name>'.");
            }

            store = (entity as QueueEntity)?.Store ?? (Context.Options.CreateEntitiesOnDemand ? CreateQueue(address.EntityName).Store : null);
        }

        if (store is null)
        {
            throw new AmqpException(AmqpErrorCode.NotFound, $"The messaging entity '{address.StorePath}' could not be found.");
        }

        return address.DeadLetter ? store.DeadLetterQueue! : store;
    }

    private static void RefuseSessionFilters(AmqpLink link, EntityAddress address)
    {
        if (link.Settings.Source is not Source { FilterSet: { } filters })
        {
            return;
        }

        foreach (var filter in filters)
        {
            if (filter.Key.Key is AmqpSymbol name
                && (name.Equals(BrokerAnnotations.SessionFilter) || name.Equals(BrokerAnnotations.NonExclusiveSessionFilter)))
            {
                throw new AmqpException(
                    AmqpErrorCode.NotImplemented,
                    $"Sessions are not supported by the test broker: a session receiver cannot attach to '{address.StorePath}'.");
            }
        }
    }

    /// <summary>The result of an operation that completed before Begin returned; the callback has run.</summary>
    private sealed class CompletedResult : IAsyncResult
    {
        public CompletedResult(AsyncCallback callback, object state)
        {
            AsyncState = state;
            callback(this);
        }

        public object AsyncState { get; }

        public WaitHandle AsyncWaitHandle => throw new NotSupportedException("Completed synchronously; there is nothing to wait for.");

        public bool CompletedSynchronously => true;

        public bool IsCompleted => true;
    }
}

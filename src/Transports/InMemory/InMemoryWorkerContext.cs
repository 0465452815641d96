namespace Messaging.Transports.InMemory;

/// <summary>What an <see cref="InMemoryConsumerWorker{TMessage}"/> is built with; the registration supplies it.</summary>
public sealed class InMemoryWorkerContext : ConsumerWorkerContext
{
    internal InMemoryWorkerContext(string name, InMemoryConsumerOptions options, InMemoryBroker broker, IServiceProvider services)
        : base(name, options, services)
    {
        Options = options;
        Broker = broker;
    }

    /// <summary>Gets the worker's validated options.</summary>
    public new InMemoryConsumerOptions Options { get; }

    /// <summary>Gets the broker the worker consumes from.</summary>
    internal InMemoryBroker Broker { get; }
}

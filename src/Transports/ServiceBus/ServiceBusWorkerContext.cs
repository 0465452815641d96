namespace Messaging.Transports.ServiceBus;

/// <summary>What a <see cref="ServiceBusConsumerWorker{TMessage}"/> is built with; the registration supplies it.</summary>
public sealed class ServiceBusWorkerContext : ConsumerWorkerContext
{
    internal ServiceBusWorkerContext(string name, ServiceBusConsumerOptions options, ServiceBusClientProvider clients, IServiceProvider services)
        : base(name, options, services)
    {
        Options = options;
        Clients = clients;
    }

    /// <summary>Gets the worker's validated options.</summary>
    public new ServiceBusConsumerOptions Options { get; }

    internal ServiceBusClientProvider Clients { get; }
}

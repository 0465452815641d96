namespace Messaging.Transports.RabbitMq;

/// <summary>What a <see cref="RabbitMqConsumerWorker{TMessage}"/> is built with; the registration supplies it.</summary>
public sealed class RabbitMqWorkerContext : ConsumerWorkerContext
{
    internal RabbitMqWorkerContext(string name, RabbitMqConsumerOptions options, RabbitMqConnectionProvider connections, IServiceProvider services)
        : base(name, options, services)
    {
        Options = options;
        Connections = connections;
    }

    /// <summary>Gets the worker's validated options.</summary>
    public new RabbitMqConsumerOptions Options { get; }

    internal RabbitMqConnectionProvider Connections { get; }
}

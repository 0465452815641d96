using Messaging.Transports.InMemory;
using Messaging.Transports.RabbitMq;

namespace Messaging.Samples.Consumer;

/// <summary>The RabbitMQ worker: the library receives, traces, settles and recovers; this only handles.</summary>
internal sealed class RabbitMqOrderWorker(RabbitMqWorkerContext context, OrderHandler handler) : RabbitMqConsumerWorker<Order>(context)
{
    protected override Task HandleAsync(MessageContext<Order> message, CancellationToken cancellationToken) =>
        handler.HandleAsync(message, cancellationToken);
}

/// <summary>The same worker on the in-process broker (the demo).</summary>
internal sealed class InMemoryOrderWorker(InMemoryWorkerContext context, OrderHandler handler) : InMemoryConsumerWorker<Order>(context)
{
    protected override Task HandleAsync(MessageContext<Order> message, CancellationToken cancellationToken) =>
        handler.HandleAsync(message, cancellationToken);
}

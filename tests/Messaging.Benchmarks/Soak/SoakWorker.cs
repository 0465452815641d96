using Messaging.Transports.RabbitMq;
using OpenTelemetry;

namespace Messaging.Benchmarks.Soak;

/// <summary>
/// The soak's handler: checks its context on entry, then behaves like a sloppy real handler — it adds a baggage
/// member through the static setter (which writes into the current holder) and, for every eighth message, continues
/// asynchronously. Neither may reach any other message.
/// </summary>
public sealed class SoakWorker(RabbitMqWorkerContext context, SoakState state) : RabbitMqConsumerWorker<ReadOnlyMemory<byte>>(context)
{
    protected override async Task HandleAsync(MessageContext<ReadOnlyMemory<byte>> message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var index = state.Handle(message.MessageId);
        Baggage.SetBaggage(SoakState.HandlerScratchKey, message.MessageId);
        if (index % 8 == 0)
        {
            await Task.Yield();
        }
    }
}

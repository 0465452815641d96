using System.Diagnostics;
using Messaging.Transports.RabbitMq;

namespace Messaging.Benchmarks.EndToEnd;

/// <summary>The library's worker in the traced and quiet modes: record the message and its trace id, nothing else.</summary>
public sealed class E2EWorker(RabbitMqWorkerContext context, TrialState state) : RabbitMqConsumerWorker<ReadOnlyMemory<byte>>(context)
{
    protected override Task HandleAsync(MessageContext<ReadOnlyMemory<byte>> message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        state.Consumed(message.MessageId, Activity.Current?.TraceId ?? default);
        return Task.CompletedTask;
    }
}

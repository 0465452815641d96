using Azure.Messaging.ServiceBus;

namespace Messaging.Transports.ServiceBus;

/// <summary>
/// A received Service Bus message on the core pipeline, settled in this one place: ack → complete, requeue →
/// abandon (delivery count + 1), dead-letter → dead-letter with the reason and a bounded description. Its
/// <see cref="Revoked"/> token fires when the processor reports the lock lost.
/// </summary>
internal abstract class ServiceBusDelivery : ReceivedMessage, IDisposable
{
    /// <summary>The longest dead-letter description written (the service accepts 4096 characters).</summary>
    internal const int MaxDescriptionLength = 1024;

    private readonly CancellationTokenSource _revoked = new();

    protected ServiceBusDelivery(ServiceBusReceivedMessage message, string entityPath, string fullyQualifiedNamespace)
        : base(ServiceBusSemantics.Incoming(message, entityPath, fullyQualifiedNamespace), ServiceBusSemantics.Body(message))
    {
        Received = message;
    }

    public ServiceBusReceivedMessage Received { get; }

    public override CancellationToken Revoked => _revoked.Token;

    public override ValueTask AckAsync(CancellationToken cancellationToken) => new(CompleteCoreAsync(cancellationToken));

    public override ValueTask RequeueAsync(CancellationToken cancellationToken) => new(AbandonCoreAsync(cancellationToken));

    public override ValueTask DeadLetterAsync(string reason, CancellationToken cancellationToken) => DeadLetterAsync(reason, (Exception?)null, cancellationToken);

    public override ValueTask DeadLetterAsync(string reason, Exception? exception, CancellationToken cancellationToken) =>
        new(DeadLetterCoreAsync(reason, Describe(exception), cancellationToken));

    /// <summary>The dead-letter description: the last failure's message, at most <see cref="MaxDescriptionLength"/> characters.</summary>
    internal static string? Describe(Exception? exception)
    {
        if (exception is null)
        {
            return null;
        }

        var text = exception.Message;
        return text.Length <= MaxDescriptionLength ? text : string.Concat(text.AsSpan(0, MaxDescriptionLength - 1), "…");
    }

    /// <summary>The processor reported the lock lost: cancel the handler; the message is not settled.</summary>
    public Task OnLockLostAsync()
    {
        try
        {
            _revoked.Cancel();
        }
#pragma warning disable CA1031 // Raised by the SDK; nothing may escape into it (the delivery may be done already).
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        return Task.CompletedTask;
    }

    public void Dispose() => _revoked.Dispose();

    protected abstract Task CompleteCoreAsync(CancellationToken cancellationToken);

    protected abstract Task AbandonCoreAsync(CancellationToken cancellationToken);

    protected abstract Task DeadLetterCoreAsync(string reason, string? description, CancellationToken cancellationToken);

    /// <summary>A message of a <see cref="ServiceBusProcessor"/>.</summary>
    internal sealed class Processor(ProcessMessageEventArgs args)
        : ServiceBusDelivery(args.Message, args.EntityPath, args.FullyQualifiedNamespace)
    {
        protected override Task CompleteCoreAsync(CancellationToken cancellationToken) => args.CompleteMessageAsync(Received, cancellationToken);

        protected override Task AbandonCoreAsync(CancellationToken cancellationToken) => args.AbandonMessageAsync(Received, cancellationToken: cancellationToken);

        protected override Task DeadLetterCoreAsync(string reason, string? description, CancellationToken cancellationToken) =>
            args.DeadLetterMessageAsync(Received, reason, description, cancellationToken);
    }

    /// <summary>A message of a <see cref="ServiceBusSessionProcessor"/>.</summary>
    internal sealed class Session(ProcessSessionMessageEventArgs args)
        : ServiceBusDelivery(args.Message, args.EntityPath, args.FullyQualifiedNamespace)
    {
        protected override Task CompleteCoreAsync(CancellationToken cancellationToken) => args.CompleteMessageAsync(Received, cancellationToken);

        protected override Task AbandonCoreAsync(CancellationToken cancellationToken) => args.AbandonMessageAsync(Received, cancellationToken: cancellationToken);

        protected override Task DeadLetterCoreAsync(string reason, string? description, CancellationToken cancellationToken) =>
            args.DeadLetterMessageAsync(Received, reason, description, cancellationToken);
    }
}

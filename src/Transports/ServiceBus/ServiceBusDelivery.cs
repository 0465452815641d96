namespace Messaging.Transports.ServiceBus;

/// <summary>
/// A received Service Bus message as the core consumer pipeline (<see cref="ConsumerWorker"/>) sees it, with its
/// settlement given as delegates: complete (ack), dead-letter, abandon (requeue). No Azure SDK dependency — the SDK
/// glue is only the mapping of <c>ProcessMessageEventArgs</c> to this type (see the transport's README):
/// <c>CompleteMessageAsync</c>, <c>DeadLetterMessageAsync</c> and <c>AbandonMessageAsync</c>.
/// </summary>
/// <remarks>
/// The worker settles each message exactly once, so the receiver must not settle on its own: set the processor's
/// <c>AutoCompleteMessages</c> to <see langword="false"/>.
/// </remarks>
public sealed class ServiceBusDelivery : ReceivedMessage
{
    private readonly Func<CancellationToken, Task> _complete;
    private readonly Func<CancellationToken, Task> _abandon;
    private readonly Func<string, CancellationToken, Task> _deadLetter;

    /// <summary>Creates a delivery.</summary>
    /// <param name="message">The message's properties and metadata, from <see cref="ServiceBusMessaging.CreateIncoming"/>.</param>
    /// <param name="body">The body.</param>
    /// <param name="complete">Completes the message (it leaves the entity): <c>CompleteMessageAsync</c>.</param>
    /// <param name="abandon">Abandons the message (redelivered, delivery count + 1): <c>AbandonMessageAsync</c>.</param>
    /// <param name="deadLetter">Dead-letters the message with a reason: <c>DeadLetterMessageAsync</c>.</param>
    public ServiceBusDelivery(
        IncomingMessage message,
        ReadOnlyMemory<byte> body,
        Func<CancellationToken, Task> complete,
        Func<CancellationToken, Task> abandon,
        Func<string, CancellationToken, Task> deadLetter)
        : base(message, body)
    {
        ArgumentNullException.ThrowIfNull(complete);
        ArgumentNullException.ThrowIfNull(abandon);
        ArgumentNullException.ThrowIfNull(deadLetter);
        _complete = complete;
        _abandon = abandon;
        _deadLetter = deadLetter;
    }

    /// <summary>Completes the message.</summary>
    /// <param name="cancellationToken">Cancels the settlement.</param>
    /// <returns>A task that completes when the broker was told.</returns>
    public override ValueTask AckAsync(CancellationToken cancellationToken) => new(_complete(cancellationToken));

    /// <summary>Dead-letters the message, with <paramref name="reason"/> as its dead-letter reason.</summary>
    /// <param name="reason">Why, for example the exception type of the last attempt.</param>
    /// <param name="cancellationToken">Cancels the settlement.</param>
    /// <returns>A task that completes when the broker was told.</returns>
    public override ValueTask DeadLetterAsync(string reason, CancellationToken cancellationToken) => new(_deadLetter(reason, cancellationToken));

    /// <summary>Abandons the message: the broker redelivers it with its delivery count increased.</summary>
    /// <param name="cancellationToken">Cancels the settlement.</param>
    /// <returns>A task that completes when the broker was told.</returns>
    public override ValueTask RequeueAsync(CancellationToken cancellationToken) => new(_abandon(cancellationToken));
}

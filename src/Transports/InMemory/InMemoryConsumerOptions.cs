namespace Messaging.Transports.InMemory;

/// <summary>Options of an <see cref="InMemoryConsumerWorker{TMessage}"/>.</summary>
public sealed class InMemoryConsumerOptions : ConsumerWorkerOptions
{
    /// <summary>
    /// Gets or sets the dead-letter queue. Default (<see langword="null"/>): <c>{Queue}.dead-letter</c>.
    /// Set to an empty string to discard dead-lettered messages.
    /// </summary>
    public string? DeadLetterQueue { get; set; }

    /// <summary>Gets the effective dead-letter queue, or <see langword="null"/> when dead-lettered messages are discarded.</summary>
    internal string? EffectiveDeadLetterQueue => DeadLetterQueue switch
    {
        null => Queue + ".dead-letter",
        "" => null,
        _ => DeadLetterQueue,
    };
}

namespace Messaging.Transports.RabbitMq;

/// <summary>
/// Options of a <see cref="RabbitMqConsumerWorker{TMessage}"/>; validated when the host starts. The connection is the
/// application's (see <see cref="RabbitMqConnectionOptions"/>); the worker has a channel of its own on it.
/// </summary>
public sealed class RabbitMqConsumerOptions : ConsumerWorkerOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether the worker declares its queue (durable, no arguments) and its
    /// dead-letter queue on start. Default: <see langword="true"/>. Declaring is idempotent, so producer and
    /// consumer may both declare and either may start first.
    /// </summary>
    public bool DeclareQueues { get; set; } = true;

    /// <summary>
    /// Gets or sets the queue that receives dead-lettered messages, with their original properties and headers
    /// (trace context intact) plus <c>x-first-death-queue</c> and <c>x-first-death-reason</c>.
    /// Default (<see langword="null"/>): <c>{Queue}.dead-letter</c>. An empty string rejects without requeue instead,
    /// leaving dead-lettering to a dead-letter exchange configured on the queue (or discarding the message).
    /// </summary>
    public string? DeadLetterQueue { get; set; }

    /// <summary>Gets or sets the longest pause between attempts to subscribe again after a loss. Default: 5 seconds.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets the effective dead-letter queue, or <see langword="null"/> when rejecting instead.</summary>
    public string? EffectiveDeadLetterQueue => DeadLetterQueue switch
    {
        null => Queue + ".dead-letter",
        "" => null,
        _ => DeadLetterQueue,
    };

    /// <inheritdoc />
    protected internal override void Validate(ICollection<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        base.Validate(errors);
        if (MaxConcurrency > ushort.MaxValue)
        {
            errors.Add($"{nameof(MaxConcurrency)} must be at most 65535 for RabbitMQ (was {MaxConcurrency}).");
        }

        if (MaxReconnectDelay <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(MaxReconnectDelay)} must be positive (was {MaxReconnectDelay}).");
        }
    }
}

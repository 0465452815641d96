using RabbitMQ.Client;

namespace Messaging.Transports.RabbitMq;

/// <summary>Options of a <see cref="RabbitMqConsumerWorker{TMessage}"/>; validated when the host starts.</summary>
public sealed class RabbitMqConsumerOptions : ConsumerWorkerOptions
{
    /// <summary>Gets or sets the broker address. Default: <c>amqp://guest:guest@localhost:5672/</c>.</summary>
    public Uri Uri { get; set; } = new("amqp://guest:guest@localhost:5672/");

    /// <summary>Gets or sets a hook to adjust the connection factory (TLS, credentials, timeouts) before connecting.</summary>
    public Action<ConnectionFactory>? ConfigureConnectionFactory { get; set; }

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

    /// <summary>Gets or sets the longest pause between reconnection attempts. Default: 5 seconds.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets the effective dead-letter queue, or <see langword="null"/> when rejecting instead.</summary>
    public string? EffectiveDeadLetterQueue => DeadLetterQueue switch
    {
        null => Queue + ".dead-letter",
        "" => null,
        _ => DeadLetterQueue,
    };

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        if (Uri is null || (Uri.Scheme != "amqp" && Uri.Scheme != "amqps"))
        {
            throw new ArgumentException($"{nameof(Uri)} must be an amqp:// or amqps:// address, not '{Uri}'.", nameof(Uri));
        }

        if (MaxConcurrency > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrency), MaxConcurrency, $"{nameof(MaxConcurrency)} must be at most 65535 for RabbitMQ.");
        }

        if (MaxReconnectDelay <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxReconnectDelay), MaxReconnectDelay, $"{nameof(MaxReconnectDelay)} must be positive.");
        }
    }
}

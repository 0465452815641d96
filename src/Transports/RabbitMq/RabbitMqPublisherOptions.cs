namespace Messaging.Transports.RabbitMq;

/// <summary>Options of the application's <see cref="IRabbitMqPublisher"/>; validated when the host starts.</summary>
public sealed class RabbitMqPublisherOptions
{
    /// <summary>Gets or sets how many channels publish at once (each with publisher confirms). Default: 4.</summary>
    public int MaxChannels { get; set; } = 4;

    /// <summary>
    /// Gets or sets how long one publish may take, retries included, before it fails with a
    /// <see cref="TimeoutException"/>. Default: 30 seconds.
    /// </summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the longest pause between retries (the back-off starts at 100 ms and doubles). Default: 5 seconds.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets the queues the publisher declares on each channel it opens, durable and without arguments — as a worker
    /// declares its queue — so that messages sent before any worker started are kept rather than dropped as
    /// unroutable. Declaring is idempotent. Default: none.
    /// </summary>
    public IList<string> DeclareQueues { get; } = [];

    /// <summary>Gets or sets the serializer of <see cref="IRabbitMqPublisher.PublishMessageAsync{T}"/>. Default: <see cref="JsonMessageSerializer.Default"/>.</summary>
    public IMessageSerializer Serializer { get; set; } = JsonMessageSerializer.Default;

    /// <summary>Validates the options.</summary>
    /// <exception cref="ArgumentException">One or more options are invalid; the message lists every problem.</exception>
    public void Validate() => OptionsErrors.ThrowIfAny(this, Validate);

    internal void Validate(ICollection<string> errors)
    {
        if (MaxChannels is < 1 or > 1024)
        {
            errors.Add($"{nameof(MaxChannels)} must be between 1 and 1024 (was {MaxChannels}).");
        }

        if (PublishTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(PublishTimeout)} must be positive (was {PublishTimeout}).");
        }

        if (MaxRetryDelay <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(MaxRetryDelay)} must be positive (was {MaxRetryDelay}).");
        }

        if (Serializer is null)
        {
            errors.Add($"{nameof(Serializer)} must not be null.");
        }

        for (var i = 0; i < DeclareQueues.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(DeclareQueues[i]))
            {
                errors.Add($"{nameof(DeclareQueues)}[{i}] must name a queue.");
            }
        }
    }
}

namespace Messaging;

/// <summary>Options of a <see cref="ConsumerWorker{TMessage}"/>; validated when the host starts.</summary>
public class ConsumerWorkerOptions : MessagingOptions
{
    /// <summary>Gets or sets the queue (or subscription) to consume. Required.</summary>
    public string Queue { get; set; } = string.Empty;

    /// <summary>Gets or sets how many messages are handled at once. Default: 1.</summary>
    public int MaxConcurrency { get; set; } = 1;

    /// <summary>
    /// Gets or sets how many unacknowledged messages the broker may push ahead of the handlers.
    /// Default: 0, meaning 4 × <see cref="MaxConcurrency"/>. At most 65 535.
    /// </summary>
    public int PrefetchCount { get; set; }

    /// <summary>
    /// Gets or sets how many times a message is handled before it is dead-lettered, the first attempt included.
    /// Default: 3. Retries happen in the worker, so the count is exact on every broker and never loops.
    /// </summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Gets or sets the pause between attempts. Default: none.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Gets or sets the body serializer. Default: <see cref="JsonMessageSerializer.Default"/>.</summary>
    public IMessageSerializer Serializer { get; set; } = JsonMessageSerializer.Default;

    /// <summary>
    /// Gets or sets a value indicating whether the worker opens a logging scope around each handler attempt with
    /// <c>TraceId</c>, <c>SpanId</c>, <c>MessageId</c>, <c>Destination</c> and the baggage keys allow-listed in
    /// <see cref="MessagingOptions.BaggageTelemetry"/>, so every <c>ILogger</c> call in the handler carries them
    /// (with a provider that includes scopes). Default: <see langword="true"/>. The standard alternative for trace
    /// and span ids alone is <c>LoggerFactoryOptions.ActivityTrackingOptions</c>.
    /// </summary>
    public bool LogScope { get; set; } = true;

    /// <summary>Gets the effective prefetch count.</summary>
    public int EffectivePrefetchCount => PrefetchCount > 0 ? PrefetchCount : Math.Min(MaxConcurrency * 4, ushort.MaxValue);

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        if (string.IsNullOrWhiteSpace(Queue))
        {
            throw new ArgumentException($"{nameof(Queue)} is required: name the queue this worker consumes.", nameof(Queue));
        }

        if (MaxConcurrency < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrency), MaxConcurrency, $"{nameof(MaxConcurrency)} must be at least 1.");
        }

        if (PrefetchCount is < 0 or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(PrefetchCount), PrefetchCount, $"{nameof(PrefetchCount)} must be between 0 (automatic) and 65535.");
        }

        if (MaxAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, $"{nameof(MaxAttempts)} must be at least 1.");
        }

        if (RetryDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(RetryDelay), RetryDelay, $"{nameof(RetryDelay)} must not be negative.");
        }

        if (Serializer is null)
        {
            throw new ArgumentException($"{nameof(Serializer)} must not be null.", nameof(Serializer));
        }
    }
}

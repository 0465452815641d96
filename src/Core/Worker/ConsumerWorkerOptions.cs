namespace Messaging;

/// <summary>
/// Options of one consumer worker, named after the worker and validated when the host starts. How context crosses
/// the queue (propagator, baggage policies) is the application's <see cref="MessagingOptions"/>, shared by every
/// worker and publisher; a worker may only choose its own trust and parenting.
/// </summary>
public class ConsumerWorkerOptions
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
    /// Gets or sets how far this worker trusts received context. Default (<see langword="null"/>): the application's
    /// <see cref="MessagingOptions.Trust"/>.
    /// </summary>
    public ContextTrust? Trust { get; set; }

    /// <summary>
    /// Gets or sets how this worker's consumer spans relate to the producer context. Default (<see langword="null"/>):
    /// the application's <see cref="MessagingOptions.Parenting"/>.
    /// </summary>
    public ParentingMode? Parenting { get; set; }

    /// <summary>
    /// Gets or sets a per-message choice of parenting for this worker. Default (<see langword="null"/>): the
    /// application's <see cref="MessagingOptions.ParentingPolicy"/>.
    /// </summary>
    public Func<IncomingMessage, ParentingMode>? ParentingPolicy { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the worker opens a logging scope around each handler attempt with
    /// <c>TraceId</c>, <c>SpanId</c>, <c>MessageId</c>, <c>Destination</c> and the baggage keys allow-listed in
    /// <see cref="MessagingOptions.BaggageTelemetry"/>, so every <c>ILogger</c> call in the handler carries them
    /// (with a provider that includes scopes). Default: <see langword="true"/>. The standard alternative for trace
    /// and span ids alone is <c>LoggerFactoryOptions.ActivityTrackingOptions</c>. The scope is not opened when the
    /// application registers no logging provider and the worker's logger is disabled at every level: no logger would
    /// write it, and the logging infrastructure would still allocate a scope object per message.
    /// </summary>
    public bool LogScope { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether the worker's health check (named after the worker) is left out.
    /// Default: <see langword="false"/>: the check is registered and reports Unhealthy while the worker is not
    /// subscribed. (Aspire's <c>DisableHealthChecks</c>.)
    /// </summary>
    public bool DisableHealthChecks { get; set; }

    /// <summary>Gets the effective prefetch count.</summary>
    internal int EffectivePrefetchCount => PrefetchCount > 0 ? PrefetchCount : Math.Min(MaxConcurrency * 4, ushort.MaxValue);

    /// <summary>Validates the options.</summary>
    /// <exception cref="ArgumentException">One or more options are invalid; the message lists every problem.</exception>
    public void Validate() => OptionsErrors.ThrowIfAny(this, Validate);

    /// <summary>Adds a message for each invalid option to <paramref name="errors"/>, each naming the option.</summary>
    /// <param name="errors">Where the problems are collected.</param>
    protected internal virtual void Validate(ICollection<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (string.IsNullOrWhiteSpace(Queue))
        {
            errors.Add($"{nameof(Queue)} is required: name the queue this worker consumes.");
        }

        if (MaxConcurrency < 1)
        {
            errors.Add($"{nameof(MaxConcurrency)} must be at least 1 (was {MaxConcurrency}).");
        }

        if (PrefetchCount is < 0 or > ushort.MaxValue)
        {
            errors.Add($"{nameof(PrefetchCount)} must be between 0 (automatic) and 65535 (was {PrefetchCount}).");
        }

        if (MaxAttempts < 1)
        {
            errors.Add($"{nameof(MaxAttempts)} must be at least 1 (was {MaxAttempts}).");
        }

        if (RetryDelay < TimeSpan.Zero)
        {
            errors.Add($"{nameof(RetryDelay)} must not be negative (was {RetryDelay}).");
        }

        if (Serializer is null)
        {
            errors.Add($"{nameof(Serializer)} must not be null.");
        }

        if (Trust is { } trust && !Enum.IsDefined(trust))
        {
            errors.Add($"{nameof(Trust)} has an unknown value '{trust}'.");
        }

        if (Parenting is { } parenting && !Enum.IsDefined(parenting))
        {
            errors.Add($"{nameof(Parenting)} has an unknown value '{parenting}'.");
        }
    }
}

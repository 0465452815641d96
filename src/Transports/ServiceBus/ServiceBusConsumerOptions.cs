namespace Messaging.Transports.ServiceBus;

/// <summary>
/// Options of a <see cref="ServiceBusConsumerWorker{TMessage}"/> (and of its session-aware variant); validated when the
/// host starts. <see cref="ConsumerWorkerOptions.Queue"/> names the queue, or — with <see cref="Subscription"/> — the
/// topic. <see cref="ConsumerWorkerOptions.MaxConcurrency"/> is the processor's <c>MaxConcurrentCalls</c> (for sessions,
/// <c>MaxConcurrentSessions</c>); <see cref="ConsumerWorkerOptions.PrefetchCount"/> is its <c>PrefetchCount</c> (0, the
/// default, prefetches nothing: a prefetched message's lock runs while it waits). The worker always settles each
/// message itself, so the processor's <c>AutoCompleteMessages</c> is off. The client is the application's (see
/// <see cref="ServiceBusConnectionOptions"/>).
/// </summary>
public sealed class ServiceBusConsumerOptions : ConsumerWorkerOptions
{
    /// <summary>Gets or sets the subscription of the topic named by <see cref="ConsumerWorkerOptions.Queue"/>. Default: none (a queue).</summary>
    public string? Subscription { get; set; }

    /// <summary>
    /// Gets or sets how long the processor renews a message's lock while its handler (with its retries) runs.
    /// Default: 5 minutes, as the SDK's. Keep it above <c>MaxAttempts × (handler time + RetryDelay)</c>.
    /// <see cref="Timeout.InfiniteTimeSpan"/> renews without limit; <see cref="TimeSpan.Zero"/> never renews.
    /// </summary>
    public TimeSpan MaxAutoLockRenewalDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets how many messages of one session are handled at once (session-aware worker only). Default: 1, in order.</summary>
    public int MaxConcurrentCallsPerSession { get; set; } = 1;

    /// <summary>
    /// Gets or sets how long the session-aware worker waits for the next message of a session before it moves on to
    /// another session. Default (<see langword="null"/>): the SDK's.
    /// </summary>
    public TimeSpan? SessionIdleTimeout { get; set; }

    /// <summary>Gets the sessions the session-aware worker is limited to. Default: empty, any session.</summary>
    public IList<string> SessionIds { get; } = [];

    /// <summary>Gets the entity path the processor receives from: the queue, or <c>{topic}/Subscriptions/{subscription}</c>.</summary>
    internal string EntityPath => Subscription is { Length: > 0 } subscription ? $"{Queue}/Subscriptions/{subscription}" : Queue;

    /// <inheritdoc />
    protected internal override void Validate(ICollection<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        base.Validate(errors);
        if (Subscription is { } subscription && string.IsNullOrWhiteSpace(subscription))
        {
            errors.Add($"{nameof(Subscription)} must not be empty when set.");
        }

        if (MaxAutoLockRenewalDuration < TimeSpan.Zero && MaxAutoLockRenewalDuration != Timeout.InfiniteTimeSpan)
        {
            errors.Add($"{nameof(MaxAutoLockRenewalDuration)} must not be negative, except Timeout.InfiniteTimeSpan (was {MaxAutoLockRenewalDuration}).");
        }

        if (MaxConcurrentCallsPerSession < 1)
        {
            errors.Add($"{nameof(MaxConcurrentCallsPerSession)} must be at least 1 (was {MaxConcurrentCallsPerSession}).");
        }

        if (SessionIdleTimeout is { } idle && idle <= TimeSpan.Zero)
        {
            errors.Add($"{nameof(SessionIdleTimeout)} must be positive when set (was {idle}).");
        }
    }
}

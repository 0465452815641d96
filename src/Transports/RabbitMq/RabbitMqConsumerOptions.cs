namespace Messaging.Transports.RabbitMq;

/// <summary>
/// Options of a <see cref="RabbitMqConsumerWorker{TMessage}"/>; validated when the host starts. The connection is the
/// application's (see <see cref="RabbitMqConnectionOptions"/>); the worker has a channel of its own on it.
/// </summary>
public sealed class RabbitMqConsumerOptions : ConsumerWorkerOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether the worker declares its queue (durable, with the arguments these options
    /// imply), its dead-letter queue and dead-letter exchange on start. Default: <see langword="true"/>. Declaring is
    /// idempotent, so producer and consumer may both declare and either may start first — with the same arguments: the
    /// broker refuses a declaration whose arguments differ from the existing queue's (<c>PRECONDITION_FAILED</c>).
    /// </summary>
    public bool DeclareQueues { get; set; } = true;

    /// <summary>
    /// Gets or sets the type of queue declared. Default: <see cref="RabbitMqQueueType.Classic"/>. On a cluster use
    /// <see cref="RabbitMqQueueType.Quorum"/>: replicated, and its <c>x-delivery-count</c> feeds the attempt number.
    /// </summary>
    public RabbitMqQueueType QueueType { get; set; } = RabbitMqQueueType.Classic;

    /// <summary>
    /// Gets or sets the broker's delivery limit of a quorum queue (<c>x-delivery-limit</c>): after this many returns
    /// (a consumer lost its channel, a requeue) the broker dead-letters the message without the worker. Default:
    /// <see langword="null"/>, no limit (the worker's <see cref="ConsumerWorkerOptions.MaxAttempts"/>, counted across
    /// deliveries, still applies). Quorum queues only.
    /// </summary>
    public int? DeliveryLimit { get; set; }

    /// <summary>
    /// Gets or sets how the worker dead-letters. Default (<see langword="null"/>): <see cref="RabbitMqDeadLetterMode.Broker"/>
    /// for quorum queues and <see cref="RabbitMqDeadLetterMode.Publish"/> for classic queues (so a classic queue
    /// declared before without dead-letter arguments stays compatible). <see cref="RabbitMqDeadLetterMode.Broker"/> is
    /// recommended for new queues of either type.
    /// </summary>
    public RabbitMqDeadLetterMode? DeadLettering { get; set; }

    /// <summary>
    /// Gets or sets the queue that receives dead-lettered messages, with their original properties and headers
    /// (trace context and baggage intact) plus <c>x-death</c> (broker mode) or <c>x-first-death-queue</c> and
    /// <c>x-first-death-reason</c> (publish mode). Declared with the same type as the queue. Default
    /// (<see langword="null"/>): <c>{Queue}.dead-letter</c>. An empty string declares no dead-letter queue: the worker
    /// rejects without requeue and the broker dead-letters through <see cref="DeadLetterExchange"/> when one is set (or
    /// a policy), otherwise discards the message.
    /// </summary>
    public string? DeadLetterQueue { get; set; }

    /// <summary>
    /// Gets or sets the dead-letter exchange of broker mode (<c>x-dead-letter-exchange</c>). Default
    /// (<see langword="null"/>): the default exchange, which routes to the dead-letter queue by name. A named exchange is
    /// declared (durable, direct; an <c>amq.</c> exchange exists already and is not) and the dead-letter queue bound to it with <see cref="EffectiveDeadLetterRoutingKey"/>.
    /// </summary>
    public string? DeadLetterExchange { get; set; }

    /// <summary>
    /// Gets or sets the routing key of broker mode (<c>x-dead-letter-routing-key</c>). Default (<see langword="null"/>):
    /// the dead-letter queue's name; without a dead-letter queue, the message's own routing key.
    /// </summary>
    public string? DeadLetterRoutingKey { get; set; }

    /// <summary>
    /// Gets or sets how a quorum queue dead-letters in broker mode (<c>x-dead-letter-strategy</c>). Default
    /// (<see langword="null"/>): <see cref="RabbitMqDeadLetterStrategy.AtLeastOnce"/> when the broker is RabbitMQ 3.10
    /// or later (it then also gets <c>x-overflow: reject-publish</c>, which at-least-once requires), otherwise the
    /// broker's at-most-once. Quorum queues only.
    /// </summary>
    public RabbitMqDeadLetterStrategy? DeadLetterStrategy { get; set; }

    /// <summary>Gets or sets the longest pause between attempts to subscribe again after a loss. Default: 5 seconds.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets the effective dead-letter queue, or <see langword="null"/> when none is declared.</summary>
    internal string? EffectiveDeadLetterQueue => DeadLetterQueue switch
    {
        null => Queue + ".dead-letter",
        "" => null,
        _ => DeadLetterQueue,
    };

    /// <summary>Gets the effective dead-letter mode (see <see cref="DeadLettering"/>).</summary>
    internal RabbitMqDeadLetterMode EffectiveDeadLettering =>
        DeadLettering ?? (QueueType == RabbitMqQueueType.Quorum ? RabbitMqDeadLetterMode.Broker : RabbitMqDeadLetterMode.Publish);

    /// <summary>Gets the effective routing key of broker mode, or <see langword="null"/> for the message's own.</summary>
    internal string? EffectiveDeadLetterRoutingKey => DeadLetterRoutingKey ?? EffectiveDeadLetterQueue;

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

        if (!Enum.IsDefined(QueueType))
        {
            errors.Add($"{nameof(QueueType)} has an unknown value '{QueueType}'.");
        }

        if (DeadLettering is { } mode && !Enum.IsDefined(mode))
        {
            errors.Add($"{nameof(DeadLettering)} has an unknown value '{mode}'.");
        }

        if (DeadLetterStrategy is { } strategy && !Enum.IsDefined(strategy))
        {
            errors.Add($"{nameof(DeadLetterStrategy)} has an unknown value '{strategy}'.");
        }

        var quorum = QueueType == RabbitMqQueueType.Quorum;
        if (DeliveryLimit is { } limit)
        {
            if (!quorum)
            {
                errors.Add($"{nameof(DeliveryLimit)} needs {nameof(QueueType)} {nameof(RabbitMqQueueType.Quorum)}: classic queues keep no delivery count (was {QueueType}).");
            }
            else if (limit < 1)
            {
                errors.Add($"{nameof(DeliveryLimit)} must be at least 1 (was {limit}).");
            }
        }

        if (DeadLetterStrategy is not null && !quorum)
        {
            errors.Add($"{nameof(DeadLetterStrategy)} needs {nameof(QueueType)} {nameof(RabbitMqQueueType.Quorum)}: only quorum queues choose a dead-letter strategy (was {QueueType}).");
        }

        if (EffectiveDeadLettering == RabbitMqDeadLetterMode.Publish)
        {
            if (DeadLetterExchange is not null || DeadLetterRoutingKey is not null || DeadLetterStrategy is not null)
            {
                errors.Add($"{nameof(DeadLetterExchange)}, {nameof(DeadLetterRoutingKey)} and {nameof(DeadLetterStrategy)} apply to {nameof(DeadLettering)} {nameof(RabbitMqDeadLetterMode.Broker)} only; {nameof(RabbitMqDeadLetterMode.Publish)} copies to {nameof(DeadLetterQueue)} itself.");
            }
        }

        if (DeadLetterQueue is not null && DeadLetterQueue.Length > 0 && string.IsNullOrWhiteSpace(DeadLetterQueue))
        {
            errors.Add($"{nameof(DeadLetterQueue)} must be a queue name, or empty for none (was whitespace).");
        }

        if (DeadLetterQueue is { Length: > 0 } dlq && string.Equals(dlq, Queue, StringComparison.Ordinal))
        {
            errors.Add($"{nameof(DeadLetterQueue)} must differ from {nameof(Queue)} ('{Queue}'): a message would be dead-lettered into the queue it left.");
        }
    }
}

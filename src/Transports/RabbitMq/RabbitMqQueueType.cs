namespace Messaging.Transports.RabbitMq;

/// <summary>The type of queue a <see cref="RabbitMqConsumerWorker{TMessage}"/> declares (the <c>x-queue-type</c> argument).</summary>
public enum RabbitMqQueueType
{
    /// <summary>A classic queue, declared without <c>x-queue-type</c> (the broker's default type), so a queue declared elsewhere without arguments stays compatible.</summary>
    Classic,

    /// <summary>A quorum queue (<c>x-queue-type: quorum</c>): replicated across the cluster's nodes (Raft), for clusters.</summary>
    Quorum,
}

/// <summary>How a <see cref="RabbitMqConsumerWorker{TMessage}"/> dead-letters a message it gives up on.</summary>
public enum RabbitMqDeadLetterMode
{
    /// <summary>
    /// The broker's dead-letter exchange (recommended): the queue is declared with <c>x-dead-letter-exchange</c> and
    /// <c>x-dead-letter-routing-key</c>, the worker rejects the message without requeue, and the broker routes it —
    /// headers kept as published (trace context and baggage intact) plus the broker's <c>x-death</c> history.
    /// </summary>
    Broker,

    /// <summary>
    /// The worker publishes a copy (original properties and headers plus <c>x-first-death-queue</c> and
    /// <c>x-first-death-reason</c>, the exception type) to the dead-letter queue and acks the original after the broker
    /// confirmed the copy. For a queue whose arguments cannot change: one declared elsewhere without dead-letter
    /// arguments (queue arguments are fixed at declaration) where no policy may be set.
    /// </summary>
    Publish,
}

/// <summary>How a quorum queue dead-letters (the <c>x-dead-letter-strategy</c> argument).</summary>
public enum RabbitMqDeadLetterStrategy
{
    /// <summary>The broker's default: the message leaves the queue when it is dead-lettered, whether or not the target accepted it.</summary>
    AtMostOnce,

    /// <summary>
    /// The quorum queue keeps the message until the dead-letter target confirmed it (<c>x-dead-letter-strategy:
    /// at-least-once</c>, RabbitMQ 3.10 or later); it requires, and gets, <c>x-overflow: reject-publish</c>.
    /// </summary>
    AtLeastOnce,
}

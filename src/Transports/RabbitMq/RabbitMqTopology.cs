using System.Globalization;
using System.Text;
using RabbitMQ.Client;

namespace Messaging.Transports.RabbitMq;

/// <summary>What a worker declares: its queue with the arguments its options imply, the dead-letter queue and exchange.</summary>
internal static class RabbitMqTopology
{
    public const string QueueTypeArgument = "x-queue-type";
    public const string DeliveryLimitArgument = "x-delivery-limit";
    public const string DeadLetterExchangeArgument = "x-dead-letter-exchange";
    public const string DeadLetterRoutingKeyArgument = "x-dead-letter-routing-key";
    public const string DeadLetterStrategyArgument = "x-dead-letter-strategy";
    public const string OverflowArgument = "x-overflow";

    /// <summary>The arguments of the worker's queue, or <see langword="null"/> for none (a plain classic queue).</summary>
    /// <param name="options">The worker's options.</param>
    /// <param name="atLeastOnceSupported">Whether the broker knows at-least-once dead-lettering (RabbitMQ 3.10 or later).</param>
    public static Dictionary<string, object?>? QueueArguments(RabbitMqConsumerOptions options, bool atLeastOnceSupported)
    {
        var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
        var quorum = options.QueueType == RabbitMqQueueType.Quorum;
        if (quorum)
        {
            arguments[QueueTypeArgument] = "quorum";
            if (options.DeliveryLimit is { } limit)
            {
                arguments[DeliveryLimitArgument] = limit;
            }
        }

        if (options.EffectiveDeadLettering == RabbitMqDeadLetterMode.Broker && HasDeadLetterTarget(options))
        {
            arguments[DeadLetterExchangeArgument] = options.DeadLetterExchange ?? string.Empty;
            if (options.EffectiveDeadLetterRoutingKey is { } routingKey)
            {
                arguments[DeadLetterRoutingKeyArgument] = routingKey;
            }

            var strategy = options.DeadLetterStrategy
                ?? (atLeastOnceSupported ? RabbitMqDeadLetterStrategy.AtLeastOnce : RabbitMqDeadLetterStrategy.AtMostOnce);
            if (quorum && strategy == RabbitMqDeadLetterStrategy.AtLeastOnce)
            {
                arguments[DeadLetterStrategyArgument] = "at-least-once";
                arguments[OverflowArgument] = "reject-publish";
            }
        }

        return arguments.Count > 0 ? arguments : null;
    }

    /// <summary>The arguments of the dead-letter queue: the same queue type, nothing else.</summary>
    public static Dictionary<string, object?>? DeadLetterQueueArguments(RabbitMqConsumerOptions options) =>
        options.QueueType == RabbitMqQueueType.Quorum
            ? new Dictionary<string, object?>(StringComparer.Ordinal) { [QueueTypeArgument] = "quorum" }
            : null;

    /// <summary>Whether broker mode has somewhere to route to: a dead-letter queue or a named exchange.</summary>
    public static bool HasDeadLetterTarget(RabbitMqConsumerOptions options) =>
        options.EffectiveDeadLetterQueue is not null || !string.IsNullOrEmpty(options.DeadLetterExchange);

    /// <summary>Whether the broker's reported version (the <c>version</c> server property) is RabbitMQ 3.10 or later.</summary>
    public static bool SupportsAtLeastOnceDeadLettering(IDictionary<string, object?>? serverProperties)
    {
        if (serverProperties is null || !serverProperties.TryGetValue("version", out var raw))
        {
            return false;
        }

        var text = raw switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            string s => s,
            _ => null,
        };
        var parts = text?.Split('.', '-', '+');
        return parts is { Length: >= 2 }
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor)
            && (major > 3 || (major == 3 && minor >= 10));
    }

    /// <summary>Declares the queue, the dead-letter queue and a named dead-letter exchange with its binding.</summary>
    public static async Task DeclareAsync(IChannel channel, RabbitMqConsumerOptions options, bool atLeastOnceSupported, CancellationToken cancellationToken)
    {
        var deadLetterQueue = options.EffectiveDeadLetterQueue;
        if (deadLetterQueue is not null)
        {
            // First, so that broker-mode dead-lettering has its target from the start.
            await channel.QueueDeclareAsync(deadLetterQueue, durable: true, exclusive: false, autoDelete: false, DeadLetterQueueArguments(options), cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        if (options.EffectiveDeadLettering == RabbitMqDeadLetterMode.Broker && options.DeadLetterExchange is { Length: > 0 } exchange)
        {
            if (!exchange.StartsWith("amq.", StringComparison.Ordinal))
            {
                await channel.ExchangeDeclareAsync(exchange, ExchangeType.Direct, durable: true, autoDelete: false, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            if (deadLetterQueue is not null)
            {
                await channel.QueueBindAsync(deadLetterQueue, exchange, options.EffectiveDeadLetterRoutingKey ?? deadLetterQueue, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }

        await channel.QueueDeclareAsync(options.Queue, durable: true, exclusive: false, autoDelete: false, QueueArguments(options, atLeastOnceSupported), cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}

using System.Text;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Messaging.Transports.RabbitMq;

/// <summary>
/// A <see cref="ConsumerWorker{TMessage}"/> consuming a RabbitMQ queue: manual acks after the handler, prefetch
/// (QoS) and dispatch concurrency from options, dead-lettering to a queue it declares, and re-subscription whenever
/// the connection, channel or consumer is lost. Inherit it, override <c>HandleAsync</c>, and register it with
/// <c>AddRabbitMqConsumerWorker</c>.
/// </summary>
/// <remarks>
/// The worker owns its connection's recovery rather than relying on the client's automatic recovery (which can
/// silently lose a consumer): any shutdown of the connection or channel, or a broker-side cancel of the consumer,
/// makes it reconnect, redeclare and resubscribe with bounded back-off. Messages in flight when the channel is lost
/// cannot be acknowledged; the broker redelivers them (flagged redelivered), so handlers should be idempotent.
/// </remarks>
/// <typeparam name="TMessage">The body type.</typeparam>
public abstract class RabbitMqConsumerWorker<TMessage> : ConsumerWorker<TMessage>
{
    /// <summary>Gets the worker's options.</summary>
    protected new RabbitMqConsumerOptions Options => (RabbitMqConsumerOptions)base.Options;

    /// <inheritdoc />
    protected override void ValidateOptions(ConsumerWorkerOptions options)
    {
        if (options is not RabbitMqConsumerOptions)
        {
            throw new ArgumentException($"A RabbitMQ worker needs {nameof(RabbitMqConsumerOptions)}; register it with AddRabbitMqConsumerWorker.", nameof(options));
        }
    }

    /// <inheritdoc />
    protected override async Task ConsumeAsync(CancellationToken stoppingToken)
    {
        var options = Options;
        var factory = new ConnectionFactory
        {
            Uri = options.Uri,
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
            ClientProvidedName = Name,
        };
        options.ConfigureConnectionFactory?.Invoke(factory);
        factory.AutomaticRecoveryEnabled = false;

        var delay = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ConsumeOnceAsync(factory, stoppingToken).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(100);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // Any failure to connect or subscribe is retried with back-off until the host stops.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                RabbitMqLog.ConnectFailed(Logger, ex, Name, delay.TotalSeconds);
                try
                {
                    await Task.Delay(delay, TimeProvider, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxReconnectDelay.Ticks));
            }
        }
    }

    private async Task ConsumeOnceAsync(ConnectionFactory factory, CancellationToken stoppingToken)
    {
        var options = Options;
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var connection = await factory.CreateConnectionAsync(stoppingToken).ConfigureAwait(false);
        await using var disposeConnection = connection.ConfigureAwait(false);
        connection.ConnectionShutdownAsync += (_, _) =>
        {
            lost.TrySetResult();
            return Task.CompletedTask;
        };

        var channelOptions = new CreateChannelOptions(
            publisherConfirmationsEnabled: true,
            publisherConfirmationTrackingEnabled: true,
            consumerDispatchConcurrency: (ushort)options.MaxConcurrency);
        var channel = await connection.CreateChannelAsync(channelOptions, stoppingToken).ConfigureAwait(false);
        await using var disposeChannel = channel.ConfigureAwait(false);
        channel.ChannelShutdownAsync += (_, _) =>
        {
            lost.TrySetResult();
            return Task.CompletedTask;
        };

        var deadLetterQueue = options.EffectiveDeadLetterQueue;
        if (options.DeclareQueues)
        {
            await channel.QueueDeclareAsync(options.Queue, durable: true, exclusive: false, autoDelete: false, arguments: null, cancellationToken: stoppingToken).ConfigureAwait(false);
            if (deadLetterQueue is not null)
            {
                await channel.QueueDeclareAsync(deadLetterQueue, durable: true, exclusive: false, autoDelete: false, arguments: null, cancellationToken: stoppingToken).ConfigureAwait(false);
            }
        }

        await channel.BasicQosAsync(0, (ushort)options.EffectivePrefetchCount, global: false, stoppingToken).ConfigureAwait(false);
        var endpoint = connection.Endpoint;
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
            ProcessAsync(new Delivery(channel, options.Queue, deadLetterQueue, delivery, endpoint));
        consumer.UnregisteredAsync += (_, _) =>
        {
            // The broker cancelled the consumer (queue deleted, failover): subscribe again.
            lost.TrySetResult();
            return Task.CompletedTask;
        };

        var consumerTag = await channel.BasicConsumeAsync(options.Queue, autoAck: false, consumer, stoppingToken).ConfigureAwait(false);
        RabbitMqLog.Subscribed(Logger, Name, options.Queue, options.EffectivePrefetchCount, options.MaxConcurrency);

        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (stoppingToken.Register(static s => ((TaskCompletionSource)s!).TrySetResult(), stopped))
        {
            await Task.WhenAny(lost.Task, stopped.Task).ConfigureAwait(false);
        }

        if (stoppingToken.IsCancellationRequested && channel.IsOpen)
        {
            // Stop receiving, let in-flight handlers finish and settle, then close.
            try
            {
                await channel.BasicCancelAsync(consumerTag, noWait: false, CancellationToken.None).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // The channel may close concurrently; unacked messages then return to the queue anyway.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                RabbitMqLog.CancelFailed(Logger, ex, Name);
            }

            await WaitForInFlightAsync().ConfigureAwait(false);
            return;
        }

        if (!stoppingToken.IsCancellationRequested)
        {
            RabbitMqLog.SubscriptionLost(Logger, Name, options.Queue);
            throw new InvalidOperationException($"The subscription to '{options.Queue}' was lost.");
        }
    }

    private sealed class Delivery(IChannel channel, string queue, string? deadLetterQueue, BasicDeliverEventArgs delivery, AmqpTcpEndpoint endpoint)
        : ReceivedMessage(RabbitMqSemantics.Incoming(queue, delivery, endpoint), delivery.Body)
    {
        public override ValueTask AckAsync(CancellationToken cancellationToken) =>
            channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken);

        public override async ValueTask DeadLetterAsync(string reason, CancellationToken cancellationToken)
        {
            if (deadLetterQueue is null)
            {
                await channel.BasicRejectAsync(delivery.DeliveryTag, requeue: false, cancellationToken).ConfigureAwait(false);
                return;
            }

            // Publish a copy (original properties and headers, so the trace context stays intact) and wait for the
            // broker's confirm before acking the original: at-least-once, never lost.
            var properties = new BasicProperties(delivery.BasicProperties);
            var headers = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (delivery.BasicProperties.Headers is { } original)
            {
                foreach (var (key, value) in original)
                {
                    headers[key] = value;
                }
            }

            headers["x-first-death-queue"] = Encoding.UTF8.GetBytes(queue);
            headers["x-first-death-reason"] = Encoding.UTF8.GetBytes(reason);
            properties.Headers = headers;
            await channel.BasicPublishAsync(string.Empty, deadLetterQueue, mandatory: false, properties, delivery.Body, cancellationToken).ConfigureAwait(false);
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken).ConfigureAwait(false);
        }

        public override ValueTask RequeueAsync(CancellationToken cancellationToken) =>
            channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, cancellationToken);
    }
}

/// <summary>The RabbitMQ worker's log messages (source-generated).</summary>
internal static partial class RabbitMqLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Consumer worker '{Worker}' subscribed to '{Queue}' (prefetch {Prefetch}, concurrency {Concurrency}).")]
    public static partial void Subscribed(ILogger logger, string worker, string queue, int prefetch, int concurrency);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Consumer worker '{Worker}': connecting or subscribing failed; retrying in {DelaySeconds} s.")]
    public static partial void ConnectFailed(ILogger logger, Exception exception, string worker, double delaySeconds);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Consumer worker '{Worker}': the subscription to '{Queue}' was lost (connection, channel or consumer closed); resubscribing.")]
    public static partial void SubscriptionLost(ILogger logger, string worker, string queue);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "Consumer worker '{Worker}': cancelling the consumer failed.")]
    public static partial void CancelFailed(ILogger logger, Exception exception, string worker);
}

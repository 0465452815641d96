using System.Text;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Messaging.Transports.RabbitMq;

/// <summary>
/// A <see cref="ConsumerWorker{TMessage}"/> consuming a RabbitMQ queue on a channel of its own over the application's
/// shared connection: manual acks after the handler, prefetch (QoS) and dispatch concurrency from options, classic or
/// quorum queues, dead-lettering through the broker's dead-letter exchange (or by publishing a copy), and a new
/// subscription whenever the channel or consumer is lost. Inherit
/// it, take a <see cref="RabbitMqWorkerContext"/> in the constructor and pass it on, override <c>HandleAsync</c>, and
/// register the worker with <c>AddRabbitMqConsumerWorker</c>.
/// </summary>
/// <remarks>
/// The worker owns its subscription rather than relying on the client's topology recovery (which can silently lose a
/// consumer): any shutdown of its channel or of the connection, or a broker-side cancel of the consumer, makes it
/// close its channel, wait for the connection to be open again, and declare and subscribe on a new channel, with
/// bounded back-off. Messages in flight when the channel is lost cannot be acknowledged; the broker redelivers them
/// (flagged redelivered), so handlers should be idempotent. On a quorum queue the broker counts those deliveries
/// (<c>x-delivery-count</c>) and the attempt number continues from that count.
/// </remarks>
/// <typeparam name="TMessage">The body type.</typeparam>
public abstract class RabbitMqConsumerWorker<TMessage> : ConsumerWorker<TMessage>, IRabbitMqConsumerWorker
{
    private readonly RabbitMqConnectionProvider _connections;

    /// <summary>Creates the worker.</summary>
    /// <param name="context">The worker's name, options, connection and services, supplied by its registration.</param>
    protected RabbitMqConsumerWorker(RabbitMqWorkerContext context)
        : base(context ?? throw new ArgumentNullException(nameof(context)))
    {
        Options = context.Options;
        _connections = context.Connections;
    }

    /// <summary>Gets the worker's options.</summary>
    protected new RabbitMqConsumerOptions Options { get; }

    /// <inheritdoc />
    private protected override async Task ConsumeAsync(CancellationToken stoppingToken)
    {
        var delay = RabbitMqRecovery.FirstDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ConsumeOnceAsync(stoppingToken).ConfigureAwait(false);
                delay = RabbitMqRecovery.FirstDelay;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // Any failure to connect or subscribe is retried with back-off until the host stops.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                ReportNotSubscribed($"Not subscribed to '{Options.Queue}': {ex.Message} Retrying in {delay.TotalSeconds:0.###} s.", ex);
                RabbitMqLog.ConnectFailed(Logger, ex, Name, delay.TotalSeconds);
                try
                {
                    await Task.Delay(delay, TimeProvider, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                delay = RabbitMqRecovery.NextDelay(delay, Options.MaxReconnectDelay);
            }
        }
    }

    private async Task ConsumeOnceAsync(CancellationToken stoppingToken)
    {
        var options = Options;
        var connection = await _connections.GetAsync(stoppingToken).ConfigureAwait(false);
        if (!connection.IsOpen)
        {
            throw new InvalidOperationException("The connection is closed; waiting for it to recover.");
        }

        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task OnShutdown(object? sender, ShutdownEventArgs args)
        {
            lost.TrySetResult();
            return Task.CompletedTask;
        }

        connection.ConnectionShutdownAsync += OnShutdown;
        try
        {
            var channelOptions = new CreateChannelOptions(
                publisherConfirmationsEnabled: true,
                publisherConfirmationTrackingEnabled: true,
                consumerDispatchConcurrency: (ushort)options.MaxConcurrency);
            var channel = await connection.CreateChannelAsync(channelOptions, stoppingToken).ConfigureAwait(false);
            await using var disposeChannel = channel.ConfigureAwait(false);
            channel.ChannelShutdownAsync += OnShutdown;

            if (options.DeclareQueues)
            {
                var atLeastOnce = RabbitMqTopology.SupportsAtLeastOnceDeadLettering(connection.ServerProperties);
                await RabbitMqTopology.DeclareAsync(channel, options, atLeastOnce, stoppingToken).ConfigureAwait(false);
            }

            // Broker mode rejects and lets the queue's dead-letter exchange route; publish mode copies to the queue.
            var deadLetterQueue = options.EffectiveDeadLettering == RabbitMqDeadLetterMode.Publish ? options.EffectiveDeadLetterQueue : null;
            await channel.BasicQosAsync(0, (ushort)options.EffectivePrefetchCount, global: false, stoppingToken).ConfigureAwait(false);
            var subscription = new RabbitMqSubscription(channel, options.Queue, deadLetterQueue, connection.Endpoint);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += (_, delivery) => ProcessAsync(new Delivery(subscription, delivery));
            consumer.UnregisteredAsync += (_, _) =>
            {
                // The broker cancelled the consumer (queue deleted, failover): subscribe again.
                lost.TrySetResult();
                return Task.CompletedTask;
            };

            var consumerTag = await channel.BasicConsumeAsync(options.Queue, autoAck: false, consumer, stoppingToken).ConfigureAwait(false);
            ReportSubscribed();
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
                await RabbitMqRecovery.CloseQuietlyAsync(channel).ConfigureAwait(false);
                return;
            }

            if (!stoppingToken.IsCancellationRequested)
            {
                ReportNotSubscribed($"The subscription to '{options.Queue}' was lost (connection, channel or consumer closed); subscribing again.");
                RabbitMqLog.SubscriptionLost(Logger, Name, options.Queue);
                await RabbitMqRecovery.CloseQuietlyAsync(channel).ConfigureAwait(false);
                throw new InvalidOperationException($"The subscription to '{options.Queue}' was lost.");
            }
        }
        finally
        {
            connection.ConnectionShutdownAsync -= OnShutdown;
        }
    }

    private sealed class Delivery(RabbitMqSubscription subscription, BasicDeliverEventArgs args)
        : RabbitMqReceivedMessage(subscription, args)
    {
        public override ValueTask AckAsync(CancellationToken cancellationToken) =>
            Subscription.Channel.BasicAckAsync(Args.DeliveryTag, multiple: false, cancellationToken);

        public override async ValueTask DeadLetterAsync(string reason, CancellationToken cancellationToken)
        {
            var channel = Subscription.Channel;
            if (Subscription.DeadLetterQueue is not { } deadLetterQueue)
            {
                await channel.BasicRejectAsync(Args.DeliveryTag, requeue: false, cancellationToken).ConfigureAwait(false);
                return;
            }

            // Publish a copy (original properties and headers, so the trace context stays intact) and wait for the
            // broker's confirm before acking the original: at-least-once, never lost.
            var properties = new BasicProperties(Args.BasicProperties);
            var headers = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (Args.BasicProperties.Headers is { } original)
            {
                foreach (var (key, value) in original)
                {
                    // The source queue's delivery count is not the copy's: a worker on the dead-letter queue starts at 1.
                    if (key != "x-delivery-count")
                    {
                        headers[key] = value;
                    }
                }
            }

            headers["x-first-death-queue"] = Encoding.UTF8.GetBytes(Subscription.Queue);
            headers["x-first-death-reason"] = Encoding.UTF8.GetBytes(reason);
            properties.Headers = headers;
            await channel.BasicPublishAsync(string.Empty, deadLetterQueue, mandatory: false, properties, Args.Body, cancellationToken).ConfigureAwait(false);
            await channel.BasicAckAsync(Args.DeliveryTag, multiple: false, cancellationToken).ConfigureAwait(false);
        }

        public override ValueTask RequeueAsync(CancellationToken cancellationToken) =>
            Subscription.Channel.BasicNackAsync(Args.DeliveryTag, multiple: false, requeue: true, cancellationToken);
    }
}

/// <summary>The RabbitMQ worker's log messages (source-generated).</summary>
internal static partial class RabbitMqLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Consumer worker '{Worker}' subscribed to '{Queue}' (prefetch {Prefetch}, concurrency {Concurrency}).")]
    public static partial void Subscribed(ILogger logger, string worker, string queue, int prefetch, int concurrency);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Consumer worker '{Worker}': subscribing failed; retrying in {DelaySeconds} s.")]
    public static partial void ConnectFailed(ILogger logger, Exception exception, string worker, double delaySeconds);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Consumer worker '{Worker}': the subscription to '{Queue}' was lost (connection, channel or consumer closed); resubscribing.")]
    public static partial void SubscriptionLost(ILogger logger, string worker, string queue);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "Consumer worker '{Worker}': cancelling the consumer failed.")]
    public static partial void CancelFailed(ILogger logger, Exception exception, string worker);
}

/// <summary>
/// Marks the workers <c>AddRabbitMqConsumerWorker</c> accepts: those inheriting <see cref="RabbitMqConsumerWorker{TMessage}"/>.
/// </summary>
public interface IRabbitMqConsumerWorker
{
    /// <summary>Gets the worker's name.</summary>
    string Name { get; }
}

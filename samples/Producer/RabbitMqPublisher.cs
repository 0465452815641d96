using System.Diagnostics;
using System.Net.Sockets;
using Messaging.Transports.RabbitMq;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Messaging.Samples.Producer;

/// <summary>
/// A confirmed, persistent publisher that survives connection loss: the connection recovers automatically, and a
/// publish that was not confirmed is retried — same message, same message id — once the connection is open again.
/// It gives up on a message after <see cref="GiveUpAfter"/>.
/// </summary>
internal sealed partial class RabbitMqPublisher : IAsyncDisposable
{
    /// <summary>How long a message (or the first connection) may take before the producer gives up.</summary>
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan ChannelGrace = TimeSpan.FromSeconds(3);

    private readonly IConnection _connection;
    private readonly string _queue;
    private readonly MessagingInstrumentation _instrumentation;
    private readonly ILogger _logger;
    private IChannel _channel;

    private RabbitMqPublisher(IConnection connection, IChannel channel, string queue, MessagingInstrumentation instrumentation, ILogger logger)
    {
        _connection = connection;
        _channel = channel;
        _queue = queue;
        _instrumentation = instrumentation;
        _logger = logger;
    }

    /// <summary>Connects (retrying until <see cref="GiveUpAfter"/>), opens a confirming channel and declares the queue.</summary>
    public static async Task<RabbitMqPublisher> ConnectAsync(Uri uri, string queue, MessagingInstrumentation instrumentation, ILogger logger, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory
        {
            Uri = uri,
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            NetworkRecoveryInterval = TimeSpan.FromSeconds(1),
            ClientProvidedName = "messaging-samples-producer",
        };

        var broker = Describe(uri);
        var started = Stopwatch.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var connection = await factory.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    var channel = await OpenChannelAsync(connection, queue, cancellationToken).ConfigureAwait(false);
                    Connected(logger, broker, queue);
                    return new RabbitMqPublisher(connection, channel, queue, instrumentation, logger);
                }
                catch
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
            }
            catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                if (Stopwatch.GetElapsedTime(started) >= GiveUpAfter)
                {
                    throw new TimeoutException(
                        $"could not connect to RabbitMQ at {broker} within {GiveUpAfter.TotalSeconds:0} s ({attempt} attempts): {ex.Message}", ex);
                }

                ConnectFailed(logger, broker, attempt, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Publishes one order with the library's helper and returns the headers as sent.</summary>
    public async Task<IEnumerable<KeyValuePair<string, string?>>> PublishAsync(Order order, string messageId, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var serializer = JsonMessageSerializer.Default;
        var body = serializer.Serialize(order);
        Exception? lastError = null;
        for (var attempt = 1; ; attempt++)
        {
            if (lastError is not null)
            {
                await WaitUntilOpenAsync(messageId, started, lastError, cancellationToken).ConfigureAwait(false);
            }

            // Fresh properties per attempt; the same message id, so consumers can de-duplicate a message whose
            // first attempt reached the queue although its confirm was lost.
            var properties = new BasicProperties
            {
                Persistent = true,
                MessageId = messageId,
                ContentType = serializer.ContentType,
                Timestamp = new AmqpTimestamp(DateTimeOffset.UtcNow.ToUnixTimeSeconds()),
            };
            try
            {
                // Starts the PRODUCER span, injects trace context and baggage, and (with confirms) completes when
                // the broker confirmed the message; mandatory: an unroutable message comes back as an error.
                await _channel.PublishWithContextAsync(string.Empty, _queue, body, properties, mandatory: true, _instrumentation, cancellationToken).ConfigureAwait(false);
                if (attempt > 1)
                {
                    Republished(_logger, messageId, attempt);
                }

                return (properties.Headers ?? new Dictionary<string, object?>())
                    .Select(h => new KeyValuePair<string, string?>(h.Key, RabbitMqHeaders.ToText(h.Value)))
                    .ToList();
            }
            catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                lastError = ex;
                if (Stopwatch.GetElapsedTime(started) >= GiveUpAfter)
                {
                    throw GiveUp(messageId, attempt, ex);
                }

                PublishFailed(_logger, messageId, attempt, ex.GetType().Name, ex.Message);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _channel.CloseAsync().ConfigureAwait(false);
            await _connection.CloseAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            // Closing a connection that is already gone.
        }

        await _channel.DisposeAsync().ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task<IChannel> OpenChannelAsync(IConnection connection, string queue, CancellationToken cancellationToken)
    {
        var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken).ConfigureAwait(false);

        // Durable, no arguments: exactly what the consumer worker declares, so either side may start first.
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: null, cancellationToken: cancellationToken).ConfigureAwait(false);
        return channel;
    }

    private static bool IsTransient(Exception ex) =>
        ex is RabbitMQClientException or OperationInterruptedException or IOException or SocketException or TimeoutException or ObjectDisposedException;

    private static string Describe(Uri uri) => $"{uri.Scheme}://{uri.Host}:{(uri.Port > 0 ? uri.Port : 5672)}{uri.AbsolutePath}";

    private static TimeoutException GiveUp(string messageId, int attempts, Exception lastError) =>
        new($"gave up on message {messageId} after {GiveUpAfter.TotalSeconds:0} s and {attempts} attempt(s): it was not confirmed by the broker ({lastError.GetType().Name}: {lastError.Message}).", lastError);

    /// <summary>Waits, bounded, until the recovered connection and channel are open; reopens a channel the broker closed.</summary>
    private async Task WaitUntilOpenAsync(string messageId, long started, Exception lastError, CancellationToken cancellationToken)
    {
        long? channelClosedSince = null;
        var waited = false;
        while (true)
        {
            if (_connection.IsOpen && _channel.IsOpen)
            {
                if (!waited)
                {
                    // Open all along (a nack or a returned message): do not spin.
                    await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
                }

                return;
            }

            if (Stopwatch.GetElapsedTime(started) >= GiveUpAfter)
            {
                throw new TimeoutException(
                    $"gave up on message {messageId} after {GiveUpAfter.TotalSeconds:0} s: the connection to RabbitMQ did not recover ({lastError.GetType().Name}: {lastError.Message}).",
                    lastError);
            }

            if (_connection.IsOpen)
            {
                // The connection is back but this channel is not: automatic recovery does not reopen a channel the
                // broker closed (a channel error). Give recovery a moment, then open a new one.
                channelClosedSince ??= Stopwatch.GetTimestamp();
                if (Stopwatch.GetElapsedTime(channelClosedSince.Value) >= ChannelGrace)
                {
                    try
                    {
                        var old = _channel;
                        _channel = await OpenChannelAsync(_connection, _queue, cancellationToken).ConfigureAwait(false);
                        await old.DisposeAsync().ConfigureAwait(false);
                        ChannelReopened(_logger);
                    }
                    catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested)
                    {
                        channelClosedSince = Stopwatch.GetTimestamp();
                    }
                }
            }
            else
            {
                channelClosedSince = null;
            }

            waited = true;
            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to {Broker}; publishing to queue '{Queue}' with publisher confirms.")]
    private static partial void Connected(ILogger logger, string broker, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connecting to {Broker} failed (attempt {Attempt}): {Reason}. Retrying.")]
    private static partial void ConnectFailed(ILogger logger, string broker, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing message {MessageId} was not confirmed (attempt {Attempt}, {ErrorType}: {Reason}); retrying once the connection is open.")]
    private static partial void PublishFailed(ILogger logger, string messageId, int attempt, string errorType, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId} confirmed on attempt {Attempt}.")]
    private static partial void Republished(ILogger logger, string messageId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The channel was closed by the broker; opened a new one.")]
    private static partial void ChannelReopened(ILogger logger);
}

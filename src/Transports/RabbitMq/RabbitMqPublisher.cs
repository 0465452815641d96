using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Messaging.Transports.RabbitMq;

/// <summary>
/// The <see cref="IRabbitMqPublisher"/>: a pool of confirming channels on the application's connection. A publish that
/// fails for a transient reason (connection or channel lost, broker nack, no confirm) is sent again — same body,
/// properties, message id and trace context, under the same PRODUCER span — on a fresh channel once the connection
/// is open, with back-off, until the broker confirms it or the publish timeout runs out.
/// </summary>
internal sealed partial class RabbitMqPublisher : IRabbitMqPublisher, IAsyncDisposable
{
    private readonly RabbitMqConnectionProvider _connections;
    private readonly MessagingInstrumentation _instrumentation;
    private readonly RabbitMqPublisherOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentQueue<IChannel> _idle = new();
    private volatile bool _disposed;

    public RabbitMqPublisher(
        RabbitMqConnectionProvider connections,
        MessagingInstrumentation instrumentation,
        IOptions<RabbitMqPublisherOptions> options,
        ILogger<RabbitMqPublisher> logger,
        TimeProvider? timeProvider = null)
    {
        _connections = connections;
        _instrumentation = instrumentation;
        _options = options.Value;
        _logger = logger;
        _time = timeProvider ?? TimeProvider.System;
        _slots = new SemaphoreSlim(_options.MaxChannels, _options.MaxChannels);
    }

    public Task<PublishResult> PublishMessageAsync<T>(string exchange, string routingKey, T message, BasicProperties? properties = null, bool mandatory = false, CancellationToken cancellationToken = default)
    {
        properties ??= new BasicProperties { Persistent = true };
        properties.ContentType ??= _options.Serializer.ContentType;
        return PublishAsync(exchange, routingKey, _options.Serializer.Serialize(message), properties, mandatory, cancellationToken);
    }

    public async Task<PublishResult> PublishAsync(string exchange, string routingKey, ReadOnlyMemory<byte> body, BasicProperties? properties = null, bool mandatory = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(routingKey);
        ObjectDisposedException.ThrowIf(_disposed, this);
        properties ??= new BasicProperties { Persistent = true };
        var messageId = properties.MessageId ??= Guid.NewGuid().ToString("N");
        var headers = properties.Headers ?? new Dictionary<string, object?>(StringComparer.Ordinal);
        using var scope = _instrumentation.StartProducer(RabbitMqSemantics.Outgoing(exchange, routingKey, properties, body.Length), RabbitMqHeaders.CreateCarrier(headers));
        var context = scope.Context;
        var started = _time.GetTimestamp();
        var delay = RabbitMqRecovery.FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await PublishOnceAsync(exchange, routingKey, body, properties, headers, mandatory, cancellationToken).ConfigureAwait(false);
                if (attempt > 1)
                {
                    Confirmed(_logger, messageId, attempt);
                }

                return new PublishResult(messageId, context, attempt);
            }
            catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested && !_disposed)
            {
                var elapsed = _time.GetElapsedTime(started);
                if (elapsed + delay >= _options.PublishTimeout)
                {
                    var timeout = new TimeoutException(
                        $"Message {messageId} to '{RabbitMqSemantics.Destination(exchange, routingKey)}' was not confirmed by the broker within {_options.PublishTimeout.TotalSeconds:0.###} s ({attempt} attempt(s); last error {ex.GetType().Name}: {ex.Message}).",
                        ex);
                    scope.RecordException(timeout);
                    throw timeout;
                }

                scope.Activity?.AddEvent(new ActivityEvent("messaging.publish.retry", tags: new ActivityTagsCollection
                {
                    ["messaging.publish.attempt"] = attempt,
                    [SemanticConventions.ErrorType] = ex.GetType().FullName,
                }));
                Retrying(_logger, messageId, attempt, ex.GetType().Name, ex.Message, delay.TotalMilliseconds);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                delay = RabbitMqRecovery.NextDelay(delay, _options.MaxRetryDelay);
            }
            catch (Exception ex)
            {
                scope.RecordException(ex);
                throw;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        while (_idle.TryDequeue(out var channel))
        {
            await DiscardAsync(channel).ConfigureAwait(false);
        }
    }

    private static bool IsTransient(Exception ex) => ex switch
    {
        PublishException publish => !publish.IsReturn,
        RabbitMQClientException or OperationInterruptedException or IOException or SocketException or TimeoutException or ObjectDisposedException => true,
        ConnectionClosedException => true,
        _ => false,
    };

    private static async ValueTask DiscardAsync(IChannel channel)
    {
        await RabbitMqRecovery.CloseQuietlyAsync(channel).ConfigureAwait(false);
        await channel.DisposeAsync().ConfigureAwait(false);
    }

    private async Task PublishOnceAsync(string exchange, string routingKey, ReadOnlyMemory<byte> body, BasicProperties properties, IDictionary<string, object?> headers, bool mandatory, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        IChannel? channel = null;
        try
        {
            channel = await RentAsync(cancellationToken).ConfigureAwait(false);

            // RabbitMQ.Client's own publish span, while something listens to it, writes its context into the headers:
            // guard the context injected above (see the publish helpers).
            properties.Headers = ClientPublisherSource.MayInject ? new ProtectedHeaders(headers, _instrumentation.PropagationHeaders) : headers;
            await channel.BasicPublishAsync(exchange, routingKey, mandatory, properties, body, cancellationToken).ConfigureAwait(false);
            _idle.Enqueue(channel);
            channel = null;
        }
        finally
        {
            properties.Headers = headers;
            if (channel is not null)
            {
                await DiscardAsync(channel).ConfigureAwait(false);
            }

            _slots.Release();
        }
    }

    private async ValueTask<IChannel> RentAsync(CancellationToken cancellationToken)
    {
        while (_idle.TryDequeue(out var idle))
        {
            if (idle.IsOpen)
            {
                return idle;
            }

            await DiscardAsync(idle).ConfigureAwait(false);
        }

        var connection = await _connections.GetAsync(cancellationToken).ConfigureAwait(false);
        if (!connection.IsOpen)
        {
            throw new ConnectionClosedException();
        }

        var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var queue in _options.DeclareQueues)
            {
                await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: null, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await DiscardAsync(channel).ConfigureAwait(false);
            throw;
        }

        return channel;
    }

    [LoggerMessage(EventId = 210, Level = LogLevel.Warning, Message = "Message {MessageId} was not confirmed (attempt {Attempt}, {ErrorType}: {Reason}); sending it again in {DelayMs} ms.")]
    private static partial void Retrying(ILogger logger, string messageId, int attempt, string errorType, string reason, double delayMs);

    [LoggerMessage(EventId = 211, Level = LogLevel.Information, Message = "Message {MessageId} confirmed on attempt {Attempt}.")]
    private static partial void Confirmed(ILogger logger, string messageId, int attempt);

    /// <summary>The connection is closed at this moment (it may be recovering).</summary>
    private sealed class ConnectionClosedException : Exception
    {
        public ConnectionClosedException()
            : base("The connection is closed; waiting for it to recover.")
        {
        }
    }
}

using System.Diagnostics;
using Messaging.Benchmarks.Common;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Messaging.Benchmarks.EndToEnd;

/// <summary>
/// The raw mode's consumer (also otel's and spans', instrumented by hand): RabbitMQ.Client only — its own connection, a channel with the same dispatch concurrency
/// and prefetch as the worker's, an AsyncEventingBasicConsumer with manual ack after the (trivial) handler.
/// </summary>
internal sealed class RawConsumer : IAsyncDisposable
{
    private readonly IConnection _connection;
    private readonly IChannel _channel;
    private string? _consumerTag;

    private RawConsumer(IConnection connection, IChannel channel)
    {
        _connection = connection;
        _channel = channel;
    }

    public static async Task<RawConsumer> StartAsync(Uri uri, string queue, int concurrency, int prefetch, TrialState state, Mode mode)
    {
        var factory = new ConnectionFactory
        {
            Uri = uri,
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
            ClientProvidedName = "bench-raw-consumer",
        };
        var connection = await factory.CreateConnectionAsync().ConfigureAwait(false);
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true,
            publisherConfirmationTrackingEnabled: true,
            consumerDispatchConcurrency: (ushort)concurrency)).ConfigureAwait(false);
        var raw = new RawConsumer(connection, channel);
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: null).ConfigureAwait(false);
        await channel.BasicQosAsync(0, (ushort)prefetch, global: false).ConfigureAwait(false);
        var consumer = new AsyncEventingBasicConsumer(channel);
        if (mode == Mode.Otel)
        {
            var processName = "process " + queue;
            var endpoint = connection.Endpoint;
            consumer.ReceivedAsync += (_, delivery) => HandTracing.ConsumeAsync(delivery, queue, processName, endpoint, () => HandleAsync(channel, delivery, state));
        }
        else if (mode == Mode.Spans)
        {
            var processName = "process " + queue;
            consumer.ReceivedAsync += (_, delivery) => HandTracing.ConsumeInBareSpanAsync(processName, () => HandleAsync(channel, delivery, state));
        }
        else if (mode == Mode.Client)
        {
            consumer.ReceivedAsync += (_, delivery) => HandleUnderClientSpanAsync(channel, delivery, state);
        }
        else
        {
            consumer.ReceivedAsync += (_, delivery) => HandleAsync(channel, delivery, state);
        }

        raw._consumerTag = await channel.BasicConsumeAsync(queue, autoAck: false, consumer).ConfigureAwait(false);
        return raw;
    }

    private static async Task HandleAsync(IChannel channel, BasicDeliverEventArgs delivery, TrialState state)
    {
        // The same (trivial) work as the worker's handler: "deserialise" the body and record the message.
        _ = RawBytesSerializer.Instance.Deserialize<ReadOnlyMemory<byte>>(delivery.Body);
        state.Consumed(delivery.BasicProperties.MessageId, Activity.Current?.TraceId ?? default);
        await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false).ConfigureAwait(false);
    }

    /// <summary>
    /// Client mode: the same work as <see cref="HandleAsync"/>, recording the trace RabbitMQ.Client's <c>deliver</c> span
    /// continues and the context the message arrived with (what RabbitMQ.Client's publisher span injected).
    /// </summary>
    private static async Task HandleUnderClientSpanAsync(IChannel channel, BasicDeliverEventArgs delivery, TrialState state)
    {
        _ = RawBytesSerializer.Instance.Deserialize<ReadOnlyMemory<byte>>(delivery.Body);
        var properties = delivery.BasicProperties;
        state.PublishedAsReceived(properties.MessageId, properties.Headers is { } headers && headers.TryGetValue("traceparent", out var value) ? value : null);
        state.Consumed(properties.MessageId, ClientInstrumentation.ContinuedTrace(Activity.Current));
        await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_consumerTag is not null && _channel.IsOpen)
            {
                await _channel.BasicCancelAsync(_consumerTag, noWait: false).ConfigureAwait(false);
            }

            await _channel.CloseAsync().ConfigureAwait(false);
            await _connection.CloseAsync().ConfigureAwait(false);
        }
        finally
        {
            _channel.Dispose();
            _connection.Dispose();
        }
    }
}

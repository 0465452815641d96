using RabbitMQ.Client;

namespace Messaging.Benchmarks.EndToEnd;

/// <summary>
/// The publisher, identical in every mode but for the one call that sends: up to <c>inFlight</c> publishes await
/// their broker confirm at once (a <see cref="SemaphoreSlim"/> window), on one channel with confirm tracking and no
/// client-side rate limiter. Raw calls <c>BasicPublishAsync</c> (otel and spans: the same, instrumented by hand; client: the same, instrumented by
/// RabbitMQ.Client itself; masstransit sends through the bus instead); traced and quiet call the library's
/// <c>PublishWithContextAsync</c>. Every message gets fresh properties with its id (its index) and transient delivery.
/// </summary>
internal sealed class Publisher(IChannel channel, Mode mode, string queue, string[] ids, ReadOnlyMemory<byte> body, int inFlight, TrialState state, MassTransitPeer? massTransit = null) : IDisposable
{
    private readonly SemaphoreSlim _window = new(inFlight, inFlight);
    private readonly string _sendName = "send " + queue;

    public void Dispose() => _window.Dispose();

    public async Task RunAsync(int messages)
    {
        for (var i = 0; i < messages; i++)
        {
            await _window.WaitAsync().ConfigureAwait(false);
            _ = PublishOneAsync(i);
        }

        // Drain: every slot back means every publish was confirmed (or failed).
        for (var i = 0; i < inFlight; i++)
        {
            await _window.WaitAsync().ConfigureAwait(false);
        }

        _window.Release(inFlight);
    }

    private async Task PublishOneAsync(int index)
    {
        try
        {
            var properties = new BasicProperties { MessageId = ids[index], DeliveryMode = DeliveryModes.Transient };
            if (mode == Mode.Raw)
            {
                await channel.BasicPublishAsync(string.Empty, queue, mandatory: false, properties, body).ConfigureAwait(false);
            }
            else if (mode == Mode.Spans)
            {
                await HandTracing.PublishInBareSpanAsync(channel, queue, _sendName, properties, body).ConfigureAwait(false);
            }
            else if (mode == Mode.Client)
            {
                // As raw; RabbitMQ.Client's injector (ClientInstrumentation) records the producer's trace.
                await channel.BasicPublishAsync(string.Empty, queue, mandatory: false, properties, body).ConfigureAwait(false);
            }
            else if (mode == Mode.MassTransit)
            {
                state.Published(index, await massTransit!.SendAsync(index, body).ConfigureAwait(false));
            }
            else if (mode == Mode.Otel)
            {
                state.Published(index, await HandTracing.PublishAsync(channel, queue, _sendName, properties, body).ConfigureAwait(false));
            }
            else
            {
                await channel.PublishWithContextAsync(string.Empty, queue, body, properties, mandatory: false, instrumentation: null).ConfigureAwait(false);
                if (mode == Mode.Traced)
                {
                    state.Published(index, properties.Headers is { } headers && headers.TryGetValue("traceparent", out var value) ? value as string : null);
                }
            }
        }
        catch (Exception ex)
        {
            state.PublishFailed(ex);
        }
        finally
        {
            _window.Release();
        }
    }
}

using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OpenTelemetry;

namespace Messaging.Samples;

/// <summary>Publishes one order the way the samples do: under its own new trace, with the run's baggage.</summary>
/// <param name="baggage">The <c>--baggage</c> members, made <see cref="Baggage.Current"/> while publishing.</param>
/// <param name="json">The <c>--json</c> output.</param>
/// <param name="logger">The logger.</param>
internal sealed partial class OrderPublisher(IReadOnlyDictionary<string, string> baggage, JsonLines json, ILogger logger)
{
    /// <summary>Publishes with context and returns the headers as sent (as text).</summary>
    public delegate Task<IEnumerable<KeyValuePair<string, string?>>> Publish(Order order, string messageId, CancellationToken cancellationToken);

    /// <summary>
    /// Starts a new root span <c>produce order</c>, makes the baggage current, calls <paramref name="publish"/> (the
    /// library's publish helper starts the PRODUCER span under it and injects the context), then prints the result.
    /// </summary>
    public async Task PublishAsync(int number, Publish publish, CancellationToken cancellationToken)
    {
        var order = Order.Create(number);
        var messageId = Guid.NewGuid().ToString("N");

        // Each message starts its own trace: nothing ambient may become its parent. Its baggage is current for the
        // whole trace (the root span included) and cleared afterwards.
        Activity.Current = null;
        Baggage.Current = Baggage.Create(baggage.ToDictionary(b => b.Key, b => b.Value, StringComparer.Ordinal));
        try
        {
            using var root = SampleTelemetry.Source.StartActivity("produce order", ActivityKind.Internal);
            root?.SetTag("order.id", order.OrderId);
            var headers = await publish(order, messageId, cancellationToken).ConfigureAwait(false);
            var producerSpan = ProducerSpanCapture.Get(root);
            if (logger.IsEnabled(LogLevel.Information))
            {
                var traceId = producerSpan?.TraceId.ToHexString() ?? "-";
                Published(logger, order.OrderId, messageId, traceId);
            }

            json.WriteProducer(messageId, producerSpan, headers);
        }
        finally
        {
            Baggage.Current = default;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Published {OrderId} as message {MessageId} in trace {TraceId}.")]
    private static partial void Published(ILogger logger, string orderId, string messageId, string traceId);
}

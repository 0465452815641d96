using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;

namespace Messaging.Samples.Consumer;

/// <summary>Counts handled messages against <c>--count</c>.</summary>
/// <param name="limit">How many to handle before exiting, or <see langword="null"/> to run until stopped.</param>
internal sealed class ConsumerRun(int? limit)
{
    private readonly ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);
    private int _received;

    public int? Limit { get; } = limit;

    /// <summary>
    /// Returns this message's number (1, 2, …), or 0 for a message id handled before: delivery is at least once (a
    /// redelivery after a node failure, a publish retried after a lost confirm), and a duplicate counts once.
    /// </summary>
    public int Next(string? messageId) =>
        messageId is not null && !_seen.TryAdd(messageId, 0) ? 0 : Interlocked.Increment(ref _received);
}

/// <summary>
/// What both workers do with an order. Inside the handler, <see cref="Activity.Current"/> is this message's CONSUMER
/// span and <see cref="Baggage.Current"/> this message's baggage: the library set them up.
/// </summary>
internal sealed partial class OrderHandler(ConsumerRun run, JsonLines json, IHostApplicationLifetime lifetime, ILogger<OrderHandler> logger)
{
    public async Task HandleAsync(MessageContext<Order> message, CancellationToken cancellationToken)
    {
        var number = run.Next(message.MessageId);
        if (number > run.Limit)
        {
            // Delivered after --count was reached, while the worker stops: leave it unhandled. When the shutdown
            // timeout cancels this token the worker returns the message to the queue.
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        var span = Activity.Current;
        var baggage = Baggage.Current;
        if (logger.IsEnabled(LogLevel.Information))
        {
            var traceId = span?.TraceId.ToHexString() ?? "-";
            var members = string.Join(", ", baggage.GetBaggage().Select(b => $"{b.Key}={b.Value}"));
            Handled(logger, message.Body.OrderId, message.MessageId ?? "-", traceId, members);
        }

        json.WriteConsumer(message.MessageId, span, baggage, message.Headers);

        if (number == run.Limit)
        {
            AllHandled(logger, number);
            lifetime.StopApplication();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Handled {OrderId} (message {MessageId}) in trace {TraceId} with baggage [{Baggage}].")]
    private static partial void Handled(ILogger logger, string orderId, string messageId, string traceId, string baggage);

    [LoggerMessage(Level = LogLevel.Information, Message = "Handled {Count} message(s) (--count reached); stopping.")]
    private static partial void AllHandled(ILogger logger, int count);
}

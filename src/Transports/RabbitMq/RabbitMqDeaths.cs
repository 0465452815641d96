using System.Collections;
using System.Globalization;
using System.Text;
using RabbitMQ.Client;

namespace Messaging.Transports.RabbitMq;

/// <summary>
/// One entry of the <c>x-death</c> header the broker adds when it dead-letters a message: one per queue and reason,
/// most recent first.
/// </summary>
/// <param name="Queue">The queue the message was dead-lettered from.</param>
/// <param name="Reason">Why: <c>rejected</c> (the worker gave up on it), <c>delivery_limit</c>, <c>expired</c> or <c>maxlen</c>.</param>
/// <param name="Count">How many times it was dead-lettered from that queue for that reason.</param>
/// <param name="Exchange">The exchange it had been published to (empty for the default exchange).</param>
/// <param name="RoutingKeys">The routing keys it had been published with.</param>
/// <param name="Time">When it was dead-lettered the first time for this entry (second precision), when present.</param>
public sealed record RabbitMqDeath(string Queue, string Reason, long Count, string Exchange, IReadOnlyList<string> RoutingKeys, DateTimeOffset? Time);

/// <summary>
/// Reads the broker's dead-letter history (<c>x-death</c>) of a message, for a handler of a dead-letter queue: where it
/// came from, why and how often. The message's trace context and baggage are its own headers, untouched by the broker.
/// </summary>
public static class RabbitMqDeaths
{
    /// <summary>The header the broker writes.</summary>
    internal const string HeaderName = "x-death";

    /// <summary>Reads the history from a message a <see cref="RabbitMqConsumerWorker{TMessage}"/> received.</summary>
    /// <typeparam name="TMessage">The body type.</typeparam>
    /// <param name="message">The message.</param>
    /// <returns>The entries, most recent first; empty when the message was never dead-lettered by the broker.</returns>
    public static IReadOnlyList<RabbitMqDeath> Read<TMessage>(MessageContext<TMessage> message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Received is RabbitMqReceivedMessage received ? Read(received.Properties.Headers) : [];
    }

    /// <summary>Reads the history from an AMQP header table (for example <see cref="IReadOnlyBasicProperties.Headers"/>).</summary>
    /// <param name="headers">The headers, or <see langword="null"/>.</param>
    /// <returns>The entries, most recent first; empty when there is no readable <c>x-death</c> header. Never throws.</returns>
    public static IReadOnlyList<RabbitMqDeath> Read(IDictionary<string, object?>? headers)
    {
        if (headers is null || !headers.TryGetValue(HeaderName, out var raw) || raw is not IList entries)
        {
            return [];
        }

        var deaths = new List<RabbitMqDeath>(entries.Count);
        foreach (var entry in entries)
        {
            if (entry is IDictionary<string, object?> table)
            {
                deaths.Add(new RabbitMqDeath(
                    Text(table, "queue"),
                    Text(table, "reason"),
                    table.TryGetValue("count", out var count) && count is long or int ? Convert.ToInt64(count, CultureInfo.InvariantCulture) : 0,
                    Text(table, "exchange"),
                    table.TryGetValue("routing-keys", out var keys) && keys is IList list ? [.. list.Cast<object?>().Select(TextOf).OfType<string>()] : [],
                    table.TryGetValue("time", out var time) && time is AmqpTimestamp stamp ? DateTimeOffset.FromUnixTimeSeconds(stamp.UnixTime) : null));
            }
        }

        return deaths;
    }

    private static string Text(IDictionary<string, object?> table, string key) =>
        table.TryGetValue(key, out var value) ? TextOf(value) ?? string.Empty : string.Empty;

    private static string? TextOf(object? value) => value switch
    {
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        string s => s,
        BinaryTableValue binary => Encoding.UTF8.GetString(binary.Bytes),
        _ => null,
    };
}

using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Time.Testing;

namespace Messaging.ServiceBus.TestBroker.Tests;

/// <summary>Clients on a broker, with retries short enough that a broker fault fails a test quickly.</summary>
internal static class TestClients
{
    /// <summary>
    /// The settlements the application made, in order: all but <see cref="SettlementOutcome.Released"/>, with which the
    /// client hands back a message that reached a receive call after it had returned (the broker delivers it again with
    /// its delivery count unchanged). How often that happens depends on timing, so exact lists leave it out.
    /// </summary>
    public static List<SettlementRecord> ApplicationSettlements(IEnumerable<SettlementRecord> records) =>
        [.. records.Where(static s => s.Outcome != SettlementOutcome.Released)];

    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    public static ServiceBusClient Client(ServiceBusTestBroker broker) => new(broker.ConnectionString, new ServiceBusClientOptions
    {
        RetryOptions = new ServiceBusRetryOptions
        {
            MaxRetries = 1,
            Delay = TimeSpan.FromMilliseconds(100),
            TryTimeout = TimeSpan.FromSeconds(15),
        },
    });

    /// <summary>A fake clock that starts at the real time, on a whole millisecond (AMQP timestamps have millisecond precision), so enqueue times and lock expiries look plausible to the client.</summary>
    public static FakeTimeProvider Clock() => new(DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));

    public static Guid LockTokenGuid(this ServiceBusReceivedMessage message) => Guid.Parse(message.LockToken);

    public static ServiceBusMessage Message(string id, string body = "payload") => new(BinaryData.FromString(body)) { MessageId = id };

    /// <summary>Receives until <paramref name="count"/> messages arrived; fails with what arrived when they do not in time.</summary>
    public static async Task<List<ServiceBusReceivedMessage>> ReceiveAsync(ServiceBusReceiver receiver, int count)
    {
        var received = new List<ServiceBusReceivedMessage>();
        var deadline = DateTime.UtcNow + Wait;
        while (received.Count < count && DateTime.UtcNow < deadline)
        {
            var batch = await receiver.ReceiveMessagesAsync(count - received.Count, TimeSpan.FromSeconds(1));
            received.AddRange(batch);
        }

        if (received.Count < count)
        {
            throw new TimeoutException($"Received {received.Count} of {count} messages ({string.Join(", ", received.Select(m => m.MessageId))}) within {Wait}.");
        }

        return received;
    }
}

using System.Collections.Concurrent;
using Messaging.Transports.InMemory;
using Messaging.Transports.ServiceBus;

namespace Messaging.Tests.ServiceBus;

/// <summary>
/// The in-memory broker standing in for a Service Bus queue, with the SDK glue shaped exactly like the README's
/// snippets: <see cref="ServiceBusPropagation.StartSend"/> before the send, and a <see cref="ServiceBusDelivery"/>
/// built from the received message, settled through delegates (complete / abandon / dead-letter → ack / requeue /
/// reject on the in-memory broker).
/// </summary>
/// <remarks>
/// Service Bus keeps application property types (AMQP 1.0 typed values); the in-memory broker models AMQP 0-9-1
/// headers, where strings travel as UTF-8 bytes. So string values cross the stand-in boxed in <see cref="AmqpString"/>
/// and are unboxed on receive: every value arrives with the type it was sent with, as on Service Bus.
/// </remarks>
internal sealed class ServiceBusStandIn
{
    private int _completed;
    private int _abandoned;

    public InMemoryBroker Broker { get; } = new();

    public int Completed => Volatile.Read(ref _completed);

    public int Abandoned => Volatile.Read(ref _abandoned);

    public List<string> DeadLetterReasons { get; } = [];

    /// <summary>The application properties of each received message, by message id (what a handler would copy to forward it).</summary>
    public ConcurrentDictionary<string, IReadOnlyDictionary<string, object>> Received { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The producer side: one line of propagation, then the send. <paramref name="deliverTo"/> names the in-memory
    /// queue standing in for the entity's (one) subscription when <paramref name="entityPath"/> is a topic.
    /// </summary>
    public async Task SendAsync(
        MessagingInstrumentation instrumentation,
        string entityPath,
        ReadOnlyMemory<byte> body,
        IDictionary<string, object> applicationProperties,
        string? messageId = null,
        string? deliverTo = null)
    {
        using var scope = ServiceBusPropagation.StartSend(instrumentation, applicationProperties, entityPath, messageId, bodySize: body.Length);
        await SendRawAsync(deliverTo ?? entityPath, body, applicationProperties, messageId);
    }

    /// <summary>A send with no propagation by this library (an older SDK producer, or another client).</summary>
    public ValueTask SendRawAsync(string queue, ReadOnlyMemory<byte> body, IDictionary<string, object> applicationProperties, string? messageId = null)
    {
        var headers = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in applicationProperties)
        {
            headers[key] = value is string s ? new AmqpString(s) : value;
        }

        return Broker.PublishAsync(queue, body, new InMemoryMessageProperties { MessageId = messageId, Headers = headers });
    }

    /// <summary>The received message's application properties, as the SDK exposes them: read-only, typed.</summary>
    public static IReadOnlyDictionary<string, object> ApplicationProperties(InMemoryDelivery delivery)
    {
        var properties = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (key, value) in delivery.Headers)
        {
            properties[key] = value is AmqpString s ? s.Value : value!;
        }

        return properties;
    }

    /// <summary>The consumer-side glue: what the README's ProcessMessageAsync handler does with ProcessMessageEventArgs.</summary>
    public ServiceBusDelivery ToDelivery(InMemoryDelivery delivery, string entityPath)
    {
        var properties = ApplicationProperties(delivery);
        if (delivery.MessageId is { } id)
        {
            Received[id] = properties;
        }

        return new ServiceBusDelivery(
            ServiceBusMessaging.CreateIncoming(
                properties,
                entityPath,
                delivery.MessageId,
                delivery.DeliveryCount,
                delivery.Timestamp,
                bodySize: delivery.Body.Length),
            delivery.Body,
            complete: _ =>
            {
                Broker.Ack(delivery);
                Interlocked.Increment(ref _completed);
                return Task.CompletedTask;
            },
            abandon: _ =>
            {
                Broker.Reject(delivery, requeue: true);
                Interlocked.Increment(ref _abandoned);
                return Task.CompletedTask;
            },
            deadLetter: (reason, _) =>
            {
                Broker.Reject(delivery, requeue: false, reason);
                lock (DeadLetterReasons)
                {
                    DeadLetterReasons.Add(reason);
                }

                return Task.CompletedTask;
            });
    }

    /// <summary>An AMQP 1.0 string value in transit through the in-memory broker.</summary>
    internal sealed record AmqpString(string Value);
}

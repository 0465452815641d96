using System.Diagnostics;
using Messaging.Testing.Internal;

namespace Messaging.Testing;

/// <summary>
/// A publish the host's engine started (a PRODUCER scope: the <c>IRabbitMqPublisher</c>, the publish helpers, a
/// handler publishing onward): where it went, the context and baggage injected into it, and its PRODUCER span. It is
/// recorded when the send starts; whether the broker took it is what the publish call returned.
/// </summary>
public sealed class PublishedMessage
{
    internal PublishedMessage(in OutgoingMessage message, Activity? span, ActivityContext injected, IReadOnlyDictionary<string, string> baggage)
    {
        System = message.System;
        Destination = message.Destination;
        RoutingKey = message.RoutingKey;
        MessageId = message.MessageId;
        ConversationId = message.ConversationId;
        Span = span;
        ProducerContext = injected;
        Baggage = baggage;
    }

    /// <summary>Gets the <c>messaging.system</c>, for example <c>rabbitmq</c> or <c>inmemory</c>.</summary>
    public string System { get; }

    /// <summary>Gets the <c>messaging.destination.name</c>: the queue or topic, or the RabbitMQ exchange (with the default exchange, the routing key).</summary>
    public string Destination { get; }

    /// <summary>Gets the routing key (RabbitMQ), when there is one.</summary>
    public string? RoutingKey { get; }

    /// <summary>Gets the message id, when the publisher knew it at the start of the send.</summary>
    public string? MessageId { get; }

    /// <summary>Gets the correlation id, when set.</summary>
    public string? ConversationId { get; }

    /// <summary>Gets the PRODUCER span, or <see langword="null"/> when none was recorded. It stops when the send completed.</summary>
    public Activity? Span { get; }

    /// <summary>Gets the trace context injected into the message (the PRODUCER span's, else the current one; invalid when there was none).</summary>
    public ActivityContext ProducerContext { get; }

    /// <summary>Gets the baggage injected into the message, after the outbound policy.</summary>
    public IReadOnlyDictionary<string, string> Baggage { get; }

    /// <summary>Describes the publish in one line.</summary>
    /// <returns>The description.</returns>
    public override string ToString()
    {
        var to = RoutingKey is null || string.Equals(RoutingKey, Destination, StringComparison.Ordinal)
            ? $"'{Destination}'"
            : $"'{Destination}' routing key '{RoutingKey}'";
        return $"message {Describe.Id(MessageId)} to {to} ({System}), context {Describe.Context(ProducerContext)}, baggage {Describe.Baggage(Baggage)}";
    }
}

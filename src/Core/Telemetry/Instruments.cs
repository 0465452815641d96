using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Messaging;

/// <summary>The library's metric instruments, created once on the library's <see cref="MessagingTelemetry.Meter"/>.</summary>
internal static class Instruments
{
    /// <summary><c>messaging.client.sent.messages</c>.</summary>
    public static readonly Counter<long> SentMessages = MessagingTelemetry.Meter.CreateCounter<long>(
        "messaging.client.sent.messages", "{message}", "Number of messages a producer attempted to send.");

    /// <summary><c>messaging.client.consumed.messages</c>.</summary>
    public static readonly Counter<long> ConsumedMessages = MessagingTelemetry.Meter.CreateCounter<long>(
        "messaging.client.consumed.messages", "{message}", "Number of messages delivered to a handler.");

    /// <summary><c>messaging.process.duration</c>.</summary>
    public static readonly Histogram<double> ProcessDuration = MessagingTelemetry.Meter.CreateHistogram<double>(
        "messaging.process.duration", "s", "Duration of processing one message by a handler.");

    /// <summary>Contexts missing or malformed on receive, tagged by <c>reason</c>.</summary>
    public static readonly Counter<long> ContextMissing = MessagingTelemetry.Meter.CreateCounter<long>(
        "messaging.propagation.context.missing", "{message}", "Received messages whose trace context was missing or malformed.");

    /// <summary>Bytes of propagation headers (names and values) injected into one message.</summary>
    public static readonly Histogram<long> HeaderSize = MessagingTelemetry.Meter.CreateHistogram<long>(
        "messaging.propagation.header.size", "By", "Size of the propagation headers (traceparent, tracestate, baggage, …; names and values, UTF-8) injected into one message.");

    /// <summary>Baggage members dropped, tagged by <c>reason</c> and <c>direction</c>.</summary>
    public static readonly Counter<long> BaggageDropped = MessagingTelemetry.Meter.CreateCounter<long>(
        "messaging.propagation.baggage.dropped", "{member}", "Baggage members dropped by the baggage policy or as malformed.");

    /// <summary>The tags every per-message measurement carries.</summary>
    public static TagList MessageTags(SpanShape shape, string? errorType)
    {
        var tags = new TagList
        {
            { SemanticConventions.MessagingSystem, shape.System },
            { SemanticConventions.DestinationName, shape.Destination },
            { SemanticConventions.OperationName, shape.OperationName },
        };
        if (errorType is not null)
        {
            tags.Add(SemanticConventions.ErrorType, errorType);
        }

        return tags;
    }
}

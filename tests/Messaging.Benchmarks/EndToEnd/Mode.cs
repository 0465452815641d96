namespace Messaging.Benchmarks.EndToEnd;

/// <summary>What a trial measures.</summary>
public enum Mode
{
    /// <summary>RabbitMQ.Client only: BasicPublishAsync with confirms and an AsyncEventingBasicConsumer, no propagation.</summary>
    Raw,

    /// <summary>The library's publish helper and RabbitMqConsumerWorker with an SDK tracer provider (AlwaysOn, no-op processor).</summary>
    Traced,

    /// <summary>The library's publish helper and RabbitMqConsumerWorker with nothing listening.</summary>
    Quiet,

    /// <summary>
    /// Reference, opt-in (<c>--modes raw,traced,quiet,otel</c>): raw's publisher and consumer instrumented by hand with the
    /// bare OpenTelemetry propagators and an ActivitySource setting the same span tags as the library, same tracer
    /// provider as traced. What tracing costs at a minimum; traced vs otel is the library's own overhead.
    /// </summary>
    Otel,

    /// <summary>
    /// Floor reference, opt-in (<c>--modes raw,traced,spans</c>): raw's publisher and consumer with only the two spans
    /// per message — a PRODUCER span around the publish and a CONSUMER span around the handler — without attributes,
    /// propagation or baggage, same tracer provider as traced. The least that recording both spans costs here, whoever
    /// writes the instrumentation; the consumer span is a new root, so trace continuity is not checked.
    /// </summary>
    Spans,

    /// <summary>
    /// Peer, opt-in (<c>--modes raw,traced,client</c>): raw's publisher and consumer with RabbitMQ.Client's own
    /// instrumentation (activity sources <c>RabbitMQ.Client.Publisher</c> and <c>RabbitMQ.Client.Subscriber</c>) recorded
    /// by an SDK tracer provider (AlwaysOn, no-op processor), its context injector and extractor set through
    /// <c>RabbitMQActivitySource</c> to OpenTelemetry's W3C trace context and baggage propagators for the trial.
    /// </summary>
    Client,

    /// <summary>
    /// Peer, opt-in (<c>--modes raw,traced,masstransit</c>): a MassTransit bus on the same broker sending the same
    /// number of messages with the same body to a receive endpoint on the trial's queue (same prefetch, concurrent
    /// message limit = concurrency), its <c>MassTransit</c> activity source recorded by an SDK tracer provider.
    /// </summary>
    MassTransit,
}

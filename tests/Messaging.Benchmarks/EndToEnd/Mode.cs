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
}

using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using RabbitMQ.Client;

namespace Messaging.Benchmarks.EndToEnd;

/// <summary>
/// The <see cref="Mode.Client"/> peer's configuration: RabbitMQ.Client's own instrumentation is configured through the
/// process-global statics of <see cref="RabbitMQActivitySource"/>. For one trial they are set to OpenTelemetry's W3C
/// trace context and baggage propagators (what the library and the hand-written reference carry); disposing puts the
/// previous values back, so no other mode runs with them.
/// </summary>
internal sealed class ClientInstrumentation : IDisposable
{
    /// <summary>RabbitMQ.Client's activity sources, for the tracer provider.</summary>
    public static readonly string[] SourceNames = ["RabbitMQ.Client.Publisher", "RabbitMQ.Client.Subscriber"];

    private readonly Action<Activity, IDictionary<string, object?>> _previousInjector;
    private readonly Func<IReadOnlyBasicProperties, ActivityContext> _previousExtractor;
    private readonly bool _previousRoutingKeyAsOperationName;

    private ClientInstrumentation()
    {
        _previousInjector = RabbitMQActivitySource.ContextInjector;
        _previousExtractor = RabbitMQActivitySource.ContextExtractor;
        _previousRoutingKeyAsOperationName = RabbitMQActivitySource.UseRoutingKeyAsOperationName;
        RabbitMQActivitySource.ContextInjector = static (activity, headers) =>
            HandTracing.Propagator.Inject(new PropagationContext(activity.Context, Baggage.Current), headers, HandTracing.Setter);
        RabbitMQActivitySource.ContextExtractor = static properties =>
            HandTracing.Propagator.Extract(default, properties.Headers, HandTracing.Getter).ActivityContext;
        RabbitMQActivitySource.UseRoutingKeyAsOperationName = true;
    }

    /// <summary>Sets the statics for one trial.</summary>
    public static ClientInstrumentation Configure() => new();

    /// <summary>
    /// The trace a message handled under RabbitMQ.Client's <c>deliver</c> span continues. By its design that span is a
    /// new root with a link to the context the message carried (never its child), so the trace continued is the linked
    /// one; a span with a parent continues its own trace.
    /// </summary>
    public static ActivityTraceId ContinuedTrace(Activity? deliver)
    {
        if (deliver is null)
        {
            return default;
        }

        if (deliver.ParentSpanId != default)
        {
            return deliver.TraceId;
        }

        foreach (ref readonly var link in deliver.EnumerateLinks())
        {
            return link.Context.TraceId;
        }

        return default;
    }

    public void Dispose()
    {
        RabbitMQActivitySource.ContextInjector = _previousInjector;
        RabbitMQActivitySource.ContextExtractor = _previousExtractor;
        RabbitMQActivitySource.UseRoutingKeyAsOperationName = _previousRoutingKeyAsOperationName;
    }
}

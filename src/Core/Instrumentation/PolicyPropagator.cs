using OpenTelemetry.Context.Propagation;

namespace Messaging;

/// <summary>
/// An OpenTelemetry propagator that applies the outbound baggage policy before another propagator injects: the
/// baggage given merged with the current activity chain's (as a publish merges them), then filtered. Extraction is the
/// inner propagator's.
/// </summary>
internal sealed class PolicyPropagator(TextMapPropagator inner, BaggageFilter filter, PropagationReporter reporter) : TextMapPropagator
{
    public override ISet<string>? Fields => inner.Fields;

    public override void Inject<T>(PropagationContext context, T carrier, Action<T, string, string> setter)
    {
        var baggage = filter.Apply(ActivityBaggage.Effective(context.Baggage), reporter, PropagationReporter.Outbound);
        inner.Inject(new PropagationContext(context.ActivityContext, baggage), carrier, setter);
    }

    public override PropagationContext Extract<T>(PropagationContext context, T carrier, Func<T, string, IEnumerable<string>?> getter) =>
        inner.Extract(context, carrier, getter);
}

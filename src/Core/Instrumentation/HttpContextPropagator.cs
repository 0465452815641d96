using System.Diagnostics;
using Messaging.Propagation;
using OpenTelemetry;

namespace Messaging;

/// <summary>
/// A <see cref="DistributedContextPropagator"/> for outgoing HTTP requests that applies the library's outbound baggage
/// policy: W3C <c>traceparent</c>/<c>tracestate</c> of the request's activity, and one W3C <c>baggage</c> header with
/// the merged baggage of both .NET baggage APIs (as a publish carries it), filtered by
/// <see cref="MessagingOptions.OutboundBaggage"/> — the same on .NET 8 and .NET 10, never <c>Correlation-Context</c>.
/// Give it to one handler (<see cref="System.Net.Http.SocketsHttpHandler.ActivityHeadersPropagator"/>); nothing global
/// changes unless you assign it to <see cref="DistributedContextPropagator.Current"/> yourself.
/// </summary>
internal sealed class HttpContextPropagator(MessagingInstrumentation owner, BaggageFilter filter, PropagationReporter reporter) : DistributedContextPropagator
{
    private static readonly string[] FieldNames = [W3CTraceContextPropagator.TraceParentHeader, W3CTraceContextPropagator.TraceStateHeader, W3CBaggagePropagator.BaggageHeader];

    public override IReadOnlyCollection<string> Fields => FieldNames;

    public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter)
    {
        if (activity is null || setter is null || activity.IdFormat != ActivityIdFormat.W3C || activity.Id is not { } id)
        {
            return;
        }

        setter(carrier, W3CTraceContextPropagator.TraceParentHeader, id);
        if (activity.TraceStateString is { Length: > 0 } traceState)
        {
            setter(carrier, W3CTraceContextPropagator.TraceStateHeader, traceState);
        }

        // At injection the request's activity is current, so the merge sees its whole chain and this flow's Baggage.Current.
        var baggage = filter.Apply(ActivityBaggage.Effective(Baggage.Current), reporter, PropagationReporter.Outbound);
        if (baggage.Count > 0 && W3CBaggagePropagator.Encode(baggage, BaggagePolicy.DefaultMaxMembers, BaggagePolicy.DefaultMaxBytes) is { } header)
        {
            setter(carrier, W3CBaggagePropagator.BaggageHeader, header);
        }
    }

    public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState)
    {
        var context = Extract(carrier, getter).ActivityContext;
        traceId = context.TraceId != default && context.SpanId != default
            ? W3CTraceContextPropagator.FormatTraceParent(context.TraceId, context.SpanId, context.TraceFlags)
            : null;
        traceState = traceId is null ? null : context.TraceState;
    }

    public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter)
    {
        var baggage = Extract(carrier, getter).Baggage;
        return baggage.Count == 0 ? null : [.. baggage.GetBaggage().Select(static p => new KeyValuePair<string, string?>(p.Key, p.Value))];
    }

    private OpenTelemetry.Context.Propagation.PropagationContext Extract(object? carrier, PropagatorGetterCallback? getter)
    {
        if (getter is null)
        {
            return default;
        }

        return owner.Propagator.Extract(default, (carrier, getter), static (state, name) =>
        {
            state.getter(state.carrier, name, out var value, out var values);
            return value is not null ? [value] : values;
        });
    }
}

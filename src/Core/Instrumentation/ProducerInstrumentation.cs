using System.Collections.Frozen;
using System.Diagnostics;
using Messaging.Propagation;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace Messaging;

/// <summary>
/// The producer side: starts PRODUCER spans (<c>send</c>, <c>create</c>) and the CLIENT span of a batch send, and
/// injects context into a message's headers — the span's, or the current context when no span is recorded — with the
/// outbound baggage policy applied.
/// </summary>
internal sealed class ProducerInstrumentation
{
    private static readonly Action<IHeaderCarrier, string, string> Setter = static (c, n, v) => c.SetValue(n, v);

    private readonly MessagingInstrumentation _owner;
    private readonly TextMapPropagator _propagator;
    private readonly BaggageFilter _outbound;
    private readonly FrozenDictionary<string, BaggageFilter> _outboundByDestination;
    private readonly PropagationReporter _reporter;
    private readonly string[] _fields;
    private readonly SpanShape.Cache _sendShapes = new(SemanticConventions.OperationTypeSend);
    private readonly SpanShape.Cache _createShapes = new(SemanticConventions.OperationTypeCreate);
    private readonly bool _tracing;
    private readonly bool _silentWithoutContext;

    public ProducerInstrumentation(MessagingInstrumentation owner, MessagingOptions options, BaggageFilter outbound, PropagationReporter reporter, bool tracing)
    {
        _owner = owner;
        _propagator = owner.Propagator;
        _outbound = outbound;
        _outboundByDestination = options.OutboundBaggageByDestination.ToFrozenDictionary(
            static p => p.Key, static p => new BaggageFilter(p.Value), StringComparer.Ordinal);
        _reporter = reporter;
        _fields = [.. owner.PropagationHeaders];
        _tracing = tracing;
        _silentWithoutContext = PropagationHelpers.WritesNothingWithoutContext(_propagator);
    }

    /// <summary>See <see cref="MessagingInstrumentation.CanSkipProducer"/>.</summary>
    public bool CanSkip =>
        _silentWithoutContext
        && !(_tracing && MessagingTelemetry.Source.HasListeners())
        && !(_owner.Metrics && (Instruments.SentMessages.Enabled || Instruments.HeaderSize.Enabled))
        && Activity.Current is null
        && Baggage.Current.Count == 0;

    /// <summary>A PRODUCER span <c>send</c> (or <c>create</c> when <paramref name="create"/>) with injection; see <see cref="MessagingInstrumentation.StartProducer"/>.</summary>
    public ProducerScope Start(in OutgoingMessage message, IHeaderCarrier headers, bool create)
    {
        ArgumentNullException.ThrowIfNull(headers);
        Validate(message);
        var shape = (create ? _createShapes : _sendShapes).For(message);
        var activity = StartSpan(message, shape, ActivityKind.Producer, linkTo: null);
        var injected = activity ?? Activity.Current;
        var context = injected?.Context ?? default;
        var baggage = Inject(context, headers, message.Destination);
        if (_owner.BaggageTelemetry.OnProducerSpans && activity is { IsAllDataRequested: true })
        {
            _owner.BaggageTelemetry.SetAttributes(activity, baggage);
        }

        // A create records no sent-message metric: the batch's send does.
        var scope = new ProducerScope(activity, injected, shape, !create && _owner.Metrics ? 1 : 0);
        _owner.Observer?.ProducerStarted(message, scope, context, baggage);
        return scope;
    }

    /// <summary>The CLIENT span of a batch send; see <see cref="MessagingInstrumentation.StartBatchSend"/>.</summary>
    public ProducerScope StartBatchSend(in OutgoingMessage message, IReadOnlyList<ActivityContext> creationContexts)
    {
        ArgumentNullException.ThrowIfNull(creationContexts);
        Validate(message);
        var shape = _sendShapes.For(message);
        var activity = StartSpan(message, shape, ActivityKind.Client, creationContexts);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(SemanticConventions.BatchMessageCount, creationContexts.Count);
        }

        return new ProducerScope(activity, injected: null, shape, _owner.Metrics ? creationContexts.Count : 0);
    }

    /// <summary>Injects the current context without a span; see <see cref="MessagingInstrumentation.InjectCurrent"/>.</summary>
    public void InjectCurrent(IHeaderCarrier headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        Inject(Activity.Current?.Context ?? default, headers, destination: string.Empty);
    }

    private static void Validate(in OutgoingMessage message)
    {
        ArgumentException.ThrowIfNullOrEmpty(message.System);
        ArgumentNullException.ThrowIfNull(message.Destination);
    }

    /// <summary>The span of a send (when anything listens), with the message's details when it records data.</summary>
    /// <param name="message">The message.</param>
    /// <param name="shape">The span's name and creation attributes.</param>
    /// <param name="kind">PRODUCER for one message, CLIENT for a batch.</param>
    /// <param name="linkTo">The creation contexts a batch send links to (invalid ones get no link); <see langword="null"/> for none.</param>
    private Activity? StartSpan(in OutgoingMessage message, SpanShape shape, ActivityKind kind, IReadOnlyList<ActivityContext>? linkTo)
    {
        var source = MessagingTelemetry.Source;
        if (!_tracing || !source.HasListeners())
        {
            return null;
        }

        List<ActivityLink>? links = null;
        if (linkTo is not null)
        {
            links = new List<ActivityLink>(linkTo.Count);
            foreach (var context in linkTo)
            {
                if (PropagationHelpers.IsValid(context))
                {
                    links.Add(new ActivityLink(context));
                }
            }
        }

        var activity = source.StartActivity(shape.Name, kind, parentContext: default, shape.SamplingTags, links);
        if (activity is { IsAllDataRequested: true })
        {
            SpanTags.AddDetails(activity, message);
        }

        return activity;
    }

    private Baggage Inject(ActivityContext context, IHeaderCarrier headers, string destination)
    {
        // The library owns the propagation headers: stale ones (a forwarded message) never survive a hop.
        foreach (var field in _fields)
        {
            headers.Remove(field);
        }

        var filter = _outboundByDestination.Count > 0 && _outboundByDestination.TryGetValue(destination, out var specific) ? specific : _outbound;
        var baggage = filter.Apply(ActivityBaggage.Effective(Baggage.Current), _reporter, PropagationReporter.Outbound);
        var measured = _owner.Metrics && Instruments.HeaderSize.Enabled ? new MeasuringCarrier(headers) : null;
        try
        {
            _propagator.Inject(new PropagationContext(context, baggage), (IHeaderCarrier?)measured ?? headers, Setter);
        }
#pragma warning disable CA1031 // A third-party propagator failing must not fail the send.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.InjectFailed(_owner.Logger, ex, destination);
        }

        if (measured is not null)
        {
            Instruments.HeaderSize.Record(measured.Bytes, new KeyValuePair<string, object?>(SemanticConventions.DestinationName, destination));
        }

        return baggage;
    }
}

using System.Collections.Frozen;
using System.Diagnostics;
using Messaging.Propagation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace Messaging;

/// <summary>
/// The propagation engine: producer spans with injection, and consumer scopes with extraction, trust, parenting and
/// attachment of context. Transports and workers use it; an instance is immutable and thread-safe.
/// </summary>
public sealed class MessagingInstrumentation
{
    private static readonly Action<IHeaderCarrier, string, string> Setter = static (c, n, v) => c.SetValue(n, v);
    private static readonly Lazy<MessagingInstrumentation> LazyDefault = new(() => new MessagingInstrumentation());

    private readonly BaggageFilter _outbound;
    private readonly FrozenDictionary<string, BaggageFilter> _outboundByDestination;
    private readonly BaggageFilter _inbound;
    private readonly string[] _traceFields;
    private readonly string[] _allFields;
    private readonly SpanShape.Cache _sendShapes = new(SemanticConventions.OperationTypeSend);
    private readonly SpanShape.Cache _createShapes = new(SemanticConventions.OperationTypeCreate);
    private readonly SpanShape.Cache _processShapes = new(SemanticConventions.OperationTypeProcess);
    private readonly LogThrottle _throttle;
    private readonly BaggageFilter.DropHandler _outboundDrop;
    private readonly BaggageFilter.DropHandler _inboundDrop;
    private readonly bool _silentWithoutContext;
    private readonly bool _tracing;

    /// <summary>Creates an instrumentation from options.</summary>
    /// <param name="options">The options; <see langword="null"/> for the defaults. Validated here.</param>
    /// <param name="loggerFactory">Where the library logs; <see langword="null"/> for none.</param>
    /// <param name="timeProvider">The clock for durations and log rate limiting; <see langword="null"/> for the system clock.</param>
    /// <exception cref="ArgumentException">The options are invalid, or <c>OTEL_PROPAGATORS</c> names an unknown propagator.</exception>
    public MessagingInstrumentation(MessagingOptions? options = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        options ??= new MessagingOptions();
        options.Validate();
        Propagator = options.Propagator ?? MessagingPropagators.FromEnvironment();
        Trust = options.Trust;
        Parenting = options.Parenting;
        ParentingPolicy = options.ParentingPolicy;
        TimeProvider = timeProvider ?? TimeProvider.System;
        Logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Messaging");
        _outbound = new BaggageFilter(options.OutboundBaggage);
        _outboundByDestination = options.OutboundBaggageByDestination.ToFrozenDictionary(
            static p => p.Key, static p => new BaggageFilter(p.Value), StringComparer.Ordinal);
        BaggageTelemetry = new BaggageTelemetry(options.BaggageTelemetry);
        _inbound = new BaggageFilter(options.InboundBaggage);
        _allFields = Propagator.Fields is { } fields ? [.. fields] : [];
        _traceFields = Array.FindAll(_allFields, static f => !string.Equals(f, "baggage", StringComparison.OrdinalIgnoreCase));
        PropagationHeaders = Array.AsReadOnly(_allFields);
        _throttle = new LogThrottle(TimeProvider, TimeSpan.FromMinutes(1));
        _outboundDrop = (reason, count) => ReportBaggageDrop("outbound", reason, count);
        _inboundDrop = (reason, count) => ReportBaggageDrop("inbound", reason, count);
        _silentWithoutContext = PropagationHelpers.WritesNothingWithoutContext(Propagator);
        _tracing = !options.DisableTracing;
        Metrics = !options.DisableMetrics;
        DefaultConsumer = new ConsumerSettings(Trust, Parenting, ParentingPolicy);
    }

    /// <summary>
    /// Gets an instrumentation with default options (propagators from <c>OTEL_PROPAGATORS</c>, W3C by default),
    /// created on first use. It is read-only: configure your own instance rather than changing a global.
    /// </summary>
    public static MessagingInstrumentation Default => LazyDefault.Value;

    /// <summary>Gets the propagator in use.</summary>
    public TextMapPropagator Propagator { get; }

    /// <summary>
    /// Gets the names of the headers the propagator writes (for example <c>traceparent</c>, <c>tracestate</c>,
    /// <c>baggage</c>): the headers this instrumentation owns on a message.
    /// </summary>
    public IReadOnlyList<string> PropagationHeaders { get; }

    /// <summary>Gets how far received context is trusted.</summary>
    public ContextTrust Trust { get; }

    /// <summary>Gets the default parenting mode.</summary>
    public ParentingMode Parenting { get; }

    /// <summary>Gets the per-message parenting policy, if any.</summary>
    public Func<IncomingMessage, ParentingMode>? ParentingPolicy { get; }

    internal ILogger Logger { get; }

    /// <summary>Gets a value indicating whether the library records metrics (<see cref="MessagingOptions.DisableMetrics"/> is off).</summary>
    internal bool Metrics { get; }

    internal ConsumerSettings DefaultConsumer { get; }

    internal BaggageTelemetry BaggageTelemetry { get; }

    internal TimeProvider TimeProvider { get; }

    /// <summary>Gets the observer of this application's messages (the test harness), if one is registered.</summary>
    internal IMessagingObserver? Observer { get; init; }

    /// <summary>
    /// Gets a value indicating whether <see cref="StartProducer"/> would, at this moment, record nothing and write
    /// nothing: nothing listens to the library's spans or to the metrics a send records, there is neither a current
    /// <see cref="Activity"/> nor current baggage, and <see cref="Propagator"/> is made of the library's propagators
    /// (which write nothing without a context). A transport may then send a message that has no headers as it is —
    /// no header table, no scope — and only a message's existing headers still need <see cref="StartProducer"/>
    /// (stale propagation headers are removed from them).
    /// </summary>
    public bool CanSkipProducer =>
        _silentWithoutContext
        && !(_tracing && MessagingTelemetry.Source.HasListeners())
        && !(Metrics && (Instruments.SentMessages.Enabled || Instruments.HeaderSize.Enabled))
        && Activity.Current is null
        && Baggage.Current.Count == 0;

    /// <summary>
    /// Starts a PRODUCER span <c>send {destination}</c> (when anything listens) and injects context into
    /// <paramref name="headers"/>: the span's context, or — when no span is recorded — the current context as is,
    /// so propagation never depends on sampling. Trace headers already present are replaced, never duplicated.
    /// Dispose the scope when the send completed; call <see cref="ProducerScope.RecordException(Exception)"/> if it failed.
    /// </summary>
    /// <param name="message">What the span records about the message.</param>
    /// <param name="headers">The outgoing message's headers.</param>
    /// <returns>The scope; dispose it after the send.</returns>
    public ProducerScope StartProducer(in OutgoingMessage message, IHeaderCarrier headers) =>
        StartProducerCore(message, headers, _sendShapes, Metrics ? 1 : 0);

    /// <summary>
    /// Starts the creation context of one message that is sent later in a batch (messaging conventions: each message
    /// of a batch gets its own creation context): a PRODUCER span <c>create {destination}</c> (when anything listens),
    /// injected into <paramref name="headers"/> as <see cref="StartProducer"/> injects — the current context when no
    /// span is recorded. Dispose it once the message is in the batch; the batch's send span
    /// (<see cref="StartBatchSend"/>) links to <see cref="ProducerScope.Context"/>. It records no sent-message metric:
    /// the send does.
    /// </summary>
    /// <param name="message">What the span records about the message.</param>
    /// <param name="headers">The outgoing message's headers.</param>
    /// <returns>The scope; dispose it when the message was added to its batch.</returns>
    public ProducerScope StartCreate(in OutgoingMessage message, IHeaderCarrier headers) =>
        StartProducerCore(message, headers, _createShapes, 0);

    /// <summary>
    /// Starts the span of sending messages that already carry their creation contexts (see <see cref="StartCreate"/>):
    /// a CLIENT span <c>send {destination}</c> with <c>messaging.batch.message_count</c> and a link to each message's
    /// creation context. It injects nothing. Dispose it when the send completed; call
    /// <see cref="ProducerScope.RecordException(Exception)"/> if it failed.
    /// </summary>
    /// <param name="message">What the span records about the send (destination, server).</param>
    /// <param name="creationContexts">The creation contexts of the messages sent; invalid ones get no link.</param>
    /// <returns>The scope; dispose it after the send.</returns>
    public ProducerScope StartBatchSend(in OutgoingMessage message, IReadOnlyList<ActivityContext> creationContexts)
    {
        ArgumentNullException.ThrowIfNull(creationContexts);
        ArgumentException.ThrowIfNullOrEmpty(message.System);
        ArgumentNullException.ThrowIfNull(message.Destination);

        var source = MessagingTelemetry.Source;
        Activity? activity = null;
        if (_tracing && source.HasListeners())
        {
            var shape = _sendShapes.For(message);
            var links = new List<ActivityLink>(creationContexts.Count);
            foreach (var context in creationContexts)
            {
                if (context.TraceId != default && context.SpanId != default)
                {
                    links.Add(new ActivityLink(context));
                }
            }

            activity = source.StartActivity(shape.Name, ActivityKind.Client, parentContext: default, shape.SamplingTags, links);
        }

        if (activity is { IsAllDataRequested: true })
        {
            SpanTags.AddDetails(activity, message);
            activity.SetTag(SemanticConventions.BatchMessageCount, creationContexts.Count);
        }

        return new ProducerScope(activity, message, Metrics ? creationContexts.Count : 0);
    }

    private ProducerScope StartProducerCore(in OutgoingMessage message, IHeaderCarrier headers, SpanShape.Cache shapes, int sentMessages)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentException.ThrowIfNullOrEmpty(message.System);
        ArgumentNullException.ThrowIfNull(message.Destination);

        var source = MessagingTelemetry.Source;
        Activity? activity = null;
        if (_tracing && source.HasListeners())
        {
            var shape = shapes.For(message);
            activity = source.StartActivity(shape.Name, ActivityKind.Producer, parentContext: default, shape.SamplingTags);
        }

        if (activity is { IsAllDataRequested: true })
        {
            SpanTags.AddDetails(activity, message);
        }

        var context = activity?.Context ?? Activity.Current?.Context ?? default;
        var baggage = Inject(context, headers, message.Destination);
        if (BaggageTelemetry.OnProducerSpans && activity is { IsAllDataRequested: true })
        {
            BaggageTelemetry.SetAttributes(activity, baggage);
        }

        var scope = new ProducerScope(activity, message, sentMessages) { Context = context };
        Observer?.ProducerStarted(message, scope, context, baggage);
        return scope;
    }

    /// <summary>
    /// Injects the current context (<see cref="Activity.Current"/> and <see cref="Baggage.Current"/>, filtered by the
    /// outbound baggage policy) into <paramref name="headers"/> without starting a span.
    /// </summary>
    /// <param name="headers">The outgoing message's headers.</param>
    public void InjectCurrent(IHeaderCarrier headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        Inject(Activity.Current?.Context ?? default, headers, destination: string.Empty);
    }

    /// <summary>
    /// Creates a <see cref="DistributedContextPropagator"/> that applies this instrumentation's outbound baggage policy
    /// (<see cref="MessagingOptions.OutboundBaggage"/>) to HTTP requests: W3C <c>traceparent</c>/<c>tracestate</c> and
    /// one W3C <c>baggage</c> header holding the baggage of both .NET baggage APIs (merged as a publish merges it),
    /// the same on .NET 8 and .NET 10. Opt in per handler — <c>new SocketsHttpHandler { ActivityHeadersPropagator =
    /// instrumentation.CreateHttpPropagator() }</c> — so nothing process-wide changes; assigning it to
    /// <see cref="DistributedContextPropagator.Current"/> is your explicit choice. OpenTelemetry's HttpClient
    /// instrumentation writes its own <c>baggage</c> header first, which the runtime then keeps.
    /// </summary>
    /// <returns>A propagator for HttpClient handlers (and ASP.NET Core's hosting, which it reads W3C headers for).</returns>
    public DistributedContextPropagator CreateHttpPropagator() => new HttpContextPropagator(this, _outbound, _outboundDrop);

    /// <summary>
    /// Creates an OpenTelemetry propagator that injects with <paramref name="inner"/> (default: <see cref="Propagator"/>)
    /// the baggage of both .NET baggage APIs, merged as a publish merges it and filtered by
    /// <see cref="MessagingOptions.OutboundBaggage"/>; extraction is <paramref name="inner"/>'s, unchanged. It is for
    /// instrumentations that inject with OpenTelemetry's default propagator — OpenTelemetry's HttpClient
    /// instrumentation among them — so their requests carry what a message would:
    /// <c>Sdk.SetDefaultTextMapPropagator(instrumentation.CreatePolicyPropagator())</c>. Setting the default is
    /// process-wide and your explicit choice; the library never sets it.
    /// </summary>
    /// <param name="inner">The propagator that writes the headers; <see langword="null"/> for <see cref="Propagator"/>.</param>
    /// <returns>The propagator.</returns>
    public TextMapPropagator CreatePolicyPropagator(TextMapPropagator? inner = null) => new PolicyPropagator(inner ?? Propagator, _outbound, _outboundDrop);

    /// <summary>
    /// Extracts the context of a received message, applying the inbound baggage policy (but not trust or parenting).
    /// Never throws: a malformed context yields an invalid <see cref="PropagationContext.ActivityContext"/>.
    /// </summary>
    /// <param name="headers">The received message's headers.</param>
    /// <returns>The extracted context.</returns>
    public PropagationContext Extract(IHeaderCarrier headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var context = ExtractRaw(headers, string.Empty);
        return new PropagationContext(context.ActivityContext, _inbound.Apply(context.Baggage, _inboundDrop));
    }

    /// <summary>
    /// Starts the consumer scope of one received message: extract → trust → parenting → CONSUMER span
    /// <c>process {destination}</c> → <see cref="Activity.Current"/> and <see cref="Baggage.Current"/> set to this
    /// message's. Disposing the scope stops the span and restores exactly the ambient context that was there before,
    /// whatever the handler did. Missing or malformed context fails open: a new root span, counted and logged.
    /// </summary>
    /// <param name="message">The received message and its headers.</param>
    /// <returns>The scope; dispose it when the handler finished.</returns>
    public ConsumerScope StartConsumer(in IncomingMessage message) => StartConsumer(message, DefaultConsumer);

    /// <summary>The consumer scope of one message with a worker's own trust and parenting; see <see cref="StartConsumer(in IncomingMessage)"/>.</summary>
    internal ConsumerScope StartConsumer(in IncomingMessage message, ConsumerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(message.Headers);
        ArgumentException.ThrowIfNullOrEmpty(message.System);
        ArgumentNullException.ThrowIfNull(message.Destination);

        var snapshot = AmbientContext.Capture();
        var start = Metrics && Instruments.ProcessDuration.Enabled ? TimeProvider.GetTimestamp() : long.MinValue;
        var remote = ExtractRaw(message.Headers, message.Destination);
        var remoteContext = remote.ActivityContext;
        var valid = remoteContext.TraceId != default && remoteContext.SpanId != default;
        if (!valid)
        {
            ReportContextNotContinued(message);
        }

        Baggage baggage;
        var mode = settings.Parenting;
        switch (settings.Trust)
        {
            case ContextTrust.DropBaggage:
                ReportDroppedBaggage(remote.Baggage);
                baggage = default;
                break;
            case ContextTrust.Untrusted:
                ReportDroppedBaggage(remote.Baggage);
                baggage = default;
                mode = ParentingMode.Link;
                break;
            default:
                baggage = _inbound.Apply(remote.Baggage, _inboundDrop);
                break;
        }

        if (settings.Trust != ContextTrust.Untrusted && settings.ParentingPolicy is { } policy)
        {
            try
            {
                mode = policy(message);
            }
#pragma warning disable CA1031 // A user policy must not break message processing: fall back to the default.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Log.ParentingPolicyFailed(Logger, ex, settings.Parenting);
                mode = settings.Parenting;
            }
        }

        // Start from a clean slate: no ambient activity may become the parent of a root or linked span.
        Activity.Current = null;
        var parent = valid && mode == ParentingMode.Child ? remoteContext : default;

        Activity? activity = null;
        Activity? contextOnly = null;
        try
        {
            var source = MessagingTelemetry.Source;
            if (_tracing && source.HasListeners())
            {
                // Both modes link to the creation context (messaging conventions: a processed message SHOULD be
                // linked to it even when it is also the parent).
                var shape = _processShapes.For(message);
                ActivityLink[]? links = valid ? [new ActivityLink(remoteContext)] : null;
                activity = source.StartActivity(shape.Name, ActivityKind.Consumer, parent, shape.SamplingTags, links);
            }

            if (activity is not null)
            {
                // Activity.Baggage of the span is exactly this message's: it has no in-process parent.
                ActivityBaggage.Attach(activity, baggage);
                if (activity.IsAllDataRequested)
                {
                    SpanTags.AddDetails(activity, message);
                    if (BaggageTelemetry.OnConsumerSpans)
                    {
                        BaggageTelemetry.SetAttributes(activity, baggage);
                    }
                }
            }
            else if (baggage.Count > 0)
            {
                // Nothing records a span, but HttpClient propagates only from an Activity.Current: a context-only
                // activity carries the message's trace context and baggage to it. No baggage, no allocation.
                contextOnly = ActivityBaggage.StartContextOnly(_processShapes.For(message).Name, parent, baggage);
            }

            AmbientContext.AttachBaggage(baggage);
        }
        catch
        {
            // A throwing listener must not leave the caller without its ambient context.
            AmbientContext.Restore(snapshot);
            throw;
        }

        return new ConsumerScope(this, activity, contextOnly, snapshot, start, message, remoteContext, valid ? mode : null, baggage);
    }

    internal static void SetError(Activity? activity, Exception exception)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.SetTag(SemanticConventions.ErrorType, exception.GetType().FullName);
        if (activity.IsAllDataRequested)
        {
            activity.AddEvent(new ActivityEvent("exception", tags: new ActivityTagsCollection
            {
                ["exception.type"] = exception.GetType().FullName,
                ["exception.message"] = exception.Message,
                ["exception.stacktrace"] = exception.ToString(),
            }));
        }
    }

    private Baggage Inject(ActivityContext context, IHeaderCarrier headers, string destination)
    {
        // The library owns the propagation headers: stale ones (a forwarded message) never survive a hop.
        foreach (var field in _allFields)
        {
            headers.Remove(field);
        }

        var filter = _outboundByDestination.Count > 0 && _outboundByDestination.TryGetValue(destination, out var specific) ? specific : _outbound;
        var baggage = filter.Apply(ActivityBaggage.Effective(Baggage.Current), _outboundDrop);
        var measured = Metrics && Instruments.HeaderSize.Enabled ? new MeasuringCarrier(headers) : null;
        try
        {
            Propagator.Inject(new PropagationContext(context, baggage), (IHeaderCarrier?)measured ?? headers, Setter);
        }
#pragma warning disable CA1031 // A third-party propagator failing must not fail the send.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.InjectFailed(Logger, ex, destination);
        }

        if (measured is not null)
        {
            Instruments.HeaderSize.Record(measured.Bytes, new KeyValuePair<string, object?>(SemanticConventions.DestinationName, destination));
        }

        return baggage;
    }

    private PropagationContext ExtractRaw(IHeaderCarrier headers, string destination)
    {
        try
        {
            return Propagator.Extract(default, headers, PropagationHelpers.CarrierGetter);
        }
#pragma warning disable CA1031 // Bad input fails open: never an exception into a broker callback.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ExtractFailed(Logger, ex, destination);
            return default;
        }
    }

    private void ReportContextNotContinued(in IncomingMessage message)
    {
        // A service without upstream context lands here for every message: do nothing when nobody would see it.
        var warn = Logger.IsEnabled(LogLevel.Warning);
        var count = Metrics && Instruments.ContextMissing.Enabled;
        if (!warn && !count)
        {
            return;
        }

        var reason = "missing";
        foreach (var field in _traceFields)
        {
            if (message.Headers.GetValues(field) is not null)
            {
                reason = "malformed";
                break;
            }
        }

        var tags = new TagList
        {
            { "reason", reason },
            { SemanticConventions.MessagingSystem, message.System },
            { SemanticConventions.DestinationName, message.Destination },
        };
        if (count)
        {
            Instruments.ContextMissing.Add(1, tags);
        }

        if (warn && _throttle.ShouldLog(reason == "missing" ? "context:missing" : "context:malformed", 1, out var suppressed))
        {
            Log.ContextNotContinued(Logger, message.Destination, reason, suppressed);
        }
    }

    private void ReportDroppedBaggage(Baggage baggage)
    {
        if (baggage.Count > 0)
        {
            ReportBaggageDrop("inbound", "untrusted", baggage.Count);
        }
    }

    private void ReportBaggageDrop(string direction, string reason, int count)
    {
        if (Metrics)
        {
            Instruments.BaggageDropped.Add(count, new KeyValuePair<string, object?>("reason", reason), new KeyValuePair<string, object?>("direction", direction));
        }

        if (Logger.IsEnabled(LogLevel.Warning) && _throttle.ShouldLog("baggage:" + direction + ":" + reason, count, out var suppressed))
        {
            Log.BaggageDropped(Logger, count, direction, reason, suppressed);
        }
    }
}

/// <summary>What a consumer may choose for itself: trust and parenting (a worker's options over the application's).</summary>
internal sealed record ConsumerSettings(ContextTrust Trust, ParentingMode Parenting, Func<IncomingMessage, ParentingMode>? ParentingPolicy);

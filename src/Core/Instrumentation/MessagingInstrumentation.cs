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
/// <remarks>
/// This type is the façade over the engine's parts: <see cref="ProducerInstrumentation"/> (producer spans and
/// injection), <see cref="ContextDecider"/> (extraction, trust, parenting), <see cref="ConsumerInstrumentation"/>
/// (consumer spans and ambient context) and <see cref="PropagationReporter"/> (drops and missing context).
/// </remarks>
public sealed class MessagingInstrumentation
{
    private static readonly Lazy<MessagingInstrumentation> LazyDefault = new(() => new MessagingInstrumentation());

    private readonly BaggageFilter _outbound;
    private readonly PropagationReporter _reporter;
    private readonly ProducerInstrumentation _producer;
    private readonly ContextDecider _decider;
    private readonly ConsumerInstrumentation _consumer;

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
        Metrics = !options.DisableMetrics;
        BaggageTelemetry = new BaggageTelemetry(options.BaggageTelemetry);
        PropagationHeaders = Array.AsReadOnly(Propagator.Fields is { } fields ? [.. fields] : Array.Empty<string>());
        DefaultConsumer = new ConsumerSettings(Trust, Parenting, ParentingPolicy);
        _outbound = new BaggageFilter(options.OutboundBaggage);
        _reporter = new PropagationReporter(Logger, TimeProvider, Metrics);
        _producer = new ProducerInstrumentation(this, options, _outbound, _reporter, tracing: !options.DisableTracing);
        _decider = new ContextDecider(Propagator, new BaggageFilter(options.InboundBaggage), _reporter, Logger);
        _consumer = new ConsumerInstrumentation(this, _decider, tracing: !options.DisableTracing);
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
    internal bool CanSkipProducer => _producer.CanSkip;

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
        _producer.Start(message, headers, create: false);

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
        _producer.Start(message, headers, create: true);

    /// <summary>
    /// Starts the span of sending messages that already carry their creation contexts (see <see cref="StartCreate"/>):
    /// a CLIENT span <c>send {destination}</c> with <c>messaging.batch.message_count</c> and a link to each message's
    /// creation context. It injects nothing. Dispose it when the send completed; call
    /// <see cref="ProducerScope.RecordException(Exception)"/> if it failed.
    /// </summary>
    /// <param name="message">What the span records about the send (destination, server).</param>
    /// <param name="creationContexts">The creation contexts of the messages sent; invalid ones get no link.</param>
    /// <returns>The scope; dispose it after the send.</returns>
    public ProducerScope StartBatchSend(in OutgoingMessage message, IReadOnlyList<ActivityContext> creationContexts) =>
        _producer.StartBatchSend(message, creationContexts);

    /// <summary>
    /// Injects the current context (<see cref="Activity.Current"/> and <see cref="Baggage.Current"/>, filtered by the
    /// outbound baggage policy) into <paramref name="headers"/> without starting a span.
    /// </summary>
    /// <param name="headers">The outgoing message's headers.</param>
    public void InjectCurrent(IHeaderCarrier headers) => _producer.InjectCurrent(headers);

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
    public DistributedContextPropagator CreateHttpPropagator() => new HttpContextPropagator(this, _outbound, _reporter);

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
    public TextMapPropagator CreatePolicyPropagator(TextMapPropagator? inner = null) => new PolicyPropagator(inner ?? Propagator, _outbound, _reporter);

    /// <summary>
    /// Extracts the context of a received message, applying the inbound baggage policy (but not trust or parenting).
    /// Never throws: a malformed context yields an invalid <see cref="PropagationContext.ActivityContext"/>.
    /// </summary>
    /// <param name="headers">The received message's headers.</param>
    /// <returns>The extracted context.</returns>
    public PropagationContext Extract(IHeaderCarrier headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        return _decider.Extract(headers);
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
    internal ConsumerScope StartConsumer(in IncomingMessage message, ConsumerSettings settings) => _consumer.Start(message, settings);
}

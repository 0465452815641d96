using OpenTelemetry.Context.Propagation;

namespace Messaging;

/// <summary>
/// How context crosses a queue: the propagator, the baggage policies, inbound trust and consumer parenting.
/// </summary>
public class MessagingOptions
{
    /// <summary>
    /// Gets or sets the propagator. Default (<see langword="null"/>): the formats named by the
    /// <c>OTEL_PROPAGATORS</c> environment variable, or W3C trace context + W3C baggage when it is unset.
    /// Any OpenTelemetry <see cref="TextMapPropagator"/> may be given. The OpenTelemetry global propagator is never
    /// used implicitly: without the SDK it is a no-op.
    /// </summary>
    public TextMapPropagator? Propagator { get; set; }

    /// <summary>Gets the policy applied to <c>Baggage.Current</c> before it is injected into an outgoing message.</summary>
    public BaggagePolicy OutboundBaggage { get; } = new();

    /// <summary>
    /// Gets per-destination outbound policies, keyed by destination name (the exchange, queue or topic a message is
    /// sent to), used instead of <see cref="OutboundBaggage"/> for those destinations — so a hop to a partner's queue
    /// can carry less than a hop inside your own system.
    /// </summary>
    public IDictionary<string, BaggagePolicy> OutboundBaggageByDestination { get; } = new Dictionary<string, BaggagePolicy>(StringComparer.Ordinal);

    /// <summary>Gets which baggage members become span attributes, metric tags and log-scope values (none by default).</summary>
    public BaggageTelemetryOptions BaggageTelemetry { get; } = new();

    /// <summary>Gets the policy applied to baggage extracted from a received message.</summary>
    public BaggagePolicy InboundBaggage { get; } = new();

    /// <summary>Gets or sets how far received context is trusted. Default: <see cref="ContextTrust.Trusted"/>.</summary>
    public ContextTrust Trust { get; set; } = ContextTrust.Trusted;

    /// <summary>Gets or sets how consumer spans relate to the producer context. Default: <see cref="ParentingMode.Child"/>.</summary>
    public ParentingMode Parenting { get; set; } = ParentingMode.Child;

    /// <summary>
    /// Gets or sets a per-message choice of parenting (for example: redelivered or old messages → <see cref="ParentingMode.Link"/>).
    /// When set it overrides <see cref="Parenting"/>; if it throws, <see cref="Parenting"/> is used and a warning logged.
    /// </summary>
    public Func<IncomingMessage, ParentingMode>? ParentingPolicy { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the library starts no spans of its own. Context is still propagated:
    /// a message carries the current context, and a consumer still attaches the message's baggage. Default:
    /// <see langword="false"/>. (Aspire's <c>DisableTracing</c>.)
    /// </summary>
    public bool DisableTracing { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the library records no metrics. Default: <see langword="false"/>.
    /// (Aspire's <c>DisableMetrics</c>.)
    /// </summary>
    public bool DisableMetrics { get; set; }

    /// <summary>Validates the options; called when an instrumentation is built.</summary>
    /// <exception cref="ArgumentException">One or more options are invalid; the message lists every problem.</exception>
    public void Validate() => OptionsErrors.ThrowIfAny(this, Validate);

    /// <summary>Adds a message for each invalid option to <paramref name="errors"/>, each naming the option.</summary>
    /// <param name="errors">Where the problems are collected.</param>
    protected internal virtual void Validate(ICollection<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        OutboundBaggage.Validate(nameof(OutboundBaggage), errors);
        InboundBaggage.Validate(nameof(InboundBaggage), errors);
        foreach (var (destination, policy) in OutboundBaggageByDestination)
        {
            if (policy is null)
            {
                errors.Add($"{nameof(OutboundBaggageByDestination)}['{destination}'] must not be null.");
                continue;
            }

            policy.Validate($"{nameof(OutboundBaggageByDestination)}['{destination}']", errors);
        }

        BaggageTelemetry.Validate(errors);
        if (!Enum.IsDefined(Trust))
        {
            errors.Add($"{nameof(Trust)} has an unknown value '{Trust}'.");
        }

        if (!Enum.IsDefined(Parenting))
        {
            errors.Add($"{nameof(Parenting)} has an unknown value '{Parenting}'.");
        }
    }
}

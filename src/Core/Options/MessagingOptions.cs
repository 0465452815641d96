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

    /// <summary>Validates the options; called when an instrumentation or worker is built.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public virtual void Validate()
    {
        OutboundBaggage.Validate(nameof(OutboundBaggage));
        InboundBaggage.Validate(nameof(InboundBaggage));
        if (!Enum.IsDefined(Trust))
        {
            throw new ArgumentOutOfRangeException(nameof(Trust), Trust, "Unknown ContextTrust value.");
        }

        if (!Enum.IsDefined(Parenting))
        {
            throw new ArgumentOutOfRangeException(nameof(Parenting), Parenting, "Unknown ParentingMode value.");
        }
    }
}

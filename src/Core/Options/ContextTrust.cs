namespace Messaging;

/// <summary>How far a consumer trusts the context that arrives with a message.</summary>
public enum ContextTrust
{
    /// <summary>Continue the trace and take the baggage, subject to the inbound baggage policy (default).</summary>
    Trusted = 0,

    /// <summary>Continue the trace but discard all incoming baggage.</summary>
    DropBaggage = 1,

    /// <summary>
    /// Take neither parent nor baggage: the consumer span is a new root with a span link to the remote context,
    /// so the relationship stays visible without the sender controlling sampling or baggage.
    /// </summary>
    Untrusted = 2,
}

namespace Messaging;

/// <summary>How a consumer span relates to the producer context that arrived with a message.</summary>
public enum ParentingMode
{
    /// <summary>
    /// The consumer span is a child of the producer context — one trace from publish to handler (default) — and also
    /// has one span link to it, as the messaging semantic conventions recommend for every processed message.
    /// </summary>
    Child = 0,

    /// <summary>
    /// The consumer span starts a new trace with one span link to the producer context: the choice for fan-out,
    /// batch and long-delayed work, where one producer trace would otherwise grow without bound.
    /// </summary>
    Link = 1,
}

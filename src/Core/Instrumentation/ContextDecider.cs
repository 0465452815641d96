using System.Diagnostics;
using Messaging.Propagation;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace Messaging;

/// <summary>
/// Where a header becomes a context: extracts a received message's context (never throws), applies the consumer's
/// trust and the inbound baggage policy, and picks the parenting mode (the per-message policy first) — the parent of
/// the CONSUMER span, the creation context it links to, and the baggage the handler sees.
/// </summary>
internal sealed class ContextDecider
{
    private readonly TextMapPropagator _propagator;
    private readonly BaggageFilter _inbound;
    private readonly PropagationReporter _reporter;
    private readonly ILogger _logger;

    // The headers that carry trace context (baggage excluded): one of them present means "malformed", none "missing".
    private readonly string[] _traceFields;

    public ContextDecider(TextMapPropagator propagator, BaggageFilter inbound, PropagationReporter reporter, ILogger logger)
    {
        _propagator = propagator;
        _inbound = inbound;
        _reporter = reporter;
        _logger = logger;
        _traceFields = propagator.Fields is { } fields
            ? [.. fields.Where(static f => !string.Equals(f, W3CBaggagePropagator.BaggageHeader, StringComparison.OrdinalIgnoreCase))]
            : [];
    }

    /// <summary>Extracts a context and applies the inbound baggage policy (not trust or parenting).</summary>
    public PropagationContext Extract(IHeaderCarrier headers)
    {
        var context = ExtractRaw(headers, string.Empty);
        return new PropagationContext(context.ActivityContext, _inbound.Apply(context.Baggage, _reporter, PropagationReporter.Inbound));
    }

    /// <summary>Decides what <paramref name="message"/> continues, with <paramref name="settings"/>' trust and parenting.</summary>
    public Decision Decide(in IncomingMessage message, ConsumerSettings settings)
    {
        var remote = ExtractRaw(message.Headers, message.Destination);
        var remoteContext = remote.ActivityContext;
        var valid = PropagationHelpers.IsValid(remoteContext);
        if (!valid)
        {
            _reporter.ContextNotContinued(message, _traceFields);
        }

        Baggage baggage;
        var mode = settings.Parenting;
        switch (settings.Trust)
        {
            case ContextTrust.DropBaggage:
                _reporter.BaggageDropped(PropagationReporter.Inbound, PropagationReporter.Untrusted, remote.Baggage.Count);
                baggage = default;
                break;
            case ContextTrust.Untrusted:
                _reporter.BaggageDropped(PropagationReporter.Inbound, PropagationReporter.Untrusted, remote.Baggage.Count);
                baggage = default;
                mode = ParentingMode.Link;
                break;
            default:
                baggage = _inbound.Apply(remote.Baggage, _reporter, PropagationReporter.Inbound);
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
                Log.ParentingPolicyFailed(_logger, ex, settings.Parenting);
                mode = settings.Parenting;
            }
        }

        return new Decision(remoteContext, valid ? mode : null, baggage);
    }

    private PropagationContext ExtractRaw(IHeaderCarrier headers, string destination)
    {
        try
        {
            return _propagator.Extract(default, headers, PropagationHelpers.CarrierGetter);
        }
#pragma warning disable CA1031 // Bad input fails open: never an exception into a broker callback.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ExtractFailed(_logger, ex, destination);
            return default;
        }
    }

    /// <summary>What a received message continues.</summary>
    /// <param name="RemoteContext">The producer context that arrived (invalid when missing or malformed).</param>
    /// <param name="Parenting">How the span relates to it; <see langword="null"/> when it is invalid (a new root, no link).</param>
    /// <param name="Baggage">The baggage the handler sees, after trust and the inbound policy.</param>
    internal readonly record struct Decision(ActivityContext RemoteContext, ParentingMode? Parenting, Baggage Baggage)
    {
        /// <summary>Gets the parent of the CONSUMER span: the remote context in <see cref="ParentingMode.Child"/> mode, else none (a root).</summary>
        public ActivityContext Parent => Parenting == ParentingMode.Child ? RemoteContext : default;

        /// <summary>
        /// Gets a value indicating whether the span links to <see cref="RemoteContext"/>: in both modes (messaging
        /// conventions: a processed message SHOULD be linked to its creation context even when that is also the parent).
        /// </summary>
        public bool Links => Parenting is not null;
    }
}

using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Messaging;

/// <summary>
/// The one place that reports what propagation lost: dropped baggage members (counter
/// <c>messaging.propagation.baggage.dropped</c> and warning <see cref="Log.BaggageDropped"/>) and received messages
/// whose trace context was missing or malformed (counter <c>messaging.propagation.context.missing</c> and warning
/// <see cref="Log.ContextNotContinued"/>). Warnings are rate-limited per cause.
/// </summary>
internal sealed class PropagationReporter
{
    /// <summary>Members dropped while extracting.</summary>
    public const string Inbound = "inbound";

    /// <summary>Members dropped while injecting.</summary>
    public const string Outbound = "outbound";

    /// <summary>A member that does not follow the W3C Baggage grammar (bad key, missing <c>=</c>, bad percent escape).</summary>
    public const string Malformed = "malformed";

    /// <summary>A member beyond the member limit.</summary>
    public const string MemberLimit = "member_limit";

    /// <summary>A member that would exceed the byte limit.</summary>
    public const string ByteLimit = "byte_limit";

    /// <summary>A key or (decoded) value containing CR, LF or NUL.</summary>
    public const string InvalidCharacters = "invalid_characters";

    /// <summary>A key on the policy's deny-list.</summary>
    public const string Denied = "denied";

    /// <summary>A key not on the policy's allow-list.</summary>
    public const string NotAllowed = "not_allowed";

    /// <summary>Received baggage refused by the consumer's trust setting.</summary>
    public const string Untrusted = "untrusted";

    /// <summary>A received message without trace context.</summary>
    public const string Missing = "missing";

    private const string ReasonTag = "reason";
    private const string DirectionTag = "direction";

    private readonly ILogger _logger;
    private readonly LogThrottle _throttle;
    private readonly bool _metrics;

    /// <summary>Creates a reporter.</summary>
    /// <param name="logger">Where warnings go.</param>
    /// <param name="timeProvider">The clock of the rate limit.</param>
    /// <param name="metrics">Whether the counters are recorded.</param>
    public PropagationReporter(ILogger logger, TimeProvider timeProvider, bool metrics)
    {
        _logger = logger;
        _throttle = new LogThrottle(timeProvider, TimeSpan.FromMinutes(1));
        _metrics = metrics;
    }

    /// <summary>
    /// Gets the reporter of the library's propagators, which users may also create without an instrumentation: it
    /// counts and does not log.
    /// </summary>
    public static PropagationReporter Propagators { get; } = new(NullLogger.Instance, TimeProvider.System, metrics: true);

    /// <summary>Reports <paramref name="count"/> dropped baggage members, when there are any.</summary>
    /// <param name="direction"><see cref="Inbound"/> or <see cref="Outbound"/>.</param>
    /// <param name="reason">One of the reason constants.</param>
    /// <param name="count">How many members were dropped.</param>
    public void BaggageDropped(string direction, string reason, int count)
    {
        if (count <= 0)
        {
            return;
        }

        if (_metrics)
        {
            Instruments.BaggageDropped.Add(count, new KeyValuePair<string, object?>(ReasonTag, reason), new KeyValuePair<string, object?>(DirectionTag, direction));
        }

        if (_logger.IsEnabled(LogLevel.Warning) && _throttle.ShouldLog("baggage:" + direction + ":" + reason, count, out var suppressed))
        {
            Log.BaggageDropped(_logger, count, direction, reason, suppressed);
        }
    }

    /// <summary>Reports a received message whose trace context was not continued.</summary>
    /// <param name="message">The message.</param>
    /// <param name="traceFields">The trace context headers the propagator reads: a message carrying one is malformed, else missing.</param>
    public void ContextNotContinued(in IncomingMessage message, string[] traceFields)
    {
        // A service without upstream context lands here for every message: do nothing when nobody would see it.
        var warn = _logger.IsEnabled(LogLevel.Warning);
        var count = _metrics && Instruments.ContextMissing.Enabled;
        if (!warn && !count)
        {
            return;
        }

        var reason = Missing;
        foreach (var field in traceFields)
        {
            if (message.Headers.GetValues(field) is not null)
            {
                reason = Malformed;
                break;
            }
        }

        if (count)
        {
            Instruments.ContextMissing.Add(1, new TagList
            {
                { ReasonTag, reason },
                { SemanticConventions.MessagingSystem, message.System },
                { SemanticConventions.DestinationName, message.Destination },
            });
        }

        if (warn && _throttle.ShouldLog(reason == Missing ? "context:missing" : "context:malformed", 1, out var suppressed))
        {
            Log.ContextNotContinued(_logger, message.Destination, reason, suppressed);
        }
    }
}

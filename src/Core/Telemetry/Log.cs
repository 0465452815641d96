using Microsoft.Extensions.Logging;

namespace Messaging;

/// <summary>The library's log messages (source-generated).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "Received message on '{Destination}' has {Reason} trace context; it starts a new trace ({Suppressed} similar since the last report).")]
    public static partial void ContextNotContinued(ILogger logger, string destination, string reason, long suppressed);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning,
        Message = "Dropped {Count} {Direction} baggage member(s): {Reason} ({Suppressed} similar drops since the last report).")]
    public static partial void BaggageDropped(ILogger logger, int count, string direction, string reason, long suppressed);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning,
        Message = "The parenting policy threw; using the configured default {Mode}.")]
    public static partial void ParentingPolicyFailed(ILogger logger, Exception exception, ParentingMode mode);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning,
        Message = "The propagator threw while extracting context from a message on '{Destination}'; treating the context as malformed.")]
    public static partial void ExtractFailed(ILogger logger, Exception exception, string destination);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning,
        Message = "The propagator threw while injecting context into a message for '{Destination}'; the message is sent without it.")]
    public static partial void InjectFailed(ILogger logger, Exception exception, string destination);
}

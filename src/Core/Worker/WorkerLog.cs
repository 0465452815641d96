using Microsoft.Extensions.Logging;

namespace Messaging;

/// <summary>The worker's log messages (source-generated).</summary>
internal static partial class WorkerLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Consumer worker '{Worker}' started on queue '{Queue}' with concurrency {Concurrency}.")]
    public static partial void Started(ILogger logger, string worker, string queue, int concurrency);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Consumer worker '{Worker}' stopped.")]
    public static partial void Stopped(ILogger logger, string worker);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Consumer worker '{Worker}': handler failed for message {MessageId} (attempt {Attempt} of {MaxAttempts}).")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string worker, string? messageId, int attempt, int maxAttempts);

    [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "Consumer worker '{Worker}': message {MessageId} dead-lettered ({Reason}).")]
    public static partial void DeadLettered(ILogger logger, string worker, string? messageId, string reason);

    [LoggerMessage(EventId = 104, Level = LogLevel.Error, Message = "Consumer worker '{Worker}': message {MessageId} has a body that cannot be deserialised.")]
    public static partial void Undeserializable(ILogger logger, Exception exception, string worker, string? messageId);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "Consumer worker '{Worker}': settling message {MessageId} as {Outcome} failed; the broker will redeliver it.")]
    public static partial void SettleFailed(ILogger logger, Exception exception, string worker, string? messageId, string outcome);

    [LoggerMessage(EventId = 106, Level = LogLevel.Error, Message = "Consumer worker '{Worker}': unexpected failure in the consumer pipeline.")]
    public static partial void PipelineFailed(ILogger logger, Exception exception, string worker);

    [LoggerMessage(EventId = 108, Level = LogLevel.Warning, Message = "Consumer worker '{Worker}': message {MessageId} was taken back by the broker before it was settled (its lock was lost); it is not settled and will be delivered again.")]
    public static partial void Revoked(ILogger logger, string worker, string? messageId);

    [LoggerMessage(EventId = 107, Level = LogLevel.Critical, Message = "Consumer worker '{Worker}': the transport's receive loop failed.")]
    public static partial void TransportFailed(ILogger logger, Exception exception, string worker);

    [LoggerMessage(EventId = 108, Level = LogLevel.Warning, Message = "Consumer worker '{Worker}': message {MessageId} was delivered {Deliveries} time(s) before without being settled, using its {MaxAttempts} attempt(s); dead-lettering it unhandled.")]
    public static partial void AttemptsUsedUp(ILogger logger, string worker, string? messageId, int deliveries, int maxAttempts);
}

using System.Diagnostics;

namespace Messaging;

/// <summary>
/// The producer side of one sent message: its PRODUCER span (if anything listens) and its metrics.
/// Dispose it when the send completed.
/// </summary>
public sealed class ProducerScope : IDisposable
{
    private readonly OutgoingMessage _message;
    private string? _errorType;
    private bool _disposed;

    internal ProducerScope(Activity? activity, in OutgoingMessage message)
    {
        Activity = activity;
        _message = message;
    }

    /// <summary>Gets the PRODUCER span, or <see langword="null"/> when nothing listens or it was not sampled.</summary>
    public Activity? Activity { get; }

    /// <summary>Records a failed send: span status Error with <c>error.type</c>, and the error on the sent-messages metric.</summary>
    /// <param name="exception">The failure.</param>
    public void RecordException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        _errorType = exception.GetType().FullName;
        MessagingInstrumentation.SetError(Activity, exception);
    }

    /// <summary>Stops the span and records the metric.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Activity?.Dispose();
        if (Instruments.SentMessages.Enabled)
        {
            Instruments.SentMessages.Add(1, Instruments.MessageTags(_message.System, _message.Destination, _message.OperationName, _errorType));
        }
    }
}

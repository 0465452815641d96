using System.Diagnostics;

namespace Messaging;

/// <summary>
/// The producer side of one sent message: its PRODUCER span (if anything listens) and its metrics.
/// Dispose it when the send completed.
/// </summary>
public sealed class ProducerScope : IDisposable
{
    // What the metric records (system, destination, operation), shared by the destination's messages.
    private readonly SpanShape _shape;
    private readonly int _sentMessages;
    private string? _errorType;
    private bool _disposed;

    // The activity whose context was injected (the span, else the ambient activity); null when none was, and for a batch send.
    private readonly Activity? _injected;

    internal ProducerScope(Activity? activity, Activity? injected, SpanShape shape, int sentMessages)
    {
        _sentMessages = sentMessages;
        Activity = activity;
        _injected = injected;
        _shape = shape;
    }

    /// <summary>Gets the PRODUCER span, or <see langword="null"/> when nothing listens or it was not sampled.</summary>
    public Activity? Activity { get; }

    /// <summary>
    /// Gets the context injected into the message: the span's, or the current context when no span was recorded;
    /// <see langword="default"/> when there was none (and for a batch send, which injects nothing).
    /// </summary>
    public ActivityContext Context => _injected?.Context ?? default;

    /// <summary>Records a failed send: span status Error with <c>error.type</c>, and the error on the sent-messages metric.</summary>
    /// <param name="exception">The failure.</param>
    public void RecordException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        _errorType = exception.GetType().FullName;
        SpanTags.SetError(Activity, exception);
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
        if (_sentMessages > 0 && Instruments.SentMessages.Enabled)
        {
            Instruments.SentMessages.Add(_sentMessages, Instruments.MessageTags(_shape, _errorType));
        }
    }
}

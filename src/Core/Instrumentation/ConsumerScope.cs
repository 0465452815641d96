using System.Diagnostics;
using OpenTelemetry;

namespace Messaging;

/// <summary>
/// The consumer side of one received message while its handler runs: the CONSUMER span, and the ambient
/// <see cref="Activity.Current"/> and <see cref="Baggage.Current"/> of that message. Disposing restores exactly the
/// ambient context that was current before the scope started.
/// </summary>
public sealed class ConsumerScope : IDisposable
{
    private readonly MessagingInstrumentation _owner;
    private readonly Activity? _activity;

    // The activity is a context-only one (nothing listens): current while the handler runs, but not a span.
    private readonly bool _contextOnly;
    private readonly AmbientContext.Snapshot _previous;
    private readonly long _startTimestamp;

    // What the metrics record (system, destination, operation), shared by the destination's messages.
    private readonly SpanShape _shape;
    private string? _errorType;
    private bool _disposed;

    internal ConsumerScope(
        MessagingInstrumentation owner,
        Activity? activity,
        Activity? contextOnly,
        AmbientContext.Snapshot previous,
        long startTimestamp,
        SpanShape shape,
        ActivityContext remoteContext,
        ParentingMode? parenting,
        Baggage baggage)
    {
        _owner = owner;
        _activity = activity ?? contextOnly;
        _contextOnly = activity is null && contextOnly is not null;
        _previous = previous;
        _startTimestamp = startTimestamp;
        _shape = shape;
        RemoteContext = remoteContext;
        Parenting = parenting;
        Baggage = baggage;
    }

    /// <summary>
    /// Gets the CONSUMER span, or <see langword="null"/> when nothing listens or it was not sampled. When nothing
    /// listens and the message has baggage, <see cref="Activity.Current"/> is a context-only activity (never recorded)
    /// that carries the message's trace context and baggage to HttpClient.
    /// </summary>
    public Activity? Activity => _contextOnly ? null : _activity;

    /// <summary>Gets the producer context that arrived with the message (invalid when missing or malformed).</summary>
    public ActivityContext RemoteContext { get; }

    /// <summary>
    /// Gets how the span relates to <see cref="RemoteContext"/>, or <see langword="null"/> when there was no valid
    /// context to relate to (a new root without links).
    /// </summary>
    public ParentingMode? Parenting { get; }

    /// <summary>Gets the baggage made current for this message (after trust and the inbound policy).</summary>
    public Baggage Baggage { get; }

    /// <summary>Records a failed handler: span status Error with <c>error.type</c>, and the error on the duration metric.</summary>
    /// <param name="exception">The failure.</param>
    public void RecordException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        RecordError(exception.GetType().FullName ?? exception.GetType().Name);
        SpanTags.SetError(Activity, exception);
    }

    /// <summary>Records a failure that is not an exception (for example a message dead-lettered as undeliverable).</summary>
    /// <param name="errorType">The <c>error.type</c> value.</param>
    public void RecordError(string errorType)
    {
        ArgumentException.ThrowIfNullOrEmpty(errorType);
        _errorType = errorType;
        if (Activity is not null)
        {
            Activity.SetStatus(ActivityStatusCode.Error);
            Activity.SetTag(SemanticConventions.ErrorType, errorType);
        }
    }

    /// <summary>Records the settlement the worker is about to make on the span (where the system's conventions name it).</summary>
    internal void RecordSettlement(ConsumerWorker.Outcome outcome)
    {
        if (Activity is { IsAllDataRequested: true } activity)
        {
            SpanTags.SetSettlement(activity, _shape.System, outcome);
        }
    }

    /// <summary>Stops the span, records the metrics and restores the previous ambient context.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (_contextOnly)
            {
                _activity!.Stop();
            }
            else
            {
                _activity?.Dispose();
            }
            RecordMetrics();
        }
        finally
        {
            AmbientContext.Restore(_previous);
        }
    }

    private void RecordMetrics()
    {
        var durationEnabled = Instruments.ProcessDuration.Enabled;
        if (!_owner.Metrics || (!durationEnabled && !Instruments.ConsumedMessages.Enabled))
        {
            return;
        }

        var tags = Instruments.MessageTags(_shape, _errorType);
        if (_owner.BaggageTelemetry.InMetrics)
        {
            _owner.BaggageTelemetry.AddTags(ref tags, Baggage);
        }

        Instruments.ConsumedMessages.Add(1, tags);
        if (durationEnabled && _startTimestamp != long.MinValue)
        {
            Instruments.ProcessDuration.Record(_owner.TimeProvider.GetElapsedTime(_startTimestamp).TotalSeconds, tags);
        }
    }
}

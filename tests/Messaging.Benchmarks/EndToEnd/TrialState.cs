using System.Diagnostics;
using System.Globalization;
using Messaging.Benchmarks.Common;

namespace Messaging.Benchmarks.EndToEnd;

/// <summary>
/// What one trial's publisher and consumer record, per message index (the message id is the index in decimal): how
/// often it was consumed, the trace id the producer published under and the consumer's <see cref="Activity.Current"/>
/// trace id, as plain integers (nothing per message is retained on the heap). All arrays are allocated before the
/// measured section.
/// </summary>
public sealed class TrialState
{
    private readonly int[] _counts;
    private readonly TraceKey[] _consumerTrace;
    private readonly TraceKey[] _producerTrace;
    private readonly TaskCompletionSource _allConsumed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _distinct;
    private long _duplicates;
    private long _unknown;
    private long _publishFailures;
    private long _lastConsumeTimestamp;
    private Exception? _firstPublishError;

    public TrialState(int messages)
    {
        Messages = messages;
        _counts = new int[messages];
        _consumerTrace = new TraceKey[messages];
        _producerTrace = new TraceKey[messages];
    }

    public int Messages { get; }

    public int Distinct => Volatile.Read(ref _distinct);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long Unknown => Interlocked.Read(ref _unknown);

    public long PublishFailures => Interlocked.Read(ref _publishFailures);

    public Exception? FirstPublishError => Volatile.Read(ref _firstPublishError);

    /// <summary>Gets the <see cref="Stopwatch"/> timestamp of the consume that completed the set.</summary>
    public long LastConsumeTimestamp => Interlocked.Read(ref _lastConsumeTimestamp);

    public Task AllConsumed => _allConsumed.Task;

    /// <summary>Called by the consumer for each handled message.</summary>
    public void Consumed(string? messageId, ActivityTraceId consumerTraceId)
    {
        if (!int.TryParse(messageId, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            index = -1;
        }

        Consumed(index, consumerTraceId);
    }

    /// <summary>Called by a consumer that carries the message index itself (MassTransit: in the message).</summary>
    public void Consumed(int index, ActivityTraceId consumerTraceId)
    {
        if ((uint)index >= (uint)_counts.Length)
        {
            Interlocked.Increment(ref _unknown);
            return;
        }

        if (Interlocked.Increment(ref _counts[index]) != 1)
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }

        _consumerTrace[index] = TraceKey.From(consumerTraceId);
        if (Interlocked.Increment(ref _distinct) == _counts.Length)
        {
            Interlocked.Exchange(ref _lastConsumeTimestamp, Stopwatch.GetTimestamp());
            _allConsumed.TrySetResult();
        }
    }

    /// <summary>Called by the traced publisher after the send: the traceparent it injected.</summary>
    public void Published(int index, string? traceparent) => _producerTrace[index] = TraceKey.FromTraceparent(traceparent);

    /// <summary>
    /// Called by a consumer for a publisher that cannot see what it injected (RabbitMQ.Client injects into a copy of
    /// the caller's properties): the <c>traceparent</c> the message arrived with, as the UTF-8 bytes RabbitMQ.Client delivers.
    /// </summary>
    public void PublishedAsReceived(string? messageId, object? traceparent)
    {
        if (int.TryParse(messageId, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && (uint)index < (uint)_producerTrace.Length)
        {
            _producerTrace[index] = traceparent switch
            {
                byte[] bytes => TraceKey.FromTraceparent(bytes),
                string text => TraceKey.FromTraceparent(text),
                _ => default,
            };
        }
    }

    public void PublishFailed(Exception exception)
    {
        Interlocked.Increment(ref _publishFailures);
        Interlocked.CompareExchange(ref _firstPublishError, exception, null);
    }

    /// <summary>Messages whose consumer trace id differs from the trace id in the traceparent the producer injected.</summary>
    public int CountTraceMismatches()
    {
        var mismatches = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            if (_counts[i] == 0)
            {
                continue; // lost, counted separately
            }

            if (_producerTrace[i].IsEmpty || _producerTrace[i] != _consumerTrace[i])
            {
                mismatches++;
            }
        }

        return mismatches;
    }

    /// <summary>Messages that carry a consumer trace id (quiet and raw modes must have none).</summary>
    public int CountTraced()
    {
        var traced = 0;
        foreach (var id in _consumerTrace)
        {
            if (!id.IsEmpty)
            {
                traced++;
            }
        }

        return traced;
    }
}

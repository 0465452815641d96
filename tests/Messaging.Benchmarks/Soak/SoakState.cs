using System.Diagnostics;
using System.Globalization;
using Messaging.Benchmarks.Common;
using OpenTelemetry;

namespace Messaging.Benchmarks.Soak;

/// <summary>
/// Per message index (the message id): the root trace id it was published under, what the handler saw (as plain
/// integers: an <see cref="ActivityTraceId"/> would keep its hex string alive), and counters
/// of every way one message's context could bleed into another. Arrays are allocated up front, so the memory
/// checkpoints compare like with like.
/// </summary>
public sealed class SoakState
{
    public const string BaggageKey = "msg.id";
    public const string HandlerScratchKey = "handler.scratch";

    private readonly int[] _counts;
    private readonly TraceKey[] _producerTrace;
    private readonly TraceKey[] _consumerTrace;
    private readonly TaskCompletionSource _allConsumed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _samples = [];
    private int _distinct;
    private long _duplicates;
    private long _unknown;
    private long _carryOver;
    private long _producerBaggageWrong;
    private long _noActivity;
    private long _publishFailures;
    private Exception? _firstPublishError;

    public SoakState(int messages)
    {
        Ids = new string[messages];
        for (var i = 0; i < messages; i++)
        {
            Ids[i] = i.ToString(CultureInfo.InvariantCulture);
        }

        _counts = new int[messages];
        _producerTrace = new TraceKey[messages];
        _consumerTrace = new TraceKey[messages];
    }

    public string[] Ids { get; }

    public int Messages => _counts.Length;

    public int Distinct => Volatile.Read(ref _distinct);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long Unknown => Interlocked.Read(ref _unknown);

    /// <summary>Gets how many handlers saw baggage that was not exactly their own message's single member.</summary>
    public long CarryOver => Interlocked.Read(ref _carryOver);

    /// <summary>Gets how many published messages carried a baggage header other than their own.</summary>
    public long ProducerBaggageWrong => Interlocked.Read(ref _producerBaggageWrong);

    /// <summary>Gets how many handlers ran without a current Activity (tracing is on, so every one must have one).</summary>
    public long NoActivity => Interlocked.Read(ref _noActivity);

    public long PublishFailures => Interlocked.Read(ref _publishFailures);

    public Exception? FirstPublishError => Volatile.Read(ref _firstPublishError);

    public Task AllConsumed => _allConsumed.Task;

    public IReadOnlyList<string> Samples
    {
        get
        {
            lock (_samples)
            {
                return [.. _samples];
            }
        }
    }

    public void PublishedUnder(int index, ActivityTraceId traceId) => _producerTrace[index] = TraceKey.From(traceId);

    public void CheckProducerHeader(int index, object? baggageHeader)
    {
        var expected = BaggageKey + "=" + Ids[index];
        if (baggageHeader is not string text || !string.Equals(text, expected, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _producerBaggageWrong);
            Sample($"message {index}: producer injected baggage '{baggageHeader}', expected '{expected}'");
        }
    }

    public void PublishFailed(Exception exception)
    {
        Interlocked.Increment(ref _publishFailures);
        Interlocked.CompareExchange(ref _firstPublishError, exception, null);
    }

    /// <summary>The handler's checks, on entry: its trace, and baggage that is exactly its own message's.</summary>
    public int Handle(string? messageId)
    {
        if (!int.TryParse(messageId, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || (uint)index >= (uint)_counts.Length)
        {
            Interlocked.Increment(ref _unknown);
            return -1;
        }

        var activity = Activity.Current;
        if (activity is null)
        {
            Interlocked.Increment(ref _noActivity);
        }

        var baggage = Baggage.Current;
        if (baggage.Count != 1 || !string.Equals(baggage.GetBaggage(BaggageKey), Ids[index], StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _carryOver);
            Sample($"message {index}: handler saw baggage [{string.Join(", ", baggage.GetBaggage().Select(p => p.Key + "=" + p.Value))}]");
        }

        if (Interlocked.Increment(ref _counts[index]) != 1)
        {
            Interlocked.Increment(ref _duplicates);
            return index;
        }

        _consumerTrace[index] = activity is null ? default : TraceKey.From(activity.TraceId);
        if (Interlocked.Increment(ref _distinct) == _counts.Length)
        {
            _allConsumed.TrySetResult();
        }

        return index;
    }

    /// <summary>Consumed messages whose handler's trace id is not the root trace id the message was published under.</summary>
    public int CountTraceMismatches()
    {
        var mismatches = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            if (_counts[i] > 0 && (_producerTrace[i].IsEmpty || _producerTrace[i] != _consumerTrace[i]))
            {
                mismatches++;
            }
        }

        return mismatches;
    }

    /// <summary>Distinct root traces the messages were published under (each message must have its own).</summary>
    public int CountDistinctProducerTraces() => _producerTrace.Where(t => !t.IsEmpty).Distinct().Count();

    private void Sample(string text)
    {
        lock (_samples)
        {
            if (_samples.Count < 10)
            {
                _samples.Add(text);
            }
        }
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using OpenTelemetry;

namespace Messaging.Testing.Internal;

/// <summary>
/// The harness's view of one application: every publish its engine starts and every delivery its workers settle, with
/// the attempts in between. Called on the library's hot path while a test runs; never throws into it.
/// </summary>
internal sealed class HarnessObserver : IMessagingObserver
{
    private readonly object _gate = new();
    private readonly Dictionary<ReceivedMessage, HandlerAttempts> _inFlight = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentQueue<Exception> _failures = new();

    public Recording<ConsumedMessage> Consumed { get; } = new();

    public Recording<PublishedMessage> Published { get; } = new();

    /// <summary>Gets what went wrong while recording (reported with every timeout).</summary>
    public IReadOnlyCollection<Exception> Failures => _failures;

    public void ProducerStarted(in OutgoingMessage message, ProducerScope scope, ActivityContext injected, Baggage baggage)
    {
        try
        {
            Published.Add(new PublishedMessage(message, scope.Activity, injected, Describe.Copy(baggage)));
        }
#pragma warning disable CA1031 // Never into the library's send path.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _failures.Enqueue(ex);
        }
    }

    public void AttemptFinished(ConsumerWorker worker, ReceivedMessage message, int attempt, ConsumerScope scope, Exception? error)
    {
        try
        {
            lock (_gate)
            {
                if (!_inFlight.TryGetValue(message, out var attempts))
                {
                    attempts = new HandlerAttempts(worker.Name, message.Message.MessageId, message.Message.Destination);
                    _inFlight.Add(message, attempts);
                }

                attempts.Add(attempt, scope, error);
            }
        }
#pragma warning disable CA1031 // Never into the worker's pipeline.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _failures.Enqueue(ex);
        }
    }

    public void Settled(ConsumerWorker worker, ReceivedMessage message, IMessageSerializer serializer, ConsumerWorker.Outcome outcome, string reason, Exception? settleError)
    {
        try
        {
            HandlerAttempts? attempts;
            lock (_gate)
            {
                _inFlight.Remove(message, out attempts);
            }

            var settled = outcome switch
            {
                ConsumerWorker.Outcome.Ack => ConsumeOutcome.Acked,
                ConsumerWorker.Outcome.DeadLetter => ConsumeOutcome.DeadLettered,
                _ => ConsumeOutcome.Requeued,
            };
            Consumed.Add(new ConsumedMessage(worker, message, serializer, settled, reason, settleError, attempts));
        }
#pragma warning disable CA1031 // Never into the worker's pipeline.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _failures.Enqueue(ex);
        }
    }

    /// <summary>One line per delivery a handler ran for that is not settled yet.</summary>
    public string[] InProgress()
    {
        lock (_gate)
        {
            return [.. _inFlight.Values.Select(static a => a.Summary())];
        }
    }
}

using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Messaging;

/// <summary>Settlement outcomes of the worker: <c>messaging.consumer.settled.messages</c> tagged by <c>messaging.settlement</c>.</summary>
internal static class WorkerInstruments
{
    private static readonly Counter<long> Settled = MessagingTelemetry.Meter.CreateCounter<long>(
        "messaging.consumer.settled.messages", "{message}", "Messages settled by a consumer worker, by outcome (ack, dead_letter, requeue, revoked).");

    public static void Record(in IncomingMessage message, ConsumerWorker.Outcome outcome)
    {
        if (!Settled.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { SemanticConventions.MessagingSystem, message.System },
            { SemanticConventions.DestinationName, message.Destination },
            {
                "messaging.settlement", outcome switch
                {
                    ConsumerWorker.Outcome.Ack => "ack",
                    ConsumerWorker.Outcome.DeadLetter => "dead_letter",
                    ConsumerWorker.Outcome.Revoked => "revoked",
                    _ => "requeue",
                }
            },
        };
        Settled.Add(1, tags);
    }
}

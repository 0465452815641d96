using System.Diagnostics;
using OpenTelemetry;

namespace Messaging;

/// <summary>
/// Sees what one application's engine and workers do with each message: a publish as it starts, each handler
/// attempt as it ends, and each settlement. Registered in dependency injection, it is handed to the
/// <see cref="MessagingInstrumentation"/> that <c>AddMessaging</c> builds; without one, every call site is a null
/// check. For the test harness; not a public extension point. Calls must be quick and must not throw.
/// </summary>
internal interface IMessagingObserver
{
    /// <summary>A PRODUCER scope started and context was injected.</summary>
    /// <param name="message">What is being sent.</param>
    /// <param name="scope">The scope (its span, if recorded, stops when the send completed).</param>
    /// <param name="injected">The trace context written into the headers; invalid when none was.</param>
    /// <param name="baggage">The baggage written into the headers, after the outbound policy.</param>
    void ProducerStarted(in OutgoingMessage message, ProducerScope scope, ActivityContext injected, Baggage baggage);

    /// <summary>A handler attempt ended, before its CONSUMER span stops.</summary>
    /// <param name="worker">The worker.</param>
    /// <param name="message">The received message (the same instance for every attempt and the settlement).</param>
    /// <param name="attempt">The attempt number, from 1.</param>
    /// <param name="scope">The attempt's consumer scope.</param>
    /// <param name="error">What the handler threw, or <see langword="null"/> when it completed.</param>
    void AttemptFinished(ConsumerWorker worker, ReceivedMessage message, int attempt, ConsumerScope scope, Exception? error);

    /// <summary>The worker settled a message (or tried to).</summary>
    /// <param name="worker">The worker.</param>
    /// <param name="message">The received message; its body is valid only during this call.</param>
    /// <param name="serializer">The serializer the worker reads bodies with.</param>
    /// <param name="outcome">How it was settled.</param>
    /// <param name="reason">The dead-letter or requeue reason; empty for an ack.</param>
    /// <param name="settleError">What the transport threw while settling, or <see langword="null"/>.</param>
    void Settled(ConsumerWorker worker, ReceivedMessage message, IMessageSerializer serializer, ConsumerWorker.Outcome outcome, string reason, Exception? settleError);
}

using System.Diagnostics;

namespace Messaging;

/// <summary>What a confirmed publish returns, to correlate it with the message and its trace.</summary>
/// <param name="MessageId">The message id the message was sent with (assigned when none was given).</param>
/// <param name="ProducerContext">
/// The context injected into the message: its PRODUCER span's, or the current context when no span was recorded;
/// <see langword="default"/> when there was none.
/// </param>
/// <param name="Attempts">How many attempts it took; more than 1 means the broker may hold duplicates (same message id).</param>
public readonly record struct PublishResult(string MessageId, ActivityContext ProducerContext, int Attempts);

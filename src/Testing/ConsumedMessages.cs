namespace Messaging.Testing;

/// <summary>
/// The messages the host's workers handled and settled, in settlement order, and ways to wait for them. Every wait
/// has a timeout (the harness's <see cref="MessagingTestHarness.Timeout"/> unless given) and, when it runs out,
/// throws a <see cref="MessagingTestHarnessException"/> listing what was handled, what is still being handled and
/// what was published instead.
/// </summary>
public sealed class ConsumedMessages
{
    private readonly MessagingTestHarness _harness;
    private readonly Internal.Recording<ConsumedMessage> _recording;
    private int _next;

    internal ConsumedMessages(MessagingTestHarness harness, Internal.Recording<ConsumedMessage> recording)
    {
        _harness = harness;
        _recording = recording;
    }

    /// <summary>Gets the messages settled so far, in order (a copy).</summary>
    public IReadOnlyList<ConsumedMessage> All => _recording.Snapshot();

    /// <summary>Gets how many messages were settled so far.</summary>
    public int Count => _recording.Count;

    /// <summary>Waits until a message with <paramref name="messageId"/> was handled and settled, whatever the outcome.</summary>
    /// <param name="messageId">The message id (for example <see cref="PublishResult.MessageId"/>).</param>
    /// <param name="timeout">How long to wait; the harness's timeout when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The first settlement of that message.</returns>
    /// <exception cref="MessagingTestHarnessException">It was not settled in time; the message lists what was seen instead.</exception>
    public Task<ConsumedMessage> WaitForMessageIdAsync(string messageId, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        return WaitForCoreAsync(m => string.Equals(m.MessageId, messageId, StringComparison.Ordinal), $"message '{messageId}' to be handled", timeout, cancellationToken);
    }

    /// <summary>Waits until a handled message matches <paramref name="predicate"/>.</summary>
    /// <param name="predicate">The condition; called under the harness's lock, keep it quick.</param>
    /// <param name="timeout">How long to wait; the harness's timeout when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The first matching message.</returns>
    /// <exception cref="MessagingTestHarnessException">None matched in time; the message lists what was seen instead.</exception>
    public Task<ConsumedMessage> WaitForAsync(Func<ConsumedMessage, bool> predicate, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return WaitForCoreAsync(predicate, "a handled message matching the condition", timeout, cancellationToken);
    }

    /// <summary>
    /// Waits until a worker of <typeparamref name="T"/> handled a message whose body (deserialised with the worker's
    /// serializer) matches <paramref name="predicate"/>.
    /// </summary>
    /// <typeparam name="T">The worker's message type, or a type it derives from.</typeparam>
    /// <param name="predicate">The condition on the body.</param>
    /// <param name="timeout">How long to wait; the harness's timeout when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The first matching message; <see cref="ConsumedMessage.GetBody{T}"/> gives its body.</returns>
    /// <exception cref="MessagingTestHarnessException">None matched in time; the message lists what was seen instead.</exception>
    public Task<ConsumedMessage> WaitForBodyAsync<T>(Func<T, bool> predicate, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return WaitForCoreAsync(m => m.Matches(predicate), $"a handled {typeof(T).Name} matching the condition", timeout, cancellationToken);
    }

    /// <summary>
    /// Waits for the next <paramref name="count"/> settled messages: those after the ones earlier calls of this method
    /// returned (the first call starts at the first message the harness saw), so no message is missed or returned twice.
    /// </summary>
    /// <param name="count">How many.</param>
    /// <param name="timeout">How long to wait; the harness's timeout when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The messages, in settlement order.</returns>
    /// <exception cref="MessagingTestHarnessException">Fewer were settled in time; the message lists what was seen instead.</exception>
    public async Task<IReadOnlyList<ConsumedMessage>> NextAsync(int count = 1, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var expectation = count == 1 ? "the next message to be handled" : $"the next {count} messages to be handled";
        return await _harness.WaitAsync(
            _recording,
            items =>
            {
                if (items.Count - _next < count)
                {
                    return null;
                }

                var taken = items.Skip(_next).Take(count).ToArray();
                _next += count;
                return taken;
            },
            expectation,
            timeout,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits until a handled message matches <paramref name="filter"/> (any message when <see langword="null"/>), and
    /// says whether one did — <see langword="false"/> on timeout rather than an exception.
    /// </summary>
    /// <param name="filter">The condition, or <see langword="null"/>.</param>
    /// <param name="timeout">How long to wait; the harness's timeout when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>Whether a message matched in time.</returns>
    public Task<bool> AnyAsync(Func<ConsumedMessage, bool>? filter = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        _harness.AnyAsync(_recording, filter ?? (static _ => true), timeout, cancellationToken);

    /// <summary>
    /// Waits until a worker of <typeparamref name="T"/> handled a message whose body matches <paramref name="filter"/>
    /// (any when <see langword="null"/>), and says whether one did; <see langword="false"/> on timeout.
    /// </summary>
    /// <typeparam name="T">The worker's message type, or a type it derives from.</typeparam>
    /// <param name="filter">The condition on the body, or <see langword="null"/>.</param>
    /// <param name="timeout">How long to wait; the harness's timeout when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>Whether a message matched in time.</returns>
    public Task<bool> AnyAsync<T>(Func<T, bool>? filter = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        _harness.AnyAsync(_recording, m => m.Matches(filter), timeout, cancellationToken);

    private async Task<ConsumedMessage> WaitForCoreAsync(Func<ConsumedMessage, bool> predicate, string expectation, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var found = await _harness.WaitAsync(_recording, MessagingTestHarness.First(predicate), expectation, timeout, cancellationToken).ConfigureAwait(false);
        return found[0];
    }
}

namespace Messaging.Testing;

/// <summary>
/// The publishes the host's engine started, in order, and ways to wait for them. A wait that runs out of time throws
/// a <see cref="MessagingTestHarnessException"/> listing what was seen instead.
/// </summary>
public sealed class PublishedMessages
{
    private readonly MessagingTestHarness _harness;
    private readonly Internal.Recording<PublishedMessage> _recording;

    internal PublishedMessages(MessagingTestHarness harness, Internal.Recording<PublishedMessage> recording)
    {
        _harness = harness;
        _recording = recording;
    }

    /// <summary>Gets the publishes started so far, in order (a copy).</summary>
    public IReadOnlyList<PublishedMessage> All => _recording.Snapshot();

    /// <summary>Gets how many publishes were started so far.</summary>
    public int Count => _recording.Count;

    /// <summary>Waits until a message with <paramref name="messageId"/> was published.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="timeout">How long to wait; the harness's timeout when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The first publish with that id.</returns>
    /// <exception cref="MessagingTestHarnessException">None in time; the message lists what was seen instead.</exception>
    public Task<PublishedMessage> WaitForMessageIdAsync(string messageId, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        return WaitForCoreAsync(m => string.Equals(m.MessageId, messageId, StringComparison.Ordinal), $"message '{messageId}' to be published", timeout, cancellationToken);
    }

    /// <summary>Waits until a publish matches <paramref name="predicate"/> (for example a handler publishing onward to a queue).</summary>
    /// <param name="predicate">The condition; called under the harness's lock, keep it quick.</param>
    /// <param name="timeout">How long to wait; the harness's timeout when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The first matching publish.</returns>
    /// <exception cref="MessagingTestHarnessException">None matched in time; the message lists what was seen instead.</exception>
    public Task<PublishedMessage> WaitForAsync(Func<PublishedMessage, bool> predicate, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return WaitForCoreAsync(predicate, "a publish matching the condition", timeout, cancellationToken);
    }

    /// <summary>Waits until a publish matches <paramref name="filter"/> (any when <see langword="null"/>), and says whether one did; <see langword="false"/> on timeout.</summary>
    /// <param name="filter">The condition, or <see langword="null"/>.</param>
    /// <param name="timeout">How long to wait; the harness's timeout when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>Whether a publish matched in time.</returns>
    public Task<bool> AnyAsync(Func<PublishedMessage, bool>? filter = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        _harness.AnyAsync(_recording, filter ?? (static _ => true), timeout, cancellationToken);

    private async Task<PublishedMessage> WaitForCoreAsync(Func<PublishedMessage, bool> predicate, string expectation, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var found = await _harness.WaitAsync(_recording, MessagingTestHarness.First(predicate), expectation, timeout, cancellationToken).ConfigureAwait(false);
        return found[0];
    }
}

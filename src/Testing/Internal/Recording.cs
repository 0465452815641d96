namespace Messaging.Testing.Internal;

/// <summary>
/// An append-only list that tests can wait on: a condition is checked against everything recorded so far, then again
/// on every addition, until it holds or the wait times out. Thread-safe.
/// </summary>
/// <typeparam name="T">What is recorded.</typeparam>
internal sealed class Recording<T> : LockedList<T>
    where T : class
{
    private readonly List<Waiter> _waiters = [];

    /// <summary>Records an item and completes every wait whose condition now holds.</summary>
    /// <param name="item">The item.</param>
    public void Add(T item)
    {
        lock (Gate)
        {
            Items.Add(item);
            for (var i = 0; i < _waiters.Count;)
            {
                var waiter = _waiters[i];
                if (waiter.Condition(Items) is { } result)
                {
                    _waiters.RemoveAt(i);
                    waiter.Completion.TrySetResult(result);
                }
                else
                {
                    i++;
                }
            }
        }
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> returns a result. It is called under this recording's lock with
    /// everything recorded so far; it may update its own state when it returns a result (that happens once).
    /// </summary>
    /// <param name="condition">Returns the matching items, or <see langword="null"/> while there are none.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="timeProvider">The clock of the timeout.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The result, or <see langword="null"/> when the wait timed out.</returns>
    public async Task<IReadOnlyList<T>?> WaitAsync(
        Func<IReadOnlyList<T>, IReadOnlyList<T>?> condition,
        TimeSpan timeout,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (Gate)
        {
            if (condition(Items) is { } now)
            {
                return now;
            }

            waiter = new Waiter(condition);
            _waiters.Add(waiter);
        }

        try
        {
            return await waiter.Completion.Task.WaitAsync(timeout, timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            lock (Gate)
            {
                _waiters.Remove(waiter);
            }

            // Completed while the timeout fired: the condition already took its items, so return them.
            if (waiter.Completion.Task.IsCompletedSuccessfully)
            {
                return waiter.Completion.Task.Result;
            }

            if (ex is OperationCanceledException)
            {
                throw;
            }

            return null;
        }
    }

    private sealed class Waiter(Func<IReadOnlyList<T>, IReadOnlyList<T>?> condition)
    {
        public Func<IReadOnlyList<T>, IReadOnlyList<T>?> Condition { get; } = condition;

        public TaskCompletionSource<IReadOnlyList<T>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

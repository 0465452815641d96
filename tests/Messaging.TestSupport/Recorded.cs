using System.Collections.Concurrent;

namespace Messaging.Tests.Support;

/// <summary>What a test's workers recorded, in order, with a wait for a count: the in-process way to await handlers.</summary>
/// <typeparam name="T">What is recorded.</typeparam>
public sealed class Recorded<T>
{
    private readonly ConcurrentQueue<T> _items = new();
    private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];
    private readonly object _gate = new();
    private int _count;

    /// <summary>Gets the items recorded so far.</summary>
    public IReadOnlyCollection<T> Items => _items;

    /// <summary>Records <paramref name="item"/> and releases the waits it completes.</summary>
    /// <param name="item">The item.</param>
    public void Add(T item)
    {
        _items.Enqueue(item);
        List<TaskCompletionSource> ready = [];
        lock (_gate)
        {
            _count++;
            _waiters.RemoveAll(w =>
            {
                if (w.Count <= _count)
                {
                    ready.Add(w.Done);
                    return true;
                }

                return false;
            });
        }

        ready.ForEach(static d => d.TrySetResult());
    }

    /// <summary>Waits until <paramref name="count"/> items were recorded.</summary>
    /// <param name="count">How many.</param>
    /// <param name="timeout">How long to wait; 30 s when not given.</param>
    /// <returns>A task that completes when they were, or fails with a <see cref="TimeoutException"/>.</returns>
    public Task WaitForAsync(int count, TimeSpan? timeout = null)
    {
        lock (_gate)
        {
            if (_count >= count)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, done));
            return done.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        }
    }
}

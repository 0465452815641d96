namespace Messaging.Testing.Internal;

/// <summary>
/// A list that is written while tests read it: every access takes <see cref="Gate"/>, and readers get copies.
/// </summary>
/// <typeparam name="T">The item.</typeparam>
internal abstract class LockedList<T>
{
    /// <summary>Gets the lock every access of <see cref="Items"/> takes.</summary>
    protected object Gate { get; } = new();

    /// <summary>Gets the items; only under <see cref="Gate"/>.</summary>
    protected List<T> Items { get; } = [];

    /// <summary>Gets how many items there are.</summary>
    public int Count
    {
        get
        {
            lock (Gate)
            {
                return Items.Count;
            }
        }
    }

    /// <summary>Returns a copy of the items, in order.</summary>
    /// <returns>The items.</returns>
    public T[] Snapshot()
    {
        lock (Gate)
        {
            return [.. Items];
        }
    }
}

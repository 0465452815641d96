using System.Collections;

namespace Messaging.Testing.Internal;

/// <summary>
/// The collection the in-memory exporters write into: they add from the SDK's export thread while a test reads.
/// </summary>
/// <typeparam name="T">The exported item.</typeparam>
internal sealed class LockedCollection<T> : LockedList<T>, ICollection<T>
{
    public bool IsReadOnly => false;

    public void Add(T item)
    {
        lock (Gate)
        {
            Items.Add(item);
        }
    }

    public void Clear()
    {
        lock (Gate)
        {
            Items.Clear();
        }
    }

    public bool Contains(T item)
    {
        lock (Gate)
        {
            return Items.Contains(item);
        }
    }

    public void CopyTo(T[] array, int arrayIndex)
    {
        lock (Gate)
        {
            Items.CopyTo(array, arrayIndex);
        }
    }

    public bool Remove(T item)
    {
        lock (Gate)
        {
            return Items.Remove(item);
        }
    }

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)Snapshot()).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

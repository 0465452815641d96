using System.Collections;
using Microsoft.Azure.Amqp.Encoding;

namespace Messaging.ServiceBus.TestBroker.Internal;

/// <summary>
/// Deep copies of decoded AMQP values. A received message's binary values point into pooled transport
/// buffers that are reused once the transfer has been processed, so everything the broker keeps is copied.
/// </summary>
internal static class AmqpValues
{
    public static object? Copy(object? value) => value switch
    {
        null => null,
        ArraySegment<byte> segment => segment.Array is null ? segment : new ArraySegment<byte>(segment.AsSpan().ToArray()),
        AmqpMap map => CopyMap(map),
        DescribedType described => new DescribedType(Copy(described.Descriptor), Copy(described.Value)),
        Array array => (Array)array.Clone(),
        IList list => CopyList(list),
        _ => value,
    };

    public static AmqpMap CopyMap(AmqpMap map)
    {
        var copy = new AmqpMap();
        foreach (var pair in map)
        {
            copy[new MapKey(Copy(pair.Key.Key))] = Copy(pair.Value);
        }

        return copy;
    }

    public static List<object?> CopyList(IList list)
    {
        var copy = new List<object?>(list.Count);
        foreach (var item in list)
        {
            copy.Add(Copy(item));
        }

        return copy;
    }

    /// <summary>The key of a decoded map entry as a string (AMQP symbols and strings alike).</summary>
    public static string? KeyText(MapKey key) => key.Key switch
    {
        null => null,
        AmqpSymbol symbol => symbol.Value,
        string text => text,
        var other => other.ToString(),
    };
}

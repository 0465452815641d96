using System.Runtime.CompilerServices;

namespace Messaging.Benchmarks.Common;

/// <summary>
/// A serializer that hands the body bytes through untouched (<c>T</c> = <see cref="ReadOnlyMemory{T}"/> of bytes),
/// so the harness measures propagation and transport, not JSON. No allocation, no copy.
/// </summary>
public sealed class RawBytesSerializer : IMessageSerializer
{
    public static readonly RawBytesSerializer Instance = new();

    public string ContentType => "application/octet-stream";

    public ReadOnlyMemory<byte> Serialize<T>(T value)
    {
        if (typeof(T) == typeof(ReadOnlyMemory<byte>))
        {
            return Unsafe.As<T, ReadOnlyMemory<byte>>(ref value);
        }

        throw new NotSupportedException($"{nameof(RawBytesSerializer)} only handles ReadOnlyMemory<byte>, not {typeof(T)}.");
    }

    public T Deserialize<T>(ReadOnlyMemory<byte> body)
    {
        if (typeof(T) == typeof(ReadOnlyMemory<byte>))
        {
            return Unsafe.As<ReadOnlyMemory<byte>, T>(ref body);
        }

        throw new NotSupportedException($"{nameof(RawBytesSerializer)} only handles ReadOnlyMemory<byte>, not {typeof(T)}.");
    }
}

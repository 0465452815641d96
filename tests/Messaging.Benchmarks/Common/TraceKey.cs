using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;

namespace Messaging.Benchmarks.Common;

/// <summary>
/// A trace id as two integers. <see cref="ActivityTraceId"/> holds its hex string, so keeping one per message would
/// retain ~90 B per message (skewing the memory checkpoints and adding GC work to the traced modes only).
/// </summary>
public readonly record struct TraceKey(ulong High, ulong Low)
{
    public bool IsEmpty => High == 0 && Low == 0;

    public static TraceKey From(ActivityTraceId traceId) =>
        traceId == default ? default : FromHex(traceId.ToHexString()); // the id holds its hex text: no conversion to bytes

    /// <summary>The trace id of a version-00 <c>traceparent</c> value, or empty when it is not one.</summary>
    public static TraceKey FromTraceparent(string? traceparent) =>
        traceparent is null || traceparent.Length < 35 ? default : FromHex(traceparent.AsSpan(3, 32));

    /// <summary>The trace id of a version-00 <c>traceparent</c> value in UTF-8, or empty when it is not one.</summary>
    public static TraceKey FromTraceparent(ReadOnlySpan<byte> traceparent)
    {
        if (traceparent.Length < 35)
        {
            return default;
        }

        Span<char> hex = stackalloc char[32];
        for (var i = 0; i < hex.Length; i++)
        {
            hex[i] = (char)traceparent[3 + i];
        }

        return FromHex(hex);
    }

    private static TraceKey FromHex(ReadOnlySpan<char> hex)
    {
        Span<byte> bytes = stackalloc byte[16];
        return Convert.FromHexString(hex, bytes, out _, out var written) == OperationStatus.Done && written == 16
            ? new TraceKey(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]))
            : default;
    }
}

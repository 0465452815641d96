using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;

namespace Messaging.Benchmarks.Common;

/// <summary>
/// A trace id as two integers. <see cref="ActivityTraceId"/> holds its hex string, so keeping one per message would
/// retain ~90 B per message (skewing the memory checkpoints and adding GC work to the traced modes only).
/// </summary>
public readonly record struct TraceKey(ulong High, ulong Low)
{
    public bool IsEmpty => High == 0 && Low == 0;

    public static TraceKey From(ActivityTraceId traceId)
    {
        if (traceId == default)
        {
            return default;
        }

        Span<byte> bytes = stackalloc byte[16];
        traceId.CopyTo(bytes);
        return new TraceKey(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
    }

    /// <summary>The trace id of a version-00 <c>traceparent</c> value, or empty when it is not one.</summary>
    public static TraceKey FromTraceparent(string? traceparent)
    {
        if (traceparent is null || traceparent.Length < 35
            || !ulong.TryParse(traceparent.AsSpan(3, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var high)
            || !ulong.TryParse(traceparent.AsSpan(19, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var low))
        {
            return default;
        }

        return new TraceKey(high, low);
    }
}

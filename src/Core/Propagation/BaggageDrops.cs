namespace Messaging.Propagation;

/// <summary>Reasons and directions with which dropped baggage members are counted on <c>messaging.propagation.baggage.dropped</c>.</summary>
internal static class BaggageDrops
{
    /// <summary>A member that does not follow the W3C Baggage grammar (bad key, missing <c>=</c>, bad percent escape).</summary>
    public const string Malformed = "malformed";

    /// <summary>A member beyond the member limit.</summary>
    public const string MemberLimit = "member_limit";

    /// <summary>A member that would exceed the byte limit.</summary>
    public const string ByteLimit = "byte_limit";

    /// <summary>A key or (decoded) value containing CR, LF or NUL.</summary>
    public const string InvalidCharacters = "invalid_characters";

    /// <summary>Members dropped while extracting.</summary>
    public const string Inbound = "inbound";

    /// <summary>Members dropped while injecting.</summary>
    public const string Outbound = "outbound";

    /// <summary>Counts <paramref name="count"/> dropped members, when there are any.</summary>
    /// <param name="count">How many members were dropped.</param>
    /// <param name="reason">One of the reason constants.</param>
    /// <param name="direction"><see cref="Inbound"/> or <see cref="Outbound"/>.</param>
    public static void Count(int count, string reason, string direction)
    {
        if (count > 0)
        {
            Instruments.BaggageDropped.Add(
                count,
                new KeyValuePair<string, object?>("reason", reason),
                new KeyValuePair<string, object?>("direction", direction));
        }
    }
}

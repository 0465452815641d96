namespace Messaging;

/// <summary>
/// Which baggage members may cross a boundary, and how much of it.
/// </summary>
/// <remarks>
/// <para>
/// Members are checked in this order: key deny-list, key allow-list, characters (a key or decoded value
/// containing CR, LF or NUL is refused), then limits. When the members exceed <see cref="MaxMembers"/> or
/// <see cref="MaxBytes"/>, whole members are dropped — never a part of one — in a deterministic order: members are
/// taken in ordinal key order and each one that would push the total over a limit is dropped, while later members
/// that still fit are kept. The size of a member is its encoded size on the wire (<c>key=value</c> with the value
/// percent-encoded), and separators count.
/// </para>
/// <para>Every drop is counted on <c>messaging.propagation.baggage.dropped</c> and logged, rate-limited, once per cause.</para>
/// </remarks>
public sealed class BaggagePolicy
{
    /// <summary>The W3C minimum: propagators must carry at least this many members.</summary>
    public const int DefaultMaxMembers = 64;

    /// <summary>The W3C minimum: propagators must carry at least this many bytes.</summary>
    public const int DefaultMaxBytes = 8192;

    /// <summary>
    /// Gets the keys allowed to cross. Empty (the default) allows every key not denied.
    /// Exact names, matched ignoring case (as OpenTelemetry matches baggage keys); a name ending in <c>*</c> is a prefix (<c>tenant.*</c>).
    /// </summary>
    public ISet<string> AllowedKeys { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Gets the keys never allowed to cross (for example secrets: <c>auth.token</c>). Deny wins over allow.
    /// Exact names, matched ignoring case (as OpenTelemetry matches baggage keys); a name ending in <c>*</c> is a prefix.
    /// </summary>
    public ISet<string> DeniedKeys { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets or sets the maximum number of members. Default: 64. Must be at least 1.</summary>
    public int MaxMembers { get; set; } = DefaultMaxMembers;

    /// <summary>Gets or sets the maximum encoded size of the baggage in bytes. Default: 8192. Must be at least 1.</summary>
    public int MaxBytes { get; set; } = DefaultMaxBytes;

    internal void Validate(string name, ICollection<string> errors)
    {
        if (MaxMembers < 1)
        {
            errors.Add($"{name}.{nameof(MaxMembers)} must be at least 1 (was {MaxMembers}).");
        }

        if (MaxBytes < 1)
        {
            errors.Add($"{name}.{nameof(MaxBytes)} must be at least 1 (was {MaxBytes}).");
        }
    }
}

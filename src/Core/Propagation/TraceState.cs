namespace Messaging.Propagation;

/// <summary>
/// Parsing and normalisation of the W3C <c>tracestate</c> header (Trace Context Level 2, section 3.3).
/// </summary>
/// <remarks>
/// The output is the list-members joined by a comma without white space. Empty members are skipped; a key seen
/// before keeps its first occurrence; the list is cut to <see cref="MaxMembers"/> members and
/// <see cref="MaxLength"/> characters by dropping whole members from the end. Any malformed member (anywhere in the
/// input, also past the cut) discards the whole header.
/// </remarks>
internal static class TraceState
{
    /// <summary>The most list-members propagated.</summary>
    public const int MaxMembers = 32;

    /// <summary>The most characters propagated, separators included.</summary>
    public const int MaxLength = 512;

    private const int MaxKeyLength = 256;
    private const int MaxTenantLength = 241;
    private const int MaxSystemLength = 14;
    private const int MaxValueLength = 256;

    /// <summary>Combines and normalises the values a getter returned for <c>tracestate</c>.</summary>
    /// <param name="values">The values; <see langword="null"/> entries are ignored.</param>
    /// <returns>The normalised header, or <see langword="null"/> when absent, empty or malformed.</returns>
    public static string? Parse(IEnumerable<string>? values)
    {
        if (values is null)
        {
            return null;
        }

        Span<char> buffer = stackalloc char[MaxLength];
        Span<int> keyStarts = stackalloc int[MaxMembers];
        Span<int> keyLengths = stackalloc int[MaxMembers];
        var builder = new Builder(buffer, keyStarts, keyLengths);
        string? only = null;
        var valueCount = 0;

        if (values is IReadOnlyList<string> list)
        {
            for (var i = 0; i < list.Count; i++)
            {
                var value = list[i];
                if (value is not null && !Accept(ref builder, value, ref only, ref valueCount))
                {
                    return null;
                }
            }
        }
        else
        {
            foreach (var value in values)
            {
                if (value is not null && !Accept(ref builder, value, ref only, ref valueCount))
                {
                    return null;
                }
            }
        }

        return builder.ToResult(valueCount == 1 ? only : null);
    }

    /// <summary>Normalises one <c>tracestate</c> value (for example an activity's, before it is injected).</summary>
    /// <param name="value">The value.</param>
    /// <returns>The normalised header (the same instance when already normal), or <see langword="null"/>.</returns>
    public static string? Normalize(string value)
    {
        Span<char> buffer = stackalloc char[MaxLength];
        Span<int> keyStarts = stackalloc int[MaxMembers];
        Span<int> keyLengths = stackalloc int[MaxMembers];
        var builder = new Builder(buffer, keyStarts, keyLengths);
        return builder.Add(value) ? builder.ToResult(value) : null;
    }

    private static bool Accept(ref Builder builder, string value, ref string? only, ref int valueCount)
    {
        valueCount++;
        only = value;
        return builder.Add(value);
    }

    /// <summary>Whether <paramref name="key"/> is a <c>simple-key</c> or <c>multi-tenant-key</c>.</summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> when valid.</returns>
    internal static bool IsValidKey(ReadOnlySpan<char> key)
    {
        var at = key.IndexOf('@');
        if (at < 0)
        {
            // simple-key = lcalpha 0*255( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
            return key.Length is > 0 and <= MaxKeyLength && IsLcAlpha(key[0]) && AreKeyChars(key[1..]);
        }

        // multi-tenant-key = tenant-id "@" system-id
        // tenant-id = ( lcalpha / DIGIT ) 0*240( keychar ); system-id = lcalpha 0*13( keychar )
        var tenant = key[..at];
        var system = key[(at + 1)..];
        return tenant.Length is > 0 and <= MaxTenantLength
            && (IsLcAlpha(tenant[0]) || char.IsAsciiDigit(tenant[0]))
            && AreKeyChars(tenant[1..])
            && system.Length is > 0 and <= MaxSystemLength
            && IsLcAlpha(system[0])
            && AreKeyChars(system[1..]);
    }

    /// <summary>Whether <paramref name="value"/> is 1–256 printable ASCII characters other than <c>,</c> and <c>=</c>, not ending in a space.</summary>
    /// <param name="value">The value.</param>
    /// <returns><see langword="true"/> when valid.</returns>
    internal static bool IsValidValue(ReadOnlySpan<char> value)
    {
        if (value.Length is 0 or > MaxValueLength || value[^1] == ' ')
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is < ' ' or > '~' or ',' or '=')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsLcAlpha(char c) => c is >= 'a' and <= 'z';

    private static bool AreKeyChars(ReadOnlySpan<char> chars)
    {
        foreach (var c in chars)
        {
            if (!(IsLcAlpha(c) || char.IsAsciiDigit(c) || c is '_' or '-' or '*' or '/'))
            {
                return false;
            }
        }

        return true;
    }

    private ref struct Builder
    {
        private readonly Span<char> _buffer;
        private readonly Span<int> _keyStarts;
        private readonly Span<int> _keyLengths;
        private int _length;
        private int _count;
        private bool _full;

        public Builder(Span<char> buffer, Span<int> keyStarts, Span<int> keyLengths)
        {
            _buffer = buffer;
            _keyStarts = keyStarts;
            _keyLengths = keyLengths;
        }

        /// <summary>Adds the members of one header value; <see langword="false"/> when a member is malformed.</summary>
        public bool Add(ReadOnlySpan<char> text)
        {
            while (true)
            {
                var comma = text.IndexOf(',');
                var member = PropagationHelpers.TrimOws(comma < 0 ? text : text[..comma]);
                if (!member.IsEmpty && !AddMember(member))
                {
                    return false;
                }

                if (comma < 0)
                {
                    return true;
                }

                text = text[(comma + 1)..];
            }
        }

        public readonly string? ToResult(string? original)
        {
            if (_count == 0)
            {
                return null;
            }

            var result = _buffer[.._length];
            return original is not null && result.SequenceEqual(original) ? original : new string(result);
        }

        private bool AddMember(ReadOnlySpan<char> member)
        {
            var equals = member.IndexOf('=');
            if (equals <= 0)
            {
                return false;
            }

            var key = member[..equals];
            if (!IsValidKey(key) || !IsValidValue(member[(equals + 1)..]))
            {
                return false;
            }

            if (_full || IsDuplicate(key))
            {
                return true;
            }

            var needed = member.Length + (_length > 0 ? 1 : 0);
            if (_count == MaxMembers || _length + needed > MaxLength)
            {
                // Whole entries are dropped from the end: once one does not fit, nothing after it is kept.
                _full = true;
                return true;
            }

            if (_length > 0)
            {
                _buffer[_length++] = ',';
            }

            _keyStarts[_count] = _length;
            _keyLengths[_count] = key.Length;
            member.CopyTo(_buffer[_length..]);
            _length += member.Length;
            _count++;
            return true;
        }

        private readonly bool IsDuplicate(ReadOnlySpan<char> key)
        {
            for (var i = 0; i < _count; i++)
            {
                if (key.SequenceEqual(_buffer.Slice(_keyStarts[i], _keyLengths[i])))
                {
                    return true;
                }
            }

            return false;
        }
    }
}

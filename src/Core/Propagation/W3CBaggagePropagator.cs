using System.Buffers;
using System.Text;
using OpenTelemetry.Context.Propagation;

namespace Messaging.Propagation;

/// <summary>
/// Propagates OpenTelemetry <see cref="OpenTelemetry.Baggage"/> in the W3C Baggage <c>baggage</c> header.
/// </summary>
/// <remarks>
/// <para>
/// Values are percent-encoded per RFC 3986 as W3C Baggage requires: a space is <c>%20</c>, <c>%</c> is <c>%25</c>
/// and <c>+</c> is a literal plus sign in both directions (unlike form encoding). Non-ASCII text travels as
/// percent-encoded UTF-8; invalid UTF-8 decodes to U+FFFD.
/// </para>
/// <para>
/// Extract combines all <c>baggage</c> values, trims optional white space around keys, values and separators, ignores
/// member properties (after <c>;</c>) and merges the members into the incoming context's baggage (a repeated key: the
/// last wins). A malformed member — a key that is not an RFC 7230 token, no <c>=</c>, an invalid percent escape, a raw
/// control character — is dropped while its valid neighbours are kept; a key or decoded value containing CR, LF or
/// NUL is refused. Other raw characters outside the baggage-octet set that are unambiguous (an inner space, a quote,
/// a backslash, non-ASCII text) are tolerated and kept literally. At most <see cref="MaxMembers"/> members and <see cref="MaxBytes"/> bytes of member text
/// (separators included) are taken over all values; once a member would exceed a limit, it and every member after it
/// are dropped whole. Extract never throws.
/// </para>
/// <para>
/// Inject writes members in ordinal key order; a member whose key is not a token, which contains CR, LF or NUL, or
/// which would exceed a limit is dropped whole and later members that still fit are kept. No header is written when
/// no member remains. Every dropped member is counted on the <c>messaging.propagation.baggage.dropped</c> counter.
/// </para>
/// </remarks>
public sealed class W3CBaggagePropagator : TextMapPropagator
{
    /// <summary>The <c>baggage</c> header name.</summary>
    internal const string BaggageHeader = "baggage";

    /// <summary>The default member limit (the W3C minimum that must always be propagated).</summary>
    public const int DefaultMaxMembers = 64;

    /// <summary>The default byte limit (the W3C minimum that must always be propagated).</summary>
    public const int DefaultMaxBytes = 8192;

    private const int StackDecodeBytes = 512;

    private static readonly ISet<string> FieldSet = PropagationHelpers.Fields(BaggageHeader);

    // RFC 7230 tchar.
    private static readonly SearchValues<char> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    // Written literally in an encoded value: printable ASCII except space " , ; \ and %.
    private static readonly SearchValues<char> LiteralValueChars =
        SearchValues.Create("!#$&'()*+-./0123456789:<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    // One scratch dictionary per thread: Baggage.Create copies it, so it is cleared and reused by the next message.
    // Saves 464 of 2,632 B (18 %) per consumed message with 5 baggage members (consumer micro benchmark, no listener).
    [ThreadStatic]
    private static Dictionary<string, string>? _spareItems;

    /// <summary>Creates a baggage propagator with the given limits.</summary>
    /// <param name="maxMembers">The most members extracted or injected per message; at least 1.</param>
    /// <param name="maxBytes">The most bytes of header text extracted or injected per message; at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">A limit is less than 1.</exception>
    public W3CBaggagePropagator(int maxMembers = DefaultMaxMembers, int maxBytes = DefaultMaxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMembers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        MaxMembers = maxMembers;
        MaxBytes = maxBytes;
    }

    /// <summary>Gets the most members extracted or injected per message.</summary>
    public int MaxMembers { get; }

    /// <summary>Gets the most bytes of header text (members and separators) extracted or injected per message.</summary>
    public int MaxBytes { get; }

    /// <inheritdoc />
    public override ISet<string> Fields => FieldSet;

    /// <inheritdoc />
    public override PropagationContext Extract<T>(PropagationContext context, T carrier, Func<T, string, IEnumerable<string>?> getter)
    {
        if (carrier is null || getter is null)
        {
            return context;
        }

        IEnumerable<string>? values = null;
        HeaderValue single = default;
        if (PropagationHelpers.TryGetRawSource(carrier, getter, out var source))
        {
            // The library's own carrier: parse the stored value (often UTF-8 bytes) without a string for the header.
            switch (source.Find(BaggageHeader, out single))
            {
                case PropagationHelpers.ValueCount.None:
                    return context;
                case PropagationHelpers.ValueCount.Many:
                    values = getter(carrier, BaggageHeader);
                    break;
            }
        }
        else
        {
            values = getter(carrier, BaggageHeader);
            if (values is null)
            {
                return context;
            }
        }

        var items = RentItems();
        try
        {
            var parser = new Parser(MaxMembers, MaxBytes, items);
            if (values is null)
            {
                ParseSingle(ref parser, single);
            }
            else if (values is IReadOnlyList<string> list)
            {
                for (var i = 0; i < list.Count; i++)
                {
                    parser.ParseValue(list[i]);
                }
            }
            else
            {
                foreach (var value in values)
                {
                    parser.ParseValue(value);
                }
            }

            parser.ReportDrops();
            if (items.Count == 0)
            {
                return context;
            }

            // Merge: the incoming baggage first, members read from the message override it.
            foreach (var item in context.Baggage)
            {
                items.TryAdd(item.Key, item.Value);
            }

            return new PropagationContext(context.ActivityContext, OpenTelemetry.Baggage.Create(items));
        }
        finally
        {
            ReturnItems(items);
        }
    }

    /// <inheritdoc />
    public override void Inject<T>(PropagationContext context, T carrier, Action<T, string, string> setter)
    {
        var baggage = context.Baggage;
        if (carrier is null || setter is null || baggage.Count == 0)
        {
            return;
        }

        var header = Encode(baggage, MaxMembers, MaxBytes);
        if (header is not null)
        {
            setter(carrier, BaggageHeader, header);
        }
    }

    /// <summary>Whether <paramref name="c"/> is an RFC 7230 <c>tchar</c>.</summary>
    /// <param name="c">The character.</param>
    /// <returns><see langword="true"/> for token characters.</returns>
    internal static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';

    /// <summary>Whether <paramref name="key"/> is a non-empty RFC 7230 token.</summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> when valid.</returns>
    internal static bool IsToken(ReadOnlySpan<char> key) => !key.IsEmpty && key.IndexOfAnyExcept(TokenChars) < 0;

    /// <summary>Whether <paramref name="c"/> is written literally in an encoded value (a baggage-octet other than <c>%</c>).</summary>
    /// <param name="c">The character.</param>
    /// <returns><see langword="true"/> when no percent-encoding is needed.</returns>
    internal static bool IsLiteralValueChar(char c) =>
        c is > ' ' and <= '~' and not '"' and not ',' and not ';' and not '\\' and not '%';

    private static bool IsRefused(char c) => c is '\r' or '\n' or '\0';

    private static void ParseSingle(ref Parser parser, in HeaderValue value)
    {
        var length = value.DecodeBufferLength;
        if (length <= HeaderValue.StackChars)
        {
            Span<char> buffer = stackalloc char[length];
            parser.ParseValue(value.GetChars(buffer));
            return;
        }

        var rented = ArrayPool<char>.Shared.Rent(length);
        try
        {
            parser.ParseValue(value.GetChars(rented));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }

    private static Dictionary<string, string> RentItems()
    {
        var items = _spareItems ?? new Dictionary<string, string>(StringComparer.Ordinal);
        _spareItems = null; // a getter that re-enters Extract gets its own dictionary
        return items;
    }

    private static void ReturnItems(Dictionary<string, string> items)
    {
        if (items.Count <= DefaultMaxMembers * 4)
        {
            items.Clear();
            _spareItems = items;
        }
    }

    /// <summary>Encodes baggage into a <c>baggage</c> header value, or <see langword="null"/> when no member remains.</summary>
    /// <param name="baggage">The baggage.</param>
    /// <param name="maxMembers">The member limit.</param>
    /// <param name="maxBytes">The byte limit.</param>
    /// <returns>The header value or <see langword="null"/>.</returns>
    internal static string? Encode(OpenTelemetry.Baggage baggage, int maxMembers, int maxBytes)
    {
        var items = new KeyValuePair<string, string>[baggage.Count];
        var count = 0;
        foreach (var item in baggage)
        {
            if (item.Key is not null && item.Value is not null && count < items.Length)
            {
                items[count++] = item;
            }
        }

        if (count > 1)
        {
            Array.Sort(items, 0, count, KeyOrdinalComparer.Instance);
        }

        var encodedValueLengths = ArrayPool<int>.Shared.Rent(count);
        try
        {
            int malformed = 0, invalidCharacters = 0, memberLimit = 0, byteLimit = 0;
            int selected = 0, total = 0;
            for (var i = 0; i < count; i++)
            {
                encodedValueLengths[i] = -1;
                var (key, value) = items[i];
                if (key.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0 || value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
                {
                    invalidCharacters++;
                    continue;
                }

                if (!IsToken(key))
                {
                    malformed++;
                    continue;
                }

                if (selected == maxMembers)
                {
                    memberLimit++;
                    continue;
                }

                var valueLength = EncodedLength(value);
                var needed = (long)key.Length + 1 + valueLength + (selected > 0 ? 1 : 0);
                if (total + needed > maxBytes)
                {
                    byteLimit++;
                    continue;
                }

                encodedValueLengths[i] = valueLength;
                total += (int)needed;
                selected++;
            }

            PropagationReporter.Propagators.BaggageDropped(PropagationReporter.Outbound, PropagationReporter.Malformed, malformed);
            PropagationReporter.Propagators.BaggageDropped(PropagationReporter.Outbound, PropagationReporter.InvalidCharacters, invalidCharacters);
            PropagationReporter.Propagators.BaggageDropped(PropagationReporter.Outbound, PropagationReporter.MemberLimit, memberLimit);
            PropagationReporter.Propagators.BaggageDropped(PropagationReporter.Outbound, PropagationReporter.ByteLimit, byteLimit);

            return selected == 0
                ? null
                : string.Create(total, (items, encodedValueLengths, count), static (span, state) =>
                {
                    var position = 0;
                    for (var i = 0; i < state.count; i++)
                    {
                        if (state.encodedValueLengths[i] < 0)
                        {
                            continue;
                        }

                        if (position > 0)
                        {
                            span[position++] = ',';
                        }

                        var (key, value) = state.items[i];
                        key.AsSpan().CopyTo(span[position..]);
                        position += key.Length;
                        span[position++] = '=';
                        position += WriteEncoded(value, span[position..]);
                    }
                });
        }
        finally
        {
            ArrayPool<int>.Shared.Return(encodedValueLengths);
        }
    }

    private static int EncodedLength(ReadOnlySpan<char> value)
    {
        var length = 0;
        while (!value.IsEmpty)
        {
            var literal = value.IndexOfAnyExcept(LiteralValueChars);
            if (literal < 0)
            {
                return length + value.Length;
            }

            length += literal;
            value = value[literal..];
            var c = value[0];
            if (c < 0x80)
            {
                length += IsLiteralValueChar(c) ? 1 : 3;
                value = value[1..];
                continue;
            }

            _ = Rune.DecodeFromUtf16(value, out var rune, out var consumed);
            length += 3 * rune.Utf8SequenceLength;
            value = value[consumed..];
        }

        return length;
    }

    private static int WriteEncoded(ReadOnlySpan<char> value, Span<char> destination)
    {
        var position = 0;
        Span<byte> utf8 = stackalloc byte[4];
        while (!value.IsEmpty)
        {
            var literal = value.IndexOfAnyExcept(LiteralValueChars);
            if (literal != 0)
            {
                var run = literal < 0 ? value : value[..literal];
                run.CopyTo(destination[position..]);
                position += run.Length;
                if (literal < 0)
                {
                    break;
                }

                value = value[literal..];
            }

            var c = value[0];
            if (c < 0x80)
            {
                if (IsLiteralValueChar(c))
                {
                    destination[position++] = c;
                }
                else
                {
                    WritePercent((byte)c, destination[position..]);
                    position += 3;
                }

                value = value[1..];
                continue;
            }

            // A lone surrogate decodes to U+FFFD, so the output is always valid UTF-8.
            _ = Rune.DecodeFromUtf16(value, out var rune, out var consumed);
            var written = rune.EncodeToUtf8(utf8);
            for (var i = 0; i < written; i++)
            {
                WritePercent(utf8[i], destination[position..]);
                position += 3;
            }

            value = value[consumed..];
        }

        return position;
    }

    private static void WritePercent(byte b, Span<char> destination)
    {
        destination[0] = '%';
        destination[1] = UpperHexDigit(b >> 4);
        destination[2] = UpperHexDigit(b & 0xF);
    }

    private static char UpperHexDigit(int nibble) => (char)(nibble < 10 ? '0' + nibble : 'A' + nibble - 10);

    private sealed class KeyOrdinalComparer : IComparer<KeyValuePair<string, string>>
    {
        public static readonly KeyOrdinalComparer Instance = new();

        public int Compare(KeyValuePair<string, string> x, KeyValuePair<string, string> y) => string.CompareOrdinal(x.Key, y.Key);
    }

    /// <summary>Parses <c>baggage</c> values, accumulating members and drop counts across all values of a message.</summary>
    private struct Parser
    {
        private readonly int _maxMembers;
        private readonly int _maxBytes;
        private readonly Dictionary<string, string> _items;
        private int _members;
        private long _bytes;
        private string? _stopReason;
        private int _malformed;
        private int _invalidCharacters;
        private int _memberLimit;
        private int _byteLimit;

        public Parser(int maxMembers, int maxBytes, Dictionary<string, string> items)
        {
            _maxMembers = maxMembers;
            _maxBytes = maxBytes;
            _items = items;
        }

        public void ParseValue(string? text)
        {
            if (text is not null)
            {
                ParseValue(text.AsSpan());
            }
        }

        public void ParseValue(ReadOnlySpan<char> text)
        {
            var rest = text;
            while (true)
            {
                var comma = rest.IndexOf(',');
                var member = PropagationHelpers.TrimOws(comma < 0 ? rest : rest[..comma]);
                if (!member.IsEmpty)
                {
                    ParseMember(member);
                }

                if (comma < 0)
                {
                    return;
                }

                rest = rest[(comma + 1)..];
            }
        }

        public readonly void ReportDrops()
        {
            PropagationReporter.Propagators.BaggageDropped(PropagationReporter.Inbound, PropagationReporter.Malformed, _malformed);
            PropagationReporter.Propagators.BaggageDropped(PropagationReporter.Inbound, PropagationReporter.InvalidCharacters, _invalidCharacters);
            PropagationReporter.Propagators.BaggageDropped(PropagationReporter.Inbound, PropagationReporter.MemberLimit, _memberLimit);
            PropagationReporter.Propagators.BaggageDropped(PropagationReporter.Inbound, PropagationReporter.ByteLimit, _byteLimit);
        }

        private void ParseMember(ReadOnlySpan<char> member)
        {
            if (_stopReason is not null)
            {
                Drop(_stopReason);
                return;
            }

            // list-member = key OWS "=" OWS value *( OWS ";" OWS property ); properties are ignored.
            // One pass finds the first ';', the first '=' before it, and whether the member is all ASCII.
            var semicolon = -1;
            var equals = -1;
            var ascii = true;
            for (var i = 0; i < member.Length; i++)
            {
                var c = member[i];
                if (c >= 0x80)
                {
                    ascii = false;
                }
                else if (c == ';')
                {
                    if (semicolon < 0)
                    {
                        semicolon = i;
                    }
                }
                else if (c == '=' && equals < 0 && semicolon < 0)
                {
                    equals = i;
                }
            }

            var pair = semicolon < 0 ? member : member[..semicolon];
            if (equals < 0)
            {
                Drop(pair.IndexOfAny('\r', '\n', '\0') >= 0 ? PropagationReporter.InvalidCharacters : PropagationReporter.Malformed);
                return;
            }

            var key = PropagationHelpers.TrimOws(pair[..equals]);
            var rawValue = PropagationHelpers.TrimOws(pair[(equals + 1)..]);
            if (!IsToken(key))
            {
                Drop(key.IndexOfAny('\r', '\n', '\0') >= 0 ? PropagationReporter.InvalidCharacters : PropagationReporter.Malformed);
                return;
            }

            var check = CheckValue(rawValue, out var hasEscapes);
            if (check is not null)
            {
                Drop(check);
                return;
            }

            if (_members >= _maxMembers)
            {
                Stop(PropagationReporter.MemberLimit);
                return;
            }

            var memberBytes = (long)(ascii ? member.Length : Utf8.GetByteCount(member)) + (_members > 0 ? 1 : 0);
            if (_bytes + memberBytes > _maxBytes)
            {
                Stop(PropagationReporter.ByteLimit);
                return;
            }

            _members++;
            _bytes += memberBytes;
            var value = hasEscapes ? Decode(rawValue, ascii) : rawValue.ToString();
            _items[key.ToString()] = value;
        }

        /// <summary>Validates a raw value: returns a drop reason, or <see langword="null"/> when it can be decoded.</summary>
        private static string? CheckValue(ReadOnlySpan<char> rawValue, out bool hasEscapes)
        {
            // Values are short: a scalar pass beats repeated vectorised searches. Only controls, DEL and '%' need a look.
            hasEscapes = false;
            for (var i = 0; i < rawValue.Length; i++)
            {
                var c = rawValue[i];
                if ((c > '%' && c != '\x7f') || c is >= ' ' and < '%')
                {
                    continue;
                }

                if (c != '%')
                {
                    return IsRefused(c) ? PropagationReporter.InvalidCharacters : PropagationReporter.Malformed;
                }

                if (i + 2 >= rawValue.Length)
                {
                    return PropagationReporter.Malformed;
                }

                var high = PropagationHelpers.AnyHexValue(rawValue[i + 1]);
                var low = PropagationHelpers.AnyHexValue(rawValue[i + 2]);
                if ((high | low) < 0)
                {
                    return PropagationReporter.Malformed;
                }

                if (IsRefused((char)((high << 4) | low)))
                {
                    return PropagationReporter.InvalidCharacters;
                }

                hasEscapes = true;
                i += 2;
            }

            return null;
        }

        /// <summary>Decodes a value already checked by <see cref="CheckValue"/>; invalid UTF-8 becomes U+FFFD.</summary>
        private static string Decode(ReadOnlySpan<char> rawValue, bool ascii)
        {
            // Usually every character and escape is ASCII: decode straight to characters.
            if (ascii && rawValue.Length <= StackDecodeBytes)
            {
                Span<char> chars = stackalloc char[rawValue.Length];
                if (TryDecodeAscii(rawValue, chars, out var written))
                {
                    return new string(chars[..written]);
                }
            }

            // Each escape shrinks three characters to one byte; any other character takes at most its UTF-8 length.
            var capacity = Utf8.GetByteCount(rawValue);
            byte[]? rented = null;
            var bytes = capacity <= StackDecodeBytes
                ? stackalloc byte[capacity]
                : (rented = ArrayPool<byte>.Shared.Rent(capacity));
            try
            {
                var length = 0;
                while (!rawValue.IsEmpty)
                {
                    var percent = rawValue.IndexOf('%');
                    var run = percent < 0 ? rawValue : rawValue[..percent];
                    if (!run.IsEmpty)
                    {
                        // Invalid UTF-16 (a lone surrogate) becomes U+FFFD: the encoding's replacement fallback.
                        length += Utf8.GetBytes(run, bytes[length..]);
                    }

                    if (percent < 0)
                    {
                        break;
                    }

                    bytes[length++] = (byte)((PropagationHelpers.AnyHexValue(rawValue[percent + 1]) << 4) | PropagationHelpers.AnyHexValue(rawValue[percent + 2]));
                    rawValue = rawValue[(percent + 3)..];
                }

                return Utf8.GetString(bytes[..length]);
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }
        }

        /// <summary>Decodes a checked all-ASCII value; <see langword="false"/> when an escape decodes to a non-ASCII byte.</summary>
        private static bool TryDecodeAscii(ReadOnlySpan<char> rawValue, Span<char> destination, out int written)
        {
            // Values are short: one scalar pass.
            written = 0;
            for (var i = 0; i < rawValue.Length; i++)
            {
                var c = rawValue[i];
                if (c == '%')
                {
                    var decoded = (PropagationHelpers.AnyHexValue(rawValue[i + 1]) << 4) | PropagationHelpers.AnyHexValue(rawValue[i + 2]);
                    if (decoded >= 0x80)
                    {
                        return false;
                    }

                    c = (char)decoded;
                    i += 2;
                }

                destination[written++] = c;
            }

            return true;
        }

        private void Stop(string reason)
        {
            _stopReason = reason;
            Drop(reason);
        }

        private void Drop(string reason)
        {
            switch (reason)
            {
                case PropagationReporter.InvalidCharacters:
                    _invalidCharacters++;
                    break;
                case PropagationReporter.MemberLimit:
                    _memberLimit++;
                    break;
                case PropagationReporter.ByteLimit:
                    _byteLimit++;
                    break;
                default:
                    _malformed++;
                    break;
            }
        }
    }
}

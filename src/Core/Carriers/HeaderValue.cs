using System.Text;

namespace Messaging;

/// <summary>
/// One readable header value as stored: text, or UTF-8 bytes not yet decoded. It lets the library's propagators read
/// a value without allocating a string for it; <see cref="HeaderValues.TryGetString(object?, out string)"/> is the
/// same rule for callers that want text.
/// </summary>
internal readonly struct HeaderValue
{
    /// <summary>Values up to this many UTF-8 bytes are decoded into a stack buffer by callers.</summary>
    public const int StackChars = 512;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private readonly string? _text;
    private readonly ReadOnlyMemory<byte> _utf8;

    private HeaderValue(string? text, ReadOnlyMemory<byte> utf8)
    {
        _text = text;
        _utf8 = utf8;
    }

    /// <summary>
    /// Gets how many characters of scratch space <see cref="GetChars"/> needs: none for stored text; for UTF-8 bytes,
    /// their count (UTF-8 never decodes to more characters than bytes).
    /// </summary>
    public int DecodeBufferLength => _text is null ? _utf8.Length : 0;

    /// <summary>
    /// Classifies a raw value: a <see cref="string"/>, or a <see cref="byte"/> array, <see cref="ReadOnlyMemory{T}"/> or
    /// <see cref="Memory{T}"/> of UTF-8 bytes. Anything else, including <see langword="null"/>, is not readable. Never throws.
    /// </summary>
    /// <param name="raw">The raw value.</param>
    /// <param name="value">The readable value.</param>
    /// <returns><see langword="true"/> when <paramref name="raw"/> can be read as text.</returns>
    public static bool TryCreate(object? raw, out HeaderValue value)
    {
        switch (raw)
        {
            case string s:
                value = new HeaderValue(s, default);
                return true;
            case byte[] bytes:
                value = new HeaderValue(null, bytes);
                return true;
            case ReadOnlyMemory<byte> rom:
                value = new HeaderValue(null, rom);
                return true;
            case Memory<byte> mem:
                value = new HeaderValue(null, mem);
                return true;
            default:
                value = default;
                return false;
        }
    }

    /// <summary>The value as a string (UTF-8 decoded; invalid sequences become U+FFFD).</summary>
    /// <returns>The text.</returns>
    public override string ToString() => _text ?? Utf8.GetString(_utf8.Span);

    /// <summary>
    /// The value's characters without allocating a string: the stored text, or the bytes decoded into
    /// <paramref name="buffer"/> (which must hold <see cref="DecodeBufferLength"/> characters), decoded exactly like
    /// <see cref="ToString"/>.
    /// </summary>
    /// <param name="buffer">Scratch space for decoding.</param>
    /// <returns>The characters.</returns>
    public ReadOnlySpan<char> GetChars(Span<char> buffer) =>
        _text is not null ? _text.AsSpan() : buffer[..Utf8.GetChars(_utf8.Span, buffer)];
}

namespace Messaging;

/// <summary>
/// Normalises raw header values to text: the one rule every transport shares.
/// </summary>
public static class HeaderValues
{
    /// <summary>
    /// Reads a raw header value as text. A <see cref="string"/> is returned as is; a <see cref="byte"/> array,
    /// <see cref="ReadOnlyMemory{T}"/> or <see cref="Memory{T}"/> of bytes is decoded as UTF-8 (invalid sequences
    /// become U+FFFD). Anything else — including <see langword="null"/> — is absent. Never throws.
    /// </summary>
    /// <param name="value">The raw value as stored in the message's headers.</param>
    /// <param name="text">The text, when the value is readable.</param>
    /// <returns><see langword="true"/> when <paramref name="value"/> could be read as text.</returns>
    public static bool TryGetString(object? value, out string text)
    {
        if (HeaderValue.TryCreate(value, out var readable))
        {
            text = readable.ToString();
            return true;
        }

        text = string.Empty;
        return false;
    }
}

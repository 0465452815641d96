namespace Messaging;

/// <summary>Turns message bodies into objects and back.</summary>
public interface IMessageSerializer
{
    /// <summary>Gets the content type written with serialised bodies, for example <c>application/json</c>.</summary>
    string ContentType { get; }

    /// <summary>Serialises a message body.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="value">The message.</param>
    /// <returns>The body bytes.</returns>
    ReadOnlyMemory<byte> Serialize<T>(T value);

    /// <summary>Deserialises a message body.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="body">The body bytes.</param>
    /// <returns>The message.</returns>
    /// <exception cref="Exception">The body is not a valid <typeparamref name="T"/>; the worker dead-letters such a message at once.</exception>
    T Deserialize<T>(ReadOnlyMemory<byte> body);
}

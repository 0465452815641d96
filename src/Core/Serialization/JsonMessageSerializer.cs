using System.Text.Json;

namespace Messaging;

/// <summary>The default serializer: System.Text.Json with web defaults (camelCase, case-insensitive read).</summary>
public sealed class JsonMessageSerializer : IMessageSerializer
{
    private readonly JsonSerializerOptions _options;

    /// <summary>Creates a serializer.</summary>
    /// <param name="options">The JSON options; <see langword="null"/> for <see cref="JsonSerializerDefaults.Web"/>.</param>
    public JsonMessageSerializer(JsonSerializerOptions? options = null)
    {
        _options = options ?? new JsonSerializerOptions(JsonSerializerDefaults.Web);
    }

    /// <summary>Gets a shared instance with web defaults.</summary>
    public static JsonMessageSerializer Default { get; } = new();

    /// <inheritdoc />
    public string ContentType => "application/json";

    /// <inheritdoc />
    public ReadOnlyMemory<byte> Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, _options);

    /// <inheritdoc />
    public T Deserialize<T>(ReadOnlyMemory<byte> body) =>
        JsonSerializer.Deserialize<T>(body.Span, _options)
        ?? throw new JsonException($"The message body deserialised to null; expected a {typeof(T).Name}.");
}

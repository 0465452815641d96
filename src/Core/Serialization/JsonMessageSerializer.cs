using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Messaging;

/// <summary>
/// The default serializer: System.Text.Json with web defaults (camelCase, case-insensitive read).
/// </summary>
/// <remarks>
/// <para>
/// Every body is read and written through the <see cref="JsonTypeInfo{T}"/> of its type, taken from the serializer's
/// <see cref="JsonSerializerOptions.TypeInfoResolver"/>. In a trimmed or native AOT application give it the
/// metadata of your message types with <see cref="JsonMessageSerializer(JsonSerializerContext)"/> (a source-generated
/// <see cref="JsonSerializerContext"/>) or <see cref="JsonMessageSerializer(IJsonTypeInfoResolver)"/>.
/// </para>
/// <para>
/// <see cref="Default"/> uses reflection-based metadata where the application allows it (the
/// <c>System.Text.Json.JsonSerializer.IsReflectionEnabledByDefault</c> feature switch, on unless the application is
/// trimmed or published for native AOT), as ASP.NET Core's JSON defaults do; where it does not, it has no metadata,
/// and serialising a body with it throws a <see cref="NotSupportedException"/> saying which serializer to configure.
/// </para>
/// </remarks>
public sealed class JsonMessageSerializer : IMessageSerializer
{
    private const string ReflectionMessage =
        "JSON serialization of arbitrary message types uses reflection; in a trimmed or native AOT application use " +
        "the JsonMessageSerializer(JsonSerializerContext) or JsonMessageSerializer(IJsonTypeInfoResolver) constructor.";

    private readonly JsonSerializerOptions _options;

    /// <summary>Creates a serializer with reflection-based metadata for any type.</summary>
    /// <param name="options">
    /// The JSON options; <see langword="null"/> for <see cref="JsonSerializerDefaults.Web"/>. Options without a
    /// <see cref="JsonSerializerOptions.TypeInfoResolver"/> get the reflection-based resolver.
    /// </param>
    [RequiresUnreferencedCode(ReflectionMessage)]
    [RequiresDynamicCode(ReflectionMessage)]
    public JsonMessageSerializer(JsonSerializerOptions? options = null)
    {
        _options = options ?? new JsonSerializerOptions(JsonSerializerDefaults.Web);
        _options.MakeReadOnly(populateMissingResolver: true);
    }

    /// <summary>
    /// Creates a serializer that reads and writes only the types of a source-generated context, with the context's
    /// options (its <see cref="JsonSourceGenerationOptionsAttribute"/>): safe for trimming and native AOT.
    /// </summary>
    /// <param name="context">
    /// The context, for example <c>MyJsonContext.Default</c> of
    /// <c>[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)] [JsonSerializable(typeof(Order))] partial class MyJsonContext : JsonSerializerContext</c>.
    /// </param>
    public JsonMessageSerializer(JsonSerializerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _options = context.Options;
        _options.MakeReadOnly();
    }

    /// <summary>
    /// Creates a serializer with <see cref="JsonSerializerDefaults.Web"/> options that takes its metadata from
    /// <paramref name="typeInfoResolver"/> only (for example several source-generated contexts combined with
    /// <see cref="JsonTypeInfoResolver.Combine(IJsonTypeInfoResolver?[])"/>): safe for trimming and native AOT.
    /// </summary>
    /// <param name="typeInfoResolver">The metadata of the message types.</param>
    public JsonMessageSerializer(IJsonTypeInfoResolver typeInfoResolver)
    {
        ArgumentNullException.ThrowIfNull(typeInfoResolver);
        _options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { TypeInfoResolver = typeInfoResolver };
        _options.MakeReadOnly();
    }

    /// <summary>
    /// Gets a shared instance with web defaults: reflection-based metadata for any type where the application allows
    /// reflection-based serialization, none in trimmed and native AOT applications (see the remarks of the class).
    /// </summary>
    public static JsonMessageSerializer Default { get; } = new(DefaultResolver());

    /// <inheritdoc />
    public string ContentType => "application/json";

    /// <inheritdoc />
    public ReadOnlyMemory<byte> Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, TypeInfo<T>());

    /// <inheritdoc />
    public T Deserialize<T>(ReadOnlyMemory<byte> body) =>
        JsonSerializer.Deserialize(body.Span, TypeInfo<T>())
        ?? throw new JsonException($"The message body deserialised to null; expected a {typeof(T).Name}.");

    private JsonTypeInfo<T> TypeInfo<T>()
    {
        if (_options.TryGetTypeInfo(typeof(T), out var info))
        {
            return (JsonTypeInfo<T>)info;
        }

        throw new NotSupportedException(
            $"The JSON serializer has no metadata for the message type {typeof(T).FullName}. " +
            (ReferenceEquals(this, Default) && !JsonSerializer.IsReflectionEnabledByDefault
                ? "Reflection-based serialization is disabled in this application (trimmed or native AOT): set the worker's or publisher's Serializer to a new JsonMessageSerializer(YourJsonContext.Default) whose context has [JsonSerializable(typeof(" + typeof(T).Name + "))]."
                : "Add [JsonSerializable(typeof(" + typeof(T).Name + "))] to the JsonSerializerContext the serializer was created with."));
    }

    /// <summary>
    /// The reflection-based resolver only where the application enables reflection-based serialization, else an
    /// empty one; the trimmer and the AOT compiler remove the reflection branch where it is off.
    /// </summary>
    private static IJsonTypeInfoResolver DefaultResolver() =>
        JsonSerializer.IsReflectionEnabledByDefault ? ReflectionResolver() : JsonTypeInfoResolver.Combine();

    [UnconditionalSuppressMessage("Trimming", "IL2026:RequiresUnreferencedCode", Justification = "Called only when JsonSerializer.IsReflectionEnabledByDefault, which trimmed and native AOT applications turn off.")]
    [UnconditionalSuppressMessage("AOT", "IL3050:RequiresDynamicCode", Justification = "Called only when JsonSerializer.IsReflectionEnabledByDefault, which native AOT applications turn off.")]
    private static DefaultJsonTypeInfoResolver ReflectionResolver() => new();
}

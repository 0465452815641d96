using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Xunit;

namespace Messaging.Tests.Core;

public sealed class JsonMessageSerializerTests
{
    [Fact]
    public void A_source_generated_context_round_trips_with_its_own_options()
    {
        var serializer = new JsonMessageSerializer(SerializerTestJsonContext.Default);

        var body = serializer.Serialize(new SerializedOrder(42, "acme"));

        Assert.Equal("""{"order_id":42,"tenant":"acme"}""", Encoding.UTF8.GetString(body.Span));
        Assert.Equal(new SerializedOrder(42, "acme"), serializer.Deserialize<SerializedOrder>(body));
    }

    [Fact]
    public void A_resolver_gets_web_defaults_the_same_wire_format_as_the_default_serializer()
    {
        var serializer = new JsonMessageSerializer(JsonTypeInfoResolver.Combine(SerializerTestJsonContext.Default));

        var body = serializer.Serialize(new SerializedOrder(7, "t"));

        Assert.Equal("""{"orderId":7,"tenant":"t"}""", Encoding.UTF8.GetString(body.Span));
        Assert.Equal(Encoding.UTF8.GetString(JsonMessageSerializer.Default.Serialize(new SerializedOrder(7, "t")).Span), Encoding.UTF8.GetString(body.Span));
        Assert.Equal(new SerializedOrder(7, "t"), serializer.Deserialize<SerializedOrder>("""{"ORDERID":7,"tenant":"t"}"""u8.ToArray()));
    }

    [Fact]
    public void A_type_the_context_does_not_know_fails_with_a_message_naming_it_and_the_fix()
    {
        var serializer = new JsonMessageSerializer(SerializerTestJsonContext.Default);

        var error = Assert.Throws<NotSupportedException>(() => serializer.Serialize(new UnknownMessage("x")));

        Assert.Contains(typeof(UnknownMessage).FullName!, error.Message, StringComparison.Ordinal);
        Assert.Contains("[JsonSerializable(typeof(UnknownMessage))]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_null_body_is_rejected_as_invalid_json_for_the_type()
    {
        var serializer = new JsonMessageSerializer(SerializerTestJsonContext.Default);

        var error = Assert.Throws<JsonException>(() => serializer.Deserialize<SerializedOrder>("null"u8.ToArray()));

        Assert.Contains(nameof(SerializedOrder), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_serializer_uses_reflection_where_the_application_allows_it()
    {
        Assert.True(JsonSerializer.IsReflectionEnabledByDefault);

        var body = JsonMessageSerializer.Default.Serialize(new UnknownMessage("x"));

        Assert.Equal("""{"text":"x"}""", Encoding.UTF8.GetString(body.Span));
    }

    [Fact]
    public void Options_without_a_resolver_get_the_reflection_based_one()
    {
        var serializer = new JsonMessageSerializer(new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower });

        Assert.Equal("""{"order-id":1,"tenant":"a"}""", Encoding.UTF8.GetString(serializer.Serialize(new SerializedOrder(1, "a")).Span));
    }
}

public sealed record SerializedOrder(int OrderId, string Tenant);

public sealed record UnknownMessage(string Text);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(SerializedOrder))]
internal sealed partial class SerializerTestJsonContext : JsonSerializerContext;

namespace Messaging;

/// <summary>
/// The semantic-convention attributes of the library's spans, built as one array and passed to
/// <see cref="System.Diagnostics.ActivitySource.StartActivity(string, System.Diagnostics.ActivityKind, System.Diagnostics.ActivityContext, IEnumerable{KeyValuePair{string, object?}}?, IEnumerable{System.Diagnostics.ActivityLink}?, DateTimeOffset)"/>:
/// samplers see them, and the span gets them without a search and a lock per attribute (<c>Activity.SetTag</c>).
/// </summary>
internal static class SpanTags
{
    public static KeyValuePair<string, object?>[] Producer(in OutgoingMessage message)
    {
        var tags = Common(
            message.System, message.Destination, SemanticConventions.OperationTypeSend, message.OperationName, message.MessageId,
            message.ConversationId, message.RoutingKey, message.ServerAddress, message.BodySize, message.ServerPort, extra: 0, out _);
        return tags;
    }

    public static KeyValuePair<string, object?>[] Consumer(in IncomingMessage message)
    {
        var extra = (message.Subscription is null ? 0 : 1) + (message.DeliveryCount is null ? 0 : 1);
        var tags = Common(
            message.System, message.Destination, SemanticConventions.OperationTypeProcess, message.OperationName, message.MessageId,
            message.ConversationId, message.RoutingKey, message.ServerAddress, message.BodySize, message.ServerPort, extra, out var index);
        if (message.Subscription is { } subscription)
        {
            tags[index++] = new(SemanticConventions.DestinationSubscriptionName, subscription);
        }

        if (message.DeliveryCount is { } count)
        {
            tags[index] = new(SemanticConventions.DeliveryCount, count);
        }

        return tags;
    }

    private static KeyValuePair<string, object?>[] Common(
        string system,
        string destination,
        string operationType,
        string operationName,
        string? messageId,
        string? conversationId,
        string? routingKey,
        string? serverAddress,
        long? bodySize,
        int? serverPort,
        int extra,
        out int index)
    {
        var count = 4 + extra
            + (messageId is null ? 0 : 1)
            + (conversationId is null ? 0 : 1)
            + (routingKey is null ? 0 : 1)
            + (serverAddress is null ? 0 : 1)
            + (bodySize is null ? 0 : 1)
            + (serverPort is null ? 0 : 1);
        var tags = new KeyValuePair<string, object?>[count];
        tags[0] = new(SemanticConventions.MessagingSystem, system);
        tags[1] = new(SemanticConventions.DestinationName, destination);
        tags[2] = new(SemanticConventions.OperationType, operationType);
        tags[3] = new(SemanticConventions.OperationName, operationName);
        index = 4;
        Add(tags, ref index, SemanticConventions.MessageId, messageId);
        Add(tags, ref index, SemanticConventions.ConversationId, conversationId);
        Add(tags, ref index, SemanticConventions.RabbitMqRoutingKey, routingKey);
        Add(tags, ref index, SemanticConventions.ServerAddress, serverAddress);
        if (bodySize is { } size)
        {
            tags[index++] = new(SemanticConventions.BodySize, size);
        }

        if (serverPort is { } port)
        {
            tags[index++] = new(SemanticConventions.ServerPort, port);
        }

        return tags;
    }

    private static void Add(KeyValuePair<string, object?>[] tags, ref int index, string name, string? value)
    {
        if (value is not null)
        {
            tags[index++] = new(name, value);
        }
    }
}

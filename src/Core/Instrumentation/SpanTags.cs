using System.Diagnostics;

namespace Messaging;

/// <summary>
/// The semantic-convention attributes of the library's spans. The messaging conventions list the attributes that
/// matter to sampling (system, destination, subscription, operation, server address and port) and ask for them at span
/// creation: those go to
/// <see cref="ActivitySource.StartActivity(string, ActivityKind, ActivityContext, IEnumerable{KeyValuePair{string, object?}}?, IEnumerable{ActivityLink}?, DateTimeOffset)"/>
/// as one array, shared by the spans of a destination (<see cref="SpanShape"/>), so samplers see them. The
/// per-message ones (id, conversation, routing key, body size, delivery count) are set only on spans that record data.
/// </summary>
internal static class SpanTags
{
    public static void AddDetails(Activity activity, in OutgoingMessage message) =>
        AddDetails(activity, message.MessageId, message.ConversationId, message.RoutingKey, message.BodySize, deliveryCount: null);

    public static void AddDetails(Activity activity, in IncomingMessage message)
    {
        var serviceBus = string.Equals(message.System, SemanticConventions.ServiceBusSystem, StringComparison.Ordinal);
        AddDetails(activity, message.MessageId, message.ConversationId, message.RoutingKey, message.BodySize, serviceBus ? null : message.DeliveryCount);
        if (serviceBus)
        {
            // Azure messaging conventions: the delivery count and enqueue time have Service Bus names.
            if (message.DeliveryCount is { } count)
            {
                activity.SetTag(SemanticConventions.ServiceBusDeliveryCount, count);
            }

            if (message.EnqueuedAt is { } enqueued)
            {
                activity.SetTag(SemanticConventions.ServiceBusEnqueuedTime, enqueued.ToUnixTimeSeconds());
            }
        }
    }

    /// <summary>
    /// Records how the worker settles the message on its CONSUMER span, where the system's conventions name it
    /// (Service Bus: <c>messaging.servicebus.disposition_status</c> = <c>complete</c>, <c>abandon</c>, <c>dead_letter</c>).
    /// </summary>
    public static void SetSettlement(Activity activity, string system, ConsumerWorker.Outcome outcome)
    {
        if (!string.Equals(system, SemanticConventions.ServiceBusSystem, StringComparison.Ordinal))
        {
            return;
        }

        var status = outcome switch
        {
            ConsumerWorker.Outcome.Ack => "complete",
            ConsumerWorker.Outcome.DeadLetter => "dead_letter",
            ConsumerWorker.Outcome.Requeue => "abandon",
            _ => null,
        };
        if (status is not null)
        {
            activity.SetTag(SemanticConventions.ServiceBusDispositionStatus, status);
        }
    }

    /// <summary>Records a failure on a span: status Error, <c>error.type</c>, and an <c>exception</c> event when it records data.</summary>
    public static void SetError(Activity? activity, Exception exception)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.SetTag(SemanticConventions.ErrorType, exception.GetType().FullName);
        if (activity.IsAllDataRequested)
        {
            activity.AddEvent(new ActivityEvent("exception", tags: new ActivityTagsCollection
            {
                ["exception.type"] = exception.GetType().FullName,
                ["exception.message"] = exception.Message,
                ["exception.stacktrace"] = exception.ToString(),
            }));
        }
    }

    public static KeyValuePair<string, object?>[] Sampling(
        string system, string destination, string operationType, string operationName, string? subscription, string? serverAddress, int? serverPort)
    {
        var tags = new KeyValuePair<string, object?>[4 + (subscription is null ? 0 : 1) + (serverAddress is null ? 0 : 1) + (serverPort is null ? 0 : 1)];
        tags[0] = new(SemanticConventions.MessagingSystem, system);
        tags[1] = new(SemanticConventions.DestinationName, destination);
        tags[2] = new(SemanticConventions.OperationType, operationType);
        tags[3] = new(SemanticConventions.OperationName, operationName);
        var index = 4;
        if (subscription is not null)
        {
            tags[index++] = new(SemanticConventions.DestinationSubscriptionName, subscription);
        }

        if (serverAddress is not null)
        {
            tags[index++] = new(SemanticConventions.ServerAddress, serverAddress);
        }

        if (serverPort is { } port)
        {
            tags[index] = new(SemanticConventions.ServerPort, port);
        }

        return tags;
    }

    private static void AddDetails(Activity activity, string? messageId, string? conversationId, string? routingKey, long? bodySize, int? deliveryCount)
    {
        // SetTag, not AddTag: a listener's ActivityStarted callback may already have set one of these.
        if (messageId is not null)
        {
            activity.SetTag(SemanticConventions.MessageId, messageId);
        }

        if (conversationId is not null)
        {
            activity.SetTag(SemanticConventions.ConversationId, conversationId);
        }

        if (routingKey is not null)
        {
            activity.SetTag(SemanticConventions.RabbitMqRoutingKey, routingKey);
        }

        if (bodySize is { } size)
        {
            activity.SetTag(SemanticConventions.BodySize, size);
        }

        if (deliveryCount is { } count)
        {
            activity.SetTag(SemanticConventions.DeliveryCount, count);
        }
    }
}

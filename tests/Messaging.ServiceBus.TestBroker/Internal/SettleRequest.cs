using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;

namespace Messaging.ServiceBus.TestBroker.Internal;

/// <summary>A receiver's settlement, from a link disposition or a management update-disposition.</summary>
internal sealed record SettleRequest(
    SettlementOutcome Outcome,
    IReadOnlyList<KeyValuePair<string, object?>> PropertiesToModify,
    string? DeadLetterReason = null,
    string? DeadLetterErrorDescription = null)
{
    private static readonly IReadOnlyList<KeyValuePair<string, object?>> NoProperties = [];

    public static SettleRequest Complete { get; } = new(SettlementOutcome.Completed, NoProperties);

    /// <summary>Maps a link disposition's outcome; null when the state is not a settlement the broker takes.</summary>
    public static SettleRequest? FromOutcome(DeliveryState? state) => state switch
    {
        Accepted => Complete,
        Released => new(SettlementOutcome.Released, NoProperties),
        Modified { UndeliverableHere: true } modified => new(SettlementOutcome.Deferred, Properties(modified.MessageAnnotations)),
        Modified modified => new(SettlementOutcome.Abandoned, Properties(modified.MessageAnnotations)),
        Rejected rejected => DeadLetter(rejected.Error),
        _ => null,
    };

    /// <summary>Maps a management update-disposition request; null for an unknown status.</summary>
    public static SettleRequest? FromDispositionStatus(
        string? status,
        AmqpMap? propertiesToModify,
        string? deadLetterReason,
        string? deadLetterDescription) => status switch
        {
            "completed" => Complete,
            "abandoned" => new(SettlementOutcome.Abandoned, Properties(propertiesToModify)),
            "defered" or "deferred" => new(SettlementOutcome.Deferred, Properties(propertiesToModify)),
            "suspended" => new(SettlementOutcome.DeadLettered, Properties(propertiesToModify), deadLetterReason, deadLetterDescription),
            _ => null,
        };

    private static SettleRequest DeadLetter(Error? error)
    {
        if (error?.Info is not { } info)
        {
            return new(SettlementOutcome.DeadLettered, NoProperties);
        }

        string? reason = null;
        string? description = null;
        var others = new List<KeyValuePair<string, object?>>();
        foreach (var pair in Properties(info))
        {
            switch (pair.Key)
            {
                case BrokerAnnotations.DeadLetterReasonProperty:
                    reason = pair.Value as string;
                    break;
                case BrokerAnnotations.DeadLetterErrorDescriptionProperty:
                    description = pair.Value as string;
                    break;
                default:
                    others.Add(pair);
                    break;
            }
        }

        return new(SettlementOutcome.DeadLettered, others, reason, description);
    }

    private static List<KeyValuePair<string, object?>> Properties(AmqpMap? map)
    {
        var properties = new List<KeyValuePair<string, object?>>();
        if (map is null)
        {
            return properties;
        }

        foreach (var pair in map)
        {
            if (AmqpValues.KeyText(pair.Key) is { } key)
            {
                properties.Add(new(key, AmqpValues.Copy(pair.Value)));
            }
        }

        return properties;
    }
}

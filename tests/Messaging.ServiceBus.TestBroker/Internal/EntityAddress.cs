using Microsoft.Azure.Amqp;

namespace Messaging.ServiceBus.TestBroker.Internal;

/// <summary>
/// A link address, parsed: <c>$cbs</c>, <c>queue</c>, <c>topic/Subscriptions/name</c>, either followed by
/// <c>/$deadletterqueue</c>, and any of those followed by <c>/$management</c>. The client writes entity
/// addresses as absolute paths (<c>/orders</c>) and management addresses without the slash.
/// </summary>
internal sealed record EntityAddress
{
    public const string CbsNode = "$cbs";
    public const string ManagementSuffix = "$management";
    public const string DeadLetterSuffix = "$deadletterqueue";
    public const string SubscriptionsSegment = "Subscriptions";

    private EntityAddress(string entityName, string? subscription, bool deadLetter, bool management, bool cbs)
    {
        EntityName = entityName;
        Subscription = subscription;
        DeadLetter = deadLetter;
        Management = management;
        Cbs = cbs;
    }

    /// <summary>The queue or topic name.</summary>
    public string EntityName { get; }

    /// <summary>The subscription name, for <c>topic/Subscriptions/name</c>.</summary>
    public string? Subscription { get; }

    public bool DeadLetter { get; }

    public bool Management { get; }

    public bool Cbs { get; }

    /// <summary>The entity path without the management suffix, in the broker's spelling.</summary>
    public string StorePath
    {
        get
        {
            var path = Subscription is null ? EntityName : $"{EntityName}/{SubscriptionsSegment}/{Subscription}";
            return DeadLetter ? $"{path}/{DeadLetterSuffix}" : path;
        }
    }

    public static EntityAddress Parse(string address)
    {
        var path = address;
        if (path.Contains("://", StringComparison.Ordinal) && Uri.TryCreate(path, UriKind.Absolute, out var uri))
        {
            path = uri.AbsolutePath;
        }

        path = Uri.UnescapeDataString(path).Trim('/');
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (segments.Count == 0)
        {
            throw new AmqpException(AmqpErrorCode.InvalidField, $"The address '{address}' names no entity.");
        }

        if (segments.Count == 1 && segments[0] == CbsNode)
        {
            return new EntityAddress(CbsNode, null, deadLetter: false, management: false, cbs: true);
        }

        var management = Take(segments, ManagementSuffix);
        var deadLetter = Take(segments, DeadLetterSuffix);
        if (segments.Count == 0)
        {
            throw new AmqpException(AmqpErrorCode.InvalidField, $"The address '{address}' names no entity.");
        }

        if (segments.Any(segment => segment.StartsWith('$')))
        {
            throw new AmqpException(
                AmqpErrorCode.NotFound,
                $"The address '{address}' names a node this broker does not have (it has $cbs, <entity>/$management and <entity>/$deadletterqueue).");
        }

        if (segments.Count >= 3 && string.Equals(segments[^2], SubscriptionsSegment, StringComparison.OrdinalIgnoreCase))
        {
            var topic = string.Join('/', segments.Take(segments.Count - 2));
            return new EntityAddress(topic, segments[^1], deadLetter, management, cbs: false);
        }

        return new EntityAddress(string.Join('/', segments), null, deadLetter, management, cbs: false);
    }

    private static bool Take(List<string> segments, string suffix)
    {
        if (segments.Count > 0 && string.Equals(segments[^1], suffix, StringComparison.OrdinalIgnoreCase))
        {
            segments.RemoveAt(segments.Count - 1);
            return true;
        }

        return false;
    }
}

namespace Messaging.ServiceBus.TestBroker;

/// <summary>Settings of a <see cref="ServiceBusTestBroker"/>; every one has a working default.</summary>
public sealed class ServiceBusTestBrokerOptions
{
    /// <summary>How long a peek-lock delivery stays locked before the message becomes available again. Default 30 s.</summary>
    public TimeSpan LockDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Failed deliveries (abandons, expired locks) after which a message is dead-lettered. Default 10.</summary>
    public int MaxDeliveryCount { get; set; } = 10;

    /// <summary>The max-message-size the broker announces on each link and enforces. Default 256 KiB (the Standard tier's).</summary>
    public long MaxMessageSizeInBytes { get; set; } = 256 * 1024;

    /// <summary>The clock for enqueue times, lock expiry, scheduled messages and time-to-live. Default the system clock.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The shared access key name put in the connection string and required in tokens.</summary>
    public string SharedAccessKeyName { get; set; } = "RootManageSharedAccessKey";

    /// <summary>The shared access key put in the connection string; tokens signed with another key are refused.</summary>
    public string SharedAccessKey { get; set; } = "TestBrokerKey";

    /// <summary>
    /// When true (the default), attaching to an unknown queue creates it, and attaching a receiver to an unknown
    /// <c>topic/Subscriptions/name</c> creates the topic and the subscription. When false, unknown entities are not found.
    /// </summary>
    public bool CreateEntitiesOnDemand { get; set; } = true;

    /// <summary>Queues that exist from the start.</summary>
    public IList<string> Queues { get; } = [];

    /// <summary>Topics that exist from the start, each with its subscriptions (possibly none).</summary>
    public IDictionary<string, IList<string>> Topics { get; } = new Dictionary<string, IList<string>>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Receives one line per notable broker event (connections, links, refused requests). Default none.</summary>
    public Action<string>? Log { get; set; }

    internal void Validate()
    {
        if (LockDuration <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(LockDuration), LockDuration, "The lock duration must be positive.");
        }

        if (MaxDeliveryCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDeliveryCount), MaxDeliveryCount, "The max delivery count must be at least 1.");
        }

        if (MaxMessageSizeInBytes < 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxMessageSizeInBytes), MaxMessageSizeInBytes, "The max message size must be at least 1024 bytes.");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentException.ThrowIfNullOrWhiteSpace(SharedAccessKeyName);
        ArgumentException.ThrowIfNullOrWhiteSpace(SharedAccessKey);
        if (SharedAccessKeyName.Contains(';', StringComparison.Ordinal) || SharedAccessKey.Contains(';', StringComparison.Ordinal))
        {
            throw new ArgumentException("The shared access key name and key cannot contain ';' (it separates connection string parts).");
        }
    }
}

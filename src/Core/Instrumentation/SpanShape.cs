using System.Collections.Concurrent;

namespace Messaging;

/// <summary>
/// What every span of one destination has in common: its name and the sampling-relevant attributes passed to
/// <see cref="System.Diagnostics.ActivitySource"/> at creation. A worker or publisher sends its messages to a handful
/// of destinations with the same system, operation and server, so the name and the attribute array are built once per
/// destination and shared by its spans instead of being allocated for each message.
/// </summary>
/// <remarks>
/// Sharing the array is safe because nothing writes to it: the activity copies the attributes into its own list, and
/// a sampler receives them as a read-only sequence whose values are the same for every span of the destination.
/// </remarks>
internal sealed class SpanShape(
    string name, KeyValuePair<string, object?>[] samplingTags, string system, string operationName, string? subscription, string? serverAddress, int? serverPort)
{
    // Destinations are few; the bound only guards against a caller passing per-message names.
    private const int MaxCached = 1024;

    /// <summary>Gets the span name, <c>{operation type} {destination}</c>.</summary>
    public string Name { get; } = name;

    /// <summary>Gets the attributes for span creation; never written to.</summary>
    public KeyValuePair<string, object?>[] SamplingTags { get; } = samplingTags;

    /// <summary>The shape of a PRODUCER span for <paramref name="message"/>, from <paramref name="cache"/> when it matches.</summary>
    public static SpanShape Producer(ConcurrentDictionary<string, SpanShape> cache, in OutgoingMessage message) =>
        Get(cache, SemanticConventions.OperationTypeSend, message.System, message.Destination, message.OperationName, subscription: null, message.ServerAddress, message.ServerPort);

    /// <summary>The shape of a CONSUMER span for <paramref name="message"/>, from <paramref name="cache"/> when it matches.</summary>
    public static SpanShape Consumer(ConcurrentDictionary<string, SpanShape> cache, in IncomingMessage message) =>
        Get(cache, SemanticConventions.OperationTypeProcess, message.System, message.Destination, message.OperationName, message.Subscription, message.ServerAddress, message.ServerPort);

    private static SpanShape Get(
        ConcurrentDictionary<string, SpanShape> cache, string operationType, string system, string destination, string operationName, string? subscription, string? serverAddress, int? serverPort)
    {
        if (cache.TryGetValue(destination, out var shape) && shape.Matches(system, operationName, subscription, serverAddress, serverPort))
        {
            return shape;
        }

        shape = new SpanShape(
            string.IsNullOrEmpty(destination) ? operationType : operationType + " " + destination,
            SpanTags.Sampling(system, destination, operationType, operationName, subscription, serverAddress, serverPort),
            system,
            operationName,
            subscription,
            serverAddress,
            serverPort);

        // The latest shape of a destination wins: a destination whose other attributes vary per message is rebuilt each time, as without a cache.
        if (cache.Count < MaxCached || cache.ContainsKey(destination))
        {
            cache[destination] = shape;
        }

        return shape;
    }

    private bool Matches(string otherSystem, string otherOperationName, string? otherSubscription, string? otherServerAddress, int? otherServerPort) =>
        string.Equals(system, otherSystem, StringComparison.Ordinal)
        && string.Equals(operationName, otherOperationName, StringComparison.Ordinal)
        && string.Equals(subscription, otherSubscription, StringComparison.Ordinal)
        && string.Equals(serverAddress, otherServerAddress, StringComparison.Ordinal)
        && serverPort == otherServerPort;
}

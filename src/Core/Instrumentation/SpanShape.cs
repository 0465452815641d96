using System.Collections.Concurrent;

namespace Messaging;

/// <summary>
/// What every span and measurement of one destination has in common: its name, the sampling-relevant attributes passed
/// to <see cref="System.Diagnostics.ActivitySource"/> at creation, and the attributes of its metrics. A worker or publisher sends its messages to a handful
/// of destinations with the same system, operation and server, so the name and the attribute array are built once per
/// destination and shared by its spans instead of being allocated for each message (<see cref="Cache"/>).
/// </summary>
/// <remarks>
/// Sharing the array is safe because nothing writes to it: the activity copies the attributes into its own list, and
/// a sampler receives them as a read-only sequence whose values are the same for every span of the destination.
/// </remarks>
internal sealed class SpanShape(
    string destination, string name, KeyValuePair<string, object?>[] samplingTags, string system, string operationName, string? subscription, string? serverAddress, int? serverPort)
{
    /// <summary>Gets the span name, <c>{operation type} {destination}</c>.</summary>
    public string Name { get; } = name;

    /// <summary>Gets the attributes for span creation; never written to.</summary>
    public KeyValuePair<string, object?>[] SamplingTags { get; } = samplingTags;

    /// <summary>Gets <c>messaging.system</c>.</summary>
    public string System { get; } = system;

    /// <summary>Gets <c>messaging.destination.name</c>.</summary>
    public string Destination { get; } = destination;

    /// <summary>Gets <c>messaging.operation.name</c>.</summary>
    public string OperationName { get; } = operationName;

    private bool Matches(string otherDestination, string otherSystem, string otherOperationName, string? otherSubscription, string? otherServerAddress, int? otherServerPort) =>
        string.Equals(Destination, otherDestination, StringComparison.Ordinal)
        && string.Equals(System, otherSystem, StringComparison.Ordinal)
        && string.Equals(OperationName, otherOperationName, StringComparison.Ordinal)
        && string.Equals(subscription, otherSubscription, StringComparison.Ordinal)
        && string.Equals(serverAddress, otherServerAddress, StringComparison.Ordinal)
        && serverPort == otherServerPort;

    /// <summary>The shapes of one span kind, by destination.</summary>
    /// <param name="operationType">The operation type of the kind: <c>send</c> or <c>process</c>.</param>
    /// <remarks>
    /// Sharing a destination's name and attribute array saves 280 of 1,464 B (19 %) per consumer span and 216 of
    /// 1,464 B (15 %) per producer span (micro benchmarks with a listener).
    /// </remarks>
    internal sealed class Cache(string operationType)
    {
        // Destinations are few; the bound only guards against a caller passing per-message names.
        private const int MaxCached = 1024;

        private readonly ConcurrentDictionary<string, SpanShape> _byDestination = new(StringComparer.Ordinal);

        /// <summary>The shape of a PRODUCER span for <paramref name="message"/>.</summary>
        public SpanShape For(in OutgoingMessage message) =>
            Get(message.System, message.Destination, message.OperationName, subscription: null, message.ServerAddress, message.ServerPort);

        /// <summary>The shape of a CONSUMER span for <paramref name="message"/>.</summary>
        public SpanShape For(in IncomingMessage message) =>
            Get(message.System, message.Destination, message.OperationName, message.Subscription, message.ServerAddress, message.ServerPort);

        private SpanShape Get(string system, string destination, string operationName, string? subscription, string? serverAddress, int? serverPort)
        {
            if (!_byDestination.TryGetValue(destination, out var shape) || !shape.Matches(destination, system, operationName, subscription, serverAddress, serverPort))
            {
                shape = new SpanShape(
                    destination,
                    string.IsNullOrEmpty(destination) ? operationType : operationType + " " + destination,
                    SpanTags.Sampling(system, destination, operationType, operationName, subscription, serverAddress, serverPort),
                    system,
                    operationName,
                    subscription,
                    serverAddress,
                    serverPort);

                // The latest shape of a destination wins: a destination whose other attributes vary per message is rebuilt each time, as without a cache.
                if (_byDestination.Count < MaxCached || _byDestination.ContainsKey(destination))
                {
                    _byDestination[destination] = shape;
                }
            }

            return shape;
        }
    }
}

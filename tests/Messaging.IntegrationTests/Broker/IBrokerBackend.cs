namespace Messaging.IntegrationTests.Broker;

/// <summary>Where the integration tests' broker comes from.</summary>
public enum BrokerKind
{
    /// <summary>A RabbitMQ container started through Testcontainers (Docker, or podman's Docker API service).</summary>
    Container,

    /// <summary>A throwaway <c>rabbitmq-server</c> node started on this machine.</summary>
    LocalNode,

    /// <summary>An existing broker named by <c>RABBITMQ_URI</c>.</summary>
    External,
}

/// <summary>One way of providing a broker; <see cref="RabbitMqBroker"/> puts a single surface over all of them.</summary>
internal interface IBrokerBackend : IAsyncDisposable
{
    BrokerKind Kind { get; }

    Uri Uri { get; }

    /// <summary>The Erlang node name, or null when it is not known (an external broker without <c>RABBITMQ_NODENAME</c>).</summary>
    string? NodeName { get; }

    /// <summary>True when <see cref="RunCtlAsync"/> can drive the broker.</summary>
    bool SupportsFaultInjection { get; }

    /// <summary>True once the broker's process is known to be gone (only a local node can tell).</summary>
    bool HasExited { get; }

    /// <summary>Runs <c>rabbitmqctl args...</c> against the broker's node.</summary>
    Task<CommandResult> RunCtlAsync(IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken ct);

    /// <summary>What the broker is and the tail of its logs, for error messages.</summary>
    Task<string> DiagnosticsAsync();

    /// <summary>A one-line description without credentials.</summary>
    string Describe();
}

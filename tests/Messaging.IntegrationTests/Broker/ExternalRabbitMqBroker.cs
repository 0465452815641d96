namespace Messaging.IntegrationTests.Broker;

/// <summary>
/// A broker someone else runs, named by <c>RABBITMQ_URI</c>. Fault injection needs <c>RABBITMQ_NODENAME</c>
/// and a local <c>rabbitmqctl</c> that holds the node's Erlang cookie.
/// </summary>
internal sealed class ExternalRabbitMqBroker : IBrokerBackend
{
    private readonly string? _ctlPath;

    private ExternalRabbitMqBroker(Uri uri, string? nodeName, string? ctlPath)
    {
        Uri = uri;
        NodeName = nodeName;
        _ctlPath = ctlPath;
    }

    public BrokerKind Kind => BrokerKind.External;

    public Uri Uri { get; }

    public string? NodeName { get; }

    public bool SupportsFaultInjection => NodeName is not null;

    public bool HasExited => false;

    /// <summary>Reads <c>RABBITMQ_URI</c> and <c>RABBITMQ_NODENAME</c>; does not connect.</summary>
    public static ExternalRabbitMqBroker FromEnvironment(string uriText)
    {
        if (!Uri.TryCreate(uriText.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
        {
            throw new InvalidOperationException($"{RabbitMqBroker.UriVariable} must be an absolute amqp:// or amqps:// URI.");
        }

        var nodeName = Environment.GetEnvironmentVariable(RabbitMqBroker.NodeNameVariable);
        nodeName = string.IsNullOrWhiteSpace(nodeName) ? null : nodeName.Trim();
        return new ExternalRabbitMqBroker(uri, nodeName, nodeName is null ? null : RabbitMqTools.LocateCtl());
    }

    /// <summary>One node of an external cluster, driven with <c>rabbitmqctl -n <paramref name="nodeName"/></c> when given.</summary>
    public static ExternalRabbitMqBroker ForNode(Uri uri, string? nodeName) =>
        new(uri, nodeName, nodeName is null ? null : RabbitMqTools.LocateCtl());

    public Task<CommandResult> RunCtlAsync(IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken ct)
    {
        if (NodeName is null || _ctlPath is null)
        {
            throw new NotSupportedException(
                $"Fault injection ('rabbitmqctl {string.Join(' ', arguments)}') needs the broker's node name: the broker came from "
                + $"{RabbitMqBroker.UriVariable}, so also set {RabbitMqBroker.NodeNameVariable} (e.g. rabbit@hostname) with rabbitmqctl installed and "
                + $"the node's Erlang cookie available, or unset {RabbitMqBroker.UriVariable} to let the tests start their own broker.");
        }

        return ProcessRunner.RunAsync(_ctlPath, ["-n", NodeName, .. arguments], environment: null, timeout, ct);
    }

    public Task<string> DiagnosticsAsync() => Task.FromResult($"{RabbitMqBroker.UriVariable}={RabbitMqBroker.Redact(Uri)}");

    public string Describe() => $"external broker {RabbitMqBroker.Redact(Uri)} (node {NodeName ?? "unknown"})";

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

using System.Diagnostics;
using System.Globalization;
using RabbitMQ.Client;

namespace Messaging.IntegrationTests.Broker;

/// <summary>
/// A RabbitMQ broker for integration tests, with fault injection through <c>rabbitmqctl</c>.
/// </summary>
/// <remarks>
/// <para>Discovery: if <c>RABBITMQ_URI</c> is set, that broker is used as is (and fault injection is
/// available only when <c>RABBITMQ_NODENAME</c> names its node for rabbitmqctl). Otherwise a throwaway
/// <c>rabbitmq-server</c> node is started on free loopback ports with its own temporary directory,
/// and stopped and deleted on <see cref="DisposeAsync"/>.</para>
/// </remarks>
public sealed partial class RabbitMqBroker : IAsyncDisposable
{
    /// <summary>Environment variable naming an existing broker to use instead of starting a node.</summary>
    public const string UriVariable = "RABBITMQ_URI";

    /// <summary>With <see cref="UriVariable"/>: the node name rabbitmqctl should drive for fault injection.</summary>
    public const string NodeNameVariable = "RABBITMQ_NODENAME";

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CtlTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ProbeConnectionTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(200);
    private const int StartAttempts = 3;

    private readonly LocalRabbitMqNode? _node;
    private readonly string? _externalCtlPath;

    private RabbitMqBroker(Uri uri, string? nodeName, LocalRabbitMqNode? node, string? externalCtlPath, TimeSpan startupDuration)
    {
        Uri = uri;
        NodeName = nodeName;
        _node = node;
        _externalCtlPath = externalCtlPath;
        StartupDuration = startupDuration;
    }

    /// <summary>The AMQP URI, e.g. <c>amqp://guest:guest@127.0.0.1:PORT/</c>.</summary>
    public Uri Uri { get; }

    /// <summary>The Erlang node name, or null for an external broker given without <c>RABBITMQ_NODENAME</c>.</summary>
    public string? NodeName { get; }

    /// <summary>True when the broker came from <c>RABBITMQ_URI</c> rather than being started here.</summary>
    public bool IsExternal => _node is null;

    /// <summary>True when <see cref="StopAppAsync"/> and friends can be used.</summary>
    public bool SupportsFaultInjection => NodeName is not null;

    /// <summary>How long it took until the broker accepted AMQP connections.</summary>
    public TimeSpan StartupDuration { get; }

    /// <summary>Uses <c>RABBITMQ_URI</c> if set, otherwise starts a throwaway node; returns once it accepts AMQP connections.</summary>
    public static Task<RabbitMqBroker> StartAsync(CancellationToken ct = default)
    {
        var uri = Environment.GetEnvironmentVariable(UriVariable);
        return string.IsNullOrWhiteSpace(uri) ? StartLocalNodeAsync(ct) : UseExternalAsync(uri, ct);
    }

    /// <summary>Stops the RabbitMQ application (<c>rabbitmqctl stop_app</c>); the Erlang node keeps running and connections drop.</summary>
    public async Task StopAppAsync(CancellationToken ct = default) =>
        await RunCtlAsync(["stop_app"], ct).ConfigureAwait(false);

    /// <summary>Starts the RabbitMQ application again (<c>rabbitmqctl start_app</c>) and waits until AMQP connections are accepted.</summary>
    public async Task StartAppAsync(CancellationToken ct = default)
    {
        await RunCtlAsync(["start_app"], ct).ConfigureAwait(false);
        await WaitUntilAcceptingConnectionsAsync(Uri, _node, Stopwatch.StartNew(), ct).ConfigureAwait(false);
    }

    /// <summary>Closes every client connection on the node, in all virtual hosts (<c>rabbitmqctl close_all_connections</c>).</summary>
    /// <param name="reason">Sent to clients in the connection.close; letters, digits, spaces and <c>.,:_-</c> only.</param>
    /// <param name="ct">Cancels waiting for rabbitmqctl.</param>
    public async Task CloseAllConnectionsAsync(string reason = "closed by integration test", CancellationToken ct = default)
    {
        // Debian's wrapper re-quotes arguments into an `su -c` command line, so keep the text shell-inert.
        if (string.IsNullOrWhiteSpace(reason) || !reason.All(c => char.IsAsciiLetterOrDigit(c) || " .,:_-".Contains(c, StringComparison.Ordinal)))
        {
            throw new ArgumentException("The reason may only contain ASCII letters, digits, spaces and .,:_-", nameof(reason));
        }

        await RunCtlAsync(["close_all_connections", "--global", reason], ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The client-provided names of the connections open on the node (the <c>connection_name</c> client property, from
    /// <c>rabbitmqctl list_connections client_properties</c>).
    /// </summary>
    /// <param name="ct">Cancels waiting for rabbitmqctl.</param>
    /// <returns>One name per connection; an empty string for a connection without one.</returns>
    public async Task<IReadOnlyList<string>> ListConnectionNamesAsync(CancellationToken ct = default)
    {
        var result = await RunCtlAsync(["--quiet", "list_connections", "--no-table-headers", "client_properties"], ct).ConfigureAwait(false);
        return result.StandardOutput
            .Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(static line => ConnectionName().Match(line) is { Success: true } m ? m.Groups[1].Value : string.Empty)
            .ToList();
    }

    // The property prints as {"connection_name","name"} (older CLIs: {<<"connection_name">>,longstr,<<"name">>}).
    [System.Text.RegularExpressions.GeneratedRegex("connection_name\"(?:>>)?,(?:longstr,)?(?:<<)?\"([^\"]*)\"")]
    private static partial System.Text.RegularExpressions.Regex ConnectionName();

    /// <summary>Stops and deletes a node started here; does nothing for an external broker.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override string ToString() =>
        IsExternal ? $"external broker {Redact(Uri)} (node {NodeName ?? "unknown"})" : $"local node {NodeName} at {Uri}";

    private static async Task<RabbitMqBroker> StartLocalNodeAsync(CancellationToken ct)
    {
        await RabbitMqTools.EnsureInstalledAsync(ct).ConfigureAwait(false);
        var tools = RabbitMqTools.LocateForLocalNode();
        for (var attempt = 1; ; attempt++)
        {
            var node = await LocalRabbitMqNode.CreateAsync(tools, ct).ConfigureAwait(false);
            var stopwatch = Stopwatch.StartNew();
            try
            {
                node.Start();
                await WaitUntilAcceptingConnectionsAsync(node.Uri, node, stopwatch, ct).ConfigureAwait(false);
                return new RabbitMqBroker(node.Uri, node.NodeName, node, externalCtlPath: null, stopwatch.Elapsed);
            }
            catch (InvalidOperationException) when (attempt < StartAttempts && node.HasExited && PortWasTaken(node))
            {
                // Another process grabbed one of the probed ports before the node bound it: try fresh ports.
                await node.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await node.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    private static async Task<RabbitMqBroker> UseExternalAsync(string uriText, CancellationToken ct)
    {
        if (!Uri.TryCreate(uriText.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
        {
            throw new InvalidOperationException($"{UriVariable} must be an absolute amqp:// or amqps:// URI.");
        }

        var nodeName = Environment.GetEnvironmentVariable(NodeNameVariable);
        nodeName = string.IsNullOrWhiteSpace(nodeName) ? null : nodeName.Trim();
        var ctlPath = nodeName is null ? null : RabbitMqTools.LocateCtl();
        var stopwatch = Stopwatch.StartNew();
        await WaitUntilAcceptingConnectionsAsync(uri, node: null, stopwatch, ct).ConfigureAwait(false);
        return new RabbitMqBroker(uri, nodeName, node: null, ctlPath, stopwatch.Elapsed);
    }

    private static bool PortWasTaken(LocalRabbitMqNode node) =>
        node.Diagnostics().Contains("eaddrinuse", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Polls with real AMQP connections until the broker accepts one. This waits for an external
    /// process with a deadline; it fails at once if the node process exits.
    /// </summary>
    private static async Task WaitUntilAcceptingConnectionsAsync(Uri uri, LocalRabbitMqNode? node, Stopwatch stopwatch, CancellationToken ct)
    {
        var factory = new ConnectionFactory
        {
            Uri = uri,
            AutomaticRecoveryEnabled = false,
            RequestedConnectionTimeout = ProbeConnectionTimeout,
            ClientProvidedName = "msgtest-readiness-probe",
        };
        Exception? lastError = null;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (node is { HasExited: true })
            {
                throw new InvalidOperationException(
                    $"The RabbitMQ node exited before accepting AMQP connections (after {stopwatch.Elapsed.TotalSeconds:0.0} s).\n{node.Diagnostics()}");
            }

            try
            {
                var connection = await factory.CreateConnectionAsync(ct).ConfigureAwait(false);
                await connection.CloseAsync(ct).ConfigureAwait(false);
                connection.Dispose();
                return;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // Typically BrokerUnreachableException (nothing listening yet) or a connection closed during boot.
                lastError = ex;
            }

            if (stopwatch.Elapsed > ReadyTimeout)
            {
                var where = node?.Diagnostics() ?? $"{UriVariable}={Redact(uri)}";
                throw new InvalidOperationException(
                    string.Create(CultureInfo.InvariantCulture, $"RabbitMQ did not accept AMQP connections within {ReadyTimeout.TotalSeconds:0} s. ")
                    + $"Last error: {lastError?.GetBaseException().Message}\n{where}",
                    lastError);
            }

            await Task.Delay(ProbeInterval, ct).ConfigureAwait(false);
        }
    }

    private static string Redact(Uri uri) =>
        string.IsNullOrEmpty(uri.UserInfo) ? uri.ToString() : uri.ToString().Replace(uri.UserInfo + "@", "***@", StringComparison.Ordinal);

    private async Task<CommandResult> RunCtlAsync(IReadOnlyList<string> arguments, CancellationToken ct)
    {
        CommandResult result;
        if (_node is not null)
        {
            result = await _node.RunCtlAsync(arguments, CtlTimeout, ct).ConfigureAwait(false);
        }
        else if (NodeName is not null && _externalCtlPath is not null)
        {
            result = await ProcessRunner.RunAsync(_externalCtlPath, ["-n", NodeName, .. arguments], environment: null, CtlTimeout, ct)
                .ConfigureAwait(false);
        }
        else
        {
            throw new NotSupportedException(
                $"Fault injection ('rabbitmqctl {string.Join(' ', arguments)}') needs the broker's node name: the broker came from "
                + $"{UriVariable}, so also set {NodeNameVariable} (e.g. rabbit@hostname) with rabbitmqctl installed and the node's "
                + $"Erlang cookie available, or unset {UriVariable} to let the tests start their own node.");
        }

        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'rabbitmqctl -n {NodeName} {string.Join(' ', arguments)}' failed with exit code {result.ExitCode}.\n{result.CombinedOutput}");
        }

        return result;
    }
}

using System.Diagnostics;
using System.Globalization;
using RabbitMQ.Client;

namespace Messaging.IntegrationTests.Broker;

/// <summary>
/// A RabbitMQ broker for integration tests, with fault injection through <c>rabbitmqctl</c>.
/// </summary>
/// <remarks>
/// <para>Where the broker comes from (<see cref="Kind"/>), chosen once per test run:</para>
/// <list type="number">
/// <item><c>RABBITMQ_URI</c> set: that broker, as is (fault injection only when <c>RABBITMQ_NODENAME</c>
/// names its node for the local rabbitmqctl).</item>
/// <item>a container engine answers (<c>DOCKER_HOST</c>, else <c>/var/run/docker.sock</c>): a RabbitMQ
/// container from Testcontainers (image <c>MESSAGING_TESTS_RABBITMQ_IMAGE</c>); rabbitmqctl runs inside it.</item>
/// <item>otherwise: a throwaway <c>rabbitmq-server</c> node on free loopback ports with its own temporary
/// directory.</item>
/// </list>
/// <para><c>MESSAGING_TESTS_BROKER=container|local|external</c> forces one; a forced back-end that is not
/// available fails the run with the reason instead of falling back. Whatever was started here is stopped
/// and deleted on <see cref="DisposeAsync"/>.</para>
/// </remarks>
public sealed partial class RabbitMqBroker : IAsyncDisposable
{
    /// <summary>Environment variable naming an existing broker to use instead of starting one.</summary>
    public const string UriVariable = "RABBITMQ_URI";

    /// <summary>With <see cref="UriVariable"/>: the node name rabbitmqctl should drive for fault injection.</summary>
    public const string NodeNameVariable = "RABBITMQ_NODENAME";

    /// <summary>Environment variable forcing the back-end: <c>container</c>, <c>local</c>, <c>external</c> (or <c>auto</c>, the default).</summary>
    public const string BackendVariable = "MESSAGING_TESTS_BROKER";

    /// <summary>Environment variable naming the RabbitMQ image for the container back-end.</summary>
    public const string ImageVariable = RabbitMqContainerBroker.ImageVariable;

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CtlTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ProbeConnectionTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(200);
    private const int StartAttempts = 3;

    private readonly IBrokerBackend _backend;

    private RabbitMqBroker(IBrokerBackend backend, string selection, TimeSpan startupDuration)
    {
        _backend = backend;
        Selection = selection;
        StartupDuration = startupDuration;
    }

    /// <summary>The AMQP URI, e.g. <c>amqp://guest:guest@127.0.0.1:PORT/</c>. It stays the same for the whole run, across restarts.</summary>
    public Uri Uri => _backend.Uri;

    /// <summary>Where the broker comes from.</summary>
    public BrokerKind Kind => _backend.Kind;

    /// <summary>Why this back-end was chosen, e.g. which container engine answered or why none did.</summary>
    public string Selection { get; }

    /// <summary>The Erlang node name, or null for an external broker given without <c>RABBITMQ_NODENAME</c>.</summary>
    public string? NodeName => _backend.NodeName;

    /// <summary>True when the broker came from <c>RABBITMQ_URI</c> rather than being started here.</summary>
    public bool IsExternal => Kind == BrokerKind.External;

    /// <summary>True when <see cref="StopAppAsync"/> and friends can be used.</summary>
    public bool SupportsFaultInjection => _backend.SupportsFaultInjection;

    /// <summary>How long it took until the broker accepted AMQP connections (container start or node boot included).</summary>
    public TimeSpan StartupDuration { get; }

    /// <summary>Chooses the back-end (see the remarks), starts it if needed, and returns once it accepts AMQP connections.</summary>
    public static Task<RabbitMqBroker> StartAsync(CancellationToken ct = default) => StartAsync(preferContainer: true, ct);

    /// <summary>
    /// As <see cref="StartAsync(CancellationToken)"/>; with <paramref name="preferContainer"/> false the automatic
    /// choice skips the container engine (a local node unless <c>RABBITMQ_URI</c> is set), while
    /// <c>MESSAGING_TESTS_BROKER=container</c> still forces a container. The benchmarks use that, so their numbers
    /// stay comparable with earlier runs on a local node.
    /// </summary>
    public static async Task<RabbitMqBroker> StartAsync(bool preferContainer, CancellationToken ct = default)
    {
        var (kind, selection) = await ChooseAsync(preferContainer, ct).ConfigureAwait(false);
        var stopwatch = Stopwatch.StartNew();
        IBrokerBackend backend = kind switch
        {
            BrokerKind.External => ExternalRabbitMqBroker.FromEnvironment(Environment.GetEnvironmentVariable(UriVariable) ?? string.Empty),
            BrokerKind.Container => await StartContainerAsync(selection, ct).ConfigureAwait(false),
            _ => await StartLocalNodeAsync(stopwatch, ct).ConfigureAwait(false),
        };
        try
        {
            await WaitUntilAcceptingConnectionsAsync(backend, stopwatch, ct).ConfigureAwait(false);
        }
        catch
        {
            await backend.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new RabbitMqBroker(backend, selection, stopwatch.Elapsed);
    }

    /// <summary>Stops the RabbitMQ application (<c>rabbitmqctl stop_app</c>); the Erlang node keeps running and connections drop.</summary>
    public async Task StopAppAsync(CancellationToken ct = default) =>
        await RunCtlAsync(["stop_app"], ct).ConfigureAwait(false);

    /// <summary>Starts the RabbitMQ application again (<c>rabbitmqctl start_app</c>) and waits until AMQP connections are accepted.</summary>
    public async Task StartAppAsync(CancellationToken ct = default)
    {
        await RunCtlAsync(["start_app"], ct).ConfigureAwait(false);
        await WaitUntilAcceptingConnectionsAsync(_backend, Stopwatch.StartNew(), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Restarts the broker and waits until AMQP connections are accepted again; <see cref="Uri"/> does not change.
    /// A container is stopped and started (the broker process goes away; queues declared durable, users and
    /// the node name survive); a local or external node gets <c>stop_app</c> + <c>start_app</c> (its Erlang VM keeps running).
    /// </summary>
    public async Task RestartAsync(CancellationToken ct = default)
    {
        if (_backend is RabbitMqContainerBroker container)
        {
            await container.RestartAsync(ct).ConfigureAwait(false);
            await WaitUntilAcceptingConnectionsAsync(_backend, Stopwatch.StartNew(), ct).ConfigureAwait(false);
        }
        else
        {
            await StopAppAsync(ct).ConfigureAwait(false);
            await StartAppAsync(ct).ConfigureAwait(false);
        }
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

    /// <summary>Stops and deletes a node or container started here; does nothing for an external broker.</summary>
    public ValueTask DisposeAsync() => _backend.DisposeAsync();

    /// <inheritdoc />
    public override string ToString() => _backend.Describe();

    /// <summary>The URI without its user information, for messages.</summary>
    internal static string Redact(Uri uri) =>
        string.IsNullOrEmpty(uri.UserInfo) ? uri.ToString() : uri.ToString().Replace(uri.UserInfo + "@", "***@", StringComparison.Ordinal);

    private static async Task<(BrokerKind Kind, string Selection)> ChooseAsync(bool preferContainer, CancellationToken ct)
    {
        var forced = Environment.GetEnvironmentVariable(BackendVariable)?.Trim().ToUpperInvariant();
        var uri = Environment.GetEnvironmentVariable(UriVariable);
        var hasUri = !string.IsNullOrWhiteSpace(uri);
        switch (forced)
        {
            case null or "" or "AUTO":
                if (hasUri)
                {
                    return (BrokerKind.External, $"{UriVariable} is set");
                }

                if (!preferContainer)
                {
                    return (BrokerKind.LocalNode, $"{BackendVariable} is not set and this harness prefers a local node");
                }

                var probe = await ContainerEngine.ProbeAsync(ct).ConfigureAwait(false);
                return probe.Reachable
                    ? (BrokerKind.Container, $"a container engine answers at {probe.Endpoint}")
                    : (BrokerKind.LocalNode, $"no container engine: {probe.Problem}; falling back to a local rabbitmq-server node");
            case "CONTAINER":
                var forcedProbe = await ContainerEngine.ProbeAsync(ct).ConfigureAwait(false);
                return forcedProbe.Reachable
                    ? (BrokerKind.Container, $"{BackendVariable}=container; the container engine answers at {forcedProbe.Endpoint}")
                    : throw new InvalidOperationException(
                        $"{BackendVariable}=container, but no container engine is reachable: {forcedProbe.Problem}. Start one "
                        + $"(build/container-engine.sh setup && build/container-engine.sh start, then eval \"$(build/container-engine.sh env)\"), "
                        + $"point {ContainerEngine.DockerHostVariable} at it, or unset {BackendVariable}.");
            case "LOCAL":
                return (BrokerKind.LocalNode, $"{BackendVariable}=local");
            case "EXTERNAL":
                return hasUri
                    ? (BrokerKind.External, $"{BackendVariable}=external and {UriVariable} is set")
                    : throw new InvalidOperationException($"{BackendVariable}=external needs {UriVariable} (amqp://user:pass@host:port/).");
            default:
                throw new InvalidOperationException($"{BackendVariable} must be auto, container, local or external, not '{forced.ToLowerInvariant()}'.");
        }
    }

    private static async Task<IBrokerBackend> StartContainerAsync(string selection, CancellationToken ct)
    {
        try
        {
            return await RabbitMqContainerBroker.StartAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new InvalidOperationException(
                $"Could not start the RabbitMQ container (image {RabbitMqContainerBroker.ConfiguredImage}; {selection}): {ex.GetBaseException().Message}\n"
                + $"Set {ImageVariable} to an image this engine has or can pull (build/container-engine.sh setup builds one offline), "
                + $"or {BackendVariable}=local to use a local rabbitmq-server node.",
                ex);
        }
    }

    private static async Task<IBrokerBackend> StartLocalNodeAsync(Stopwatch stopwatch, CancellationToken ct)
    {
        await RabbitMqTools.EnsureInstalledAsync(ct).ConfigureAwait(false);
        var tools = RabbitMqTools.LocateForLocalNode();
        for (var attempt = 1; ; attempt++)
        {
            var node = await LocalRabbitMqNode.CreateAsync(tools, ct).ConfigureAwait(false);
            stopwatch.Restart();
            try
            {
                node.Start();
                await WaitUntilAcceptingConnectionsAsync(node, stopwatch, ct).ConfigureAwait(false);
                return node;
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

    private static bool PortWasTaken(LocalRabbitMqNode node) =>
        node.Diagnostics().Contains("eaddrinuse", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Polls with real AMQP connections until the broker accepts one. This waits for an external
    /// process with a deadline; it fails at once if a local node's process exits.
    /// </summary>
    internal static async Task WaitUntilAcceptingConnectionsAsync(IBrokerBackend backend, Stopwatch stopwatch, CancellationToken ct)
    {
        var factory = new ConnectionFactory
        {
            Uri = backend.Uri,
            AutomaticRecoveryEnabled = false,
            RequestedConnectionTimeout = ProbeConnectionTimeout,
            ClientProvidedName = "msgtest-readiness-probe",
        };
        Exception? lastError = null;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (backend.HasExited)
            {
                throw new InvalidOperationException(
                    $"The RabbitMQ node exited before accepting AMQP connections (after {stopwatch.Elapsed.TotalSeconds:0.0} s).\n"
                    + await backend.DiagnosticsAsync().ConfigureAwait(false));
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
                throw new InvalidOperationException(
                    string.Create(CultureInfo.InvariantCulture, $"RabbitMQ did not accept AMQP connections within {ReadyTimeout.TotalSeconds:0} s. ")
                    + $"Last error: {lastError?.GetBaseException().Message}\n{await backend.DiagnosticsAsync().ConfigureAwait(false)}",
                    lastError);
            }

            await Task.Delay(ProbeInterval, ct).ConfigureAwait(false);
        }
    }

    private async Task<CommandResult> RunCtlAsync(IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var result = await _backend.RunCtlAsync(arguments, CtlTimeout, ct).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'rabbitmqctl {string.Join(' ', arguments)}' on {_backend.Describe()} failed with exit code {result.ExitCode}.\n{result.CombinedOutput}");
        }

        return result;
    }
}

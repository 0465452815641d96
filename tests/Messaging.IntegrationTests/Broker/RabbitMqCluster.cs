using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Messaging.IntegrationTests.Broker;

/// <summary>One node of a <see cref="RabbitMqCluster"/>.</summary>
public sealed class ClusterNode
{
    internal ClusterNode(IBrokerBackend backend, string name)
    {
        Backend = backend;
        Name = name;
    }

    /// <summary>The Erlang node name, e.g. <c>msgtest-…@localhost</c>.</summary>
    public string Name { get; }

    /// <summary>The node's AMQP address.</summary>
    public Uri Uri => Backend.Uri;

    internal IBrokerBackend Backend { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({RabbitMqBroker.Redact(Uri)})";
}

/// <summary>
/// A RabbitMQ cluster for the cluster tests: three throwaway local <c>rabbitmq-server</c> nodes joined with
/// <c>rabbitmqctl join_cluster</c> (loopback ports, own data directories, one Erlang cookie, no plugins), or an
/// external cluster named by <see cref="UrisVariable"/>, driven for fault injection through <see cref="NodeNamesVariable"/>.
/// </summary>
/// <remarks>
/// Local nodes rather than containers: a node boots in about 6 s without an image, shares the machine's Erlang and
/// cookie handling with the single-node fallback, and <c>rabbitmqctl -n NODE</c> reaches each node directly, which is
/// all fault injection needs; a container network would add an engine, an image with clustering set up and three
/// published port sets for nothing the tests look at.
/// </remarks>
public sealed class RabbitMqCluster : IAsyncDisposable
{
    /// <summary>Comma-separated AMQP URIs, one per node, of an existing cluster to use instead of starting one.</summary>
    public const string UrisVariable = "RABBITMQ_CLUSTER_URIS";

    /// <summary>With <see cref="UrisVariable"/>: the nodes' names for rabbitmqctl, in the same order.</summary>
    public const string NodeNamesVariable = "RABBITMQ_CLUSTER_NODENAMES";

    private const int NodeCount = 3;
    private static readonly TimeSpan CtlTimeout = TimeSpan.FromSeconds(60);

    private readonly HashSet<ClusterNode> _stopped = [];
    private readonly string? _home;

    private RabbitMqCluster(IReadOnlyList<ClusterNode> nodes, bool external, string? home, TimeSpan startup)
    {
        Nodes = nodes;
        IsExternal = external;
        _home = home;
        StartupDuration = startup;
    }

    /// <summary>The nodes; the first is the one the others joined.</summary>
    public IReadOnlyList<ClusterNode> Nodes { get; }

    /// <summary>True for a cluster from <see cref="UrisVariable"/>.</summary>
    public bool IsExternal { get; }

    /// <summary>How long starting and joining took.</summary>
    public TimeSpan StartupDuration { get; }

    /// <summary>Every node's URI: what an application lists as its endpoints.</summary>
    public IEnumerable<Uri> Uris => Nodes.Select(n => n.Uri);

    /// <summary>Starts (or, with <see cref="UrisVariable"/>, finds) the cluster and returns once every node runs in it.</summary>
    public static async Task<RabbitMqCluster> StartAsync(CancellationToken ct = default)
    {
        var watch = Stopwatch.StartNew();
        var uris = Environment.GetEnvironmentVariable(UrisVariable);
        if (!string.IsNullOrWhiteSpace(uris))
        {
            return External(uris, Environment.GetEnvironmentVariable(NodeNamesVariable), watch);
        }

        await RabbitMqTools.EnsureInstalledAsync(ct).ConfigureAwait(false);
        var tools = RabbitMqTools.LocateForLocalNode();

        // Run as the current user, node and rabbitmqctl take the cookie from HOME: one HOME, one cookie. (Through
        // Debian's wrapper as root they share the rabbitmq user's.)
        var home = tools.RunsAsRabbitMqUser ? null : Directory.CreateTempSubdirectory("msgtest-cluster-home-").FullName;
        var nodes = new List<LocalRabbitMqNode>();
        try
        {
            for (var i = 0; i < NodeCount; i++)
            {
                nodes.Add(await LocalRabbitMqNode.CreateAsync(tools, ct, home).ConfigureAwait(false));
            }

            foreach (var node in nodes)
            {
                node.Start();
            }

            await Task.WhenAll(nodes.Select(n => RabbitMqBroker.WaitUntilAcceptingConnectionsAsync(n, Stopwatch.StartNew(), ct))).ConfigureAwait(false);
            var cluster = new RabbitMqCluster([.. nodes.Select(n => new ClusterNode(n, n.NodeName))], external: false, home, TimeSpan.Zero);
            foreach (var node in cluster.Nodes.Skip(1))
            {
                await CtlAsync(node, ["stop_app"], ct).ConfigureAwait(false);
                await CtlAsync(node, ["join_cluster", cluster.Nodes[0].Name], ct).ConfigureAwait(false);
                await CtlAsync(node, ["start_app"], ct).ConfigureAwait(false);
                await RabbitMqBroker.WaitUntilAcceptingConnectionsAsync(node.Backend, Stopwatch.StartNew(), ct).ConfigureAwait(false);
            }

            var running = await cluster.RunningNodesAsync(ct).ConfigureAwait(false);
            if (running.Count != NodeCount)
            {
                throw new InvalidOperationException($"The cluster formed with {running.Count} running node(s), not {NodeCount}: {string.Join(", ", running)}");
            }

            return new RabbitMqCluster(cluster.Nodes, external: false, home, watch.Elapsed);
        }
        catch
        {
            await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask())).ConfigureAwait(false);
            DeleteHome(home);
            throw;
        }
    }

    /// <summary>The node whose AMQP port is <paramref name="port"/>.</summary>
    public ClusterNode NodeAt(int port) =>
        Nodes.FirstOrDefault(n => n.Uri.Port == port) ?? throw new InvalidOperationException($"No node of the cluster listens on port {port}: {string.Join(", ", Nodes)}");

    /// <summary>The node hosting the leader of quorum queue <paramref name="queue"/> (<c>rabbitmqctl list_queues name leader</c>).</summary>
    public async Task<ClusterNode> QueueLeaderAsync(string queue, CancellationToken ct = default)
    {
        var result = await CtlAsync(AnyRunning(), ["--quiet", "list_queues", "--no-table-headers", "name", "leader"], ct).ConfigureAwait(false);
        foreach (var line in result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var columns = line.Split('\t');
            if (columns.Length == 2 && columns[0] == queue)
            {
                return Nodes.FirstOrDefault(n => n.Name == columns[1])
                    ?? throw new InvalidOperationException($"Queue {queue} is led by {columns[1]}, which is not one of {string.Join(", ", Nodes)}.");
            }
        }

        throw new InvalidOperationException($"Queue {queue} was not listed (or has no leader):\n{result.StandardOutput}");
    }

    /// <summary>Stops the RabbitMQ application on one node (<c>rabbitmqctl stop_app</c>): its connections drop, its queue replicas go offline.</summary>
    public async Task StopAppAsync(ClusterNode node, CancellationToken ct = default)
    {
        await CtlAsync(Own(node), ["stop_app"], ct).ConfigureAwait(false);
        _stopped.Add(node);
    }

    /// <summary>Starts the application on a stopped node again and waits until it accepts connections.</summary>
    public async Task StartAppAsync(ClusterNode node, CancellationToken ct = default)
    {
        await CtlAsync(node, ["start_app"], ct).ConfigureAwait(false);
        await RabbitMqBroker.WaitUntilAcceptingConnectionsAsync(node.Backend, Stopwatch.StartNew(), ct).ConfigureAwait(false);
        _stopped.Remove(node);
    }

    /// <summary>Starts every node a test left stopped, so the next test begins with the whole cluster.</summary>
    public async Task RestoreAsync(CancellationToken ct = default)
    {
        foreach (var node in _stopped.ToList())
        {
            await StartAppAsync(node, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Closes every client connection on one node (<c>rabbitmqctl close_all_connections</c>); the node keeps running.</summary>
    public Task CloseAllConnectionsAsync(ClusterNode node, CancellationToken ct = default) =>
        CtlAsync(Own(node), ["close_all_connections", "closed by cluster test"], ct);

    /// <summary>Stops and deletes the nodes started here; leaves an external cluster alone (restarting what a test stopped).</summary>
    public async ValueTask DisposeAsync()
    {
        if (IsExternal)
        {
            await RestoreAsync().ConfigureAwait(false);
            return;
        }

        await Task.WhenAll(Nodes.Select(n => n.Backend.DisposeAsync().AsTask())).ConfigureAwait(false);
        DeleteHome(_home);
    }

    /// <inheritdoc />
    public override string ToString() =>
        (IsExternal ? "external cluster " : string.Create(CultureInfo.InvariantCulture, $"local {Nodes.Count}-node cluster ")) + string.Join(", ", Nodes);

    /// <summary>What each node's log says, for failure messages.</summary>
    public async Task<string> DiagnosticsAsync()
    {
        var builder = new StringBuilder();
        foreach (var node in Nodes)
        {
            builder.Append("=== ").Append(node).Append('\n').Append(await node.Backend.DiagnosticsAsync().ConfigureAwait(false)).Append('\n');
        }

        return builder.ToString();
    }

    private static RabbitMqCluster External(string uris, string? names, Stopwatch watch)
    {
        var list = uris.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps"
                ? uri
                : throw new InvalidOperationException($"{UrisVariable} must list absolute amqp:// or amqps:// URIs, comma-separated; '{u}' is not one."))
            .ToList();
        var nodeNames = string.IsNullOrWhiteSpace(names) ? [] : names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (nodeNames.Length != 0 && nodeNames.Length != list.Count)
        {
            throw new InvalidOperationException($"{NodeNamesVariable} must name one node per URI of {UrisVariable} ({list.Count}), in the same order; it names {nodeNames.Length}.");
        }

        var nodes = list.Select((uri, i) =>
        {
            var name = nodeNames.Length > 0 ? nodeNames[i] : null;
            return new ClusterNode(ExternalRabbitMqBroker.ForNode(uri, name), name ?? uri.Authority);
        }).ToList();
        return new RabbitMqCluster(nodes, external: true, home: null, watch.Elapsed);
    }

    private static void DeleteHome(string? home)
    {
        if (home is not null && Directory.Exists(home))
        {
            try
            {
                Directory.Delete(home, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: an empty temp directory left behind is harmless.
            }
        }
    }

    private ClusterNode Own(ClusterNode node) =>
        Nodes.Contains(node) ? node : throw new ArgumentException($"{node} is not a node of this cluster.", nameof(node));

    private ClusterNode AnyRunning() => Nodes.FirstOrDefault(n => !_stopped.Contains(n)) ?? throw new InvalidOperationException("Every node of the cluster is stopped.");

    private async Task<IReadOnlyList<string>> RunningNodesAsync(CancellationToken ct)
    {
        var result = await CtlAsync(Nodes[0], ["--quiet", "eval", "rabbit_nodes:all_running()."], ct).ConfigureAwait(false);
        return [.. Nodes.Select(n => n.Name).Where(name => result.StandardOutput.Contains(name, StringComparison.Ordinal))];
    }

    private static async Task<CommandResult> CtlAsync(ClusterNode node, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var result = await node.Backend.RunCtlAsync(arguments, CtlTimeout, ct).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'rabbitmqctl -n {node.Name} {string.Join(' ', arguments)}' failed with exit code {result.ExitCode}.\n{result.CombinedOutput}");
        }

        return result;
    }
}

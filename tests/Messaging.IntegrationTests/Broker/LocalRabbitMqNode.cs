using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Messaging.IntegrationTests.Broker;

/// <summary>
/// A throwaway <c>rabbitmq-server</c> node: its own node name, loopback AMQP and distribution ports,
/// and a temporary directory holding its config, enabled-plugins file (no plugins, for a fast boot),
/// Mnesia database and logs. It does not touch a default node the distribution may have started.
/// </summary>
internal sealed class LocalRabbitMqNode : IBrokerBackend
{
    private const int KeptOutputLines = 200;
    private const int LogTailLines = 60;

    // The CLI tools (rabbitmqctl) listen on 35672-35682 for their own distribution connection.
    private const int CliDistributionPortMin = 35672;
    private const int CliDistributionPortMax = 35682;

    private static readonly TimeSpan CtlStopTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Runs the node under a small shell that holds the read end of our stdin pipe. When the test
    /// process goes away without disposing the node (killed, crashed), the pipe reaches end-of-file
    /// and the watchdog stops the node (rabbitmqctl stop, then SIGKILL via the pid file if it is
    /// still up after 20 s) and deletes its directory, so no orphan broker survives.
    /// The node's console output goes to a file, not to a pipe read by the test process: once that
    /// process is gone, a node writing to a broken pipe can hang (observed: boot stalls, stop hangs).
    /// Positional parameters: $1 rabbitmq-server, $2 rabbitmqctl, $3 node name, $4 base directory,
    /// $5 pid file, $6 console output file.
    /// </summary>
    private const string WatchdogScript = """
        server="$1"; ctl="$2"; node="$3"; dir="$4"; pidfile="$5"; console="$6"
        exec 3<&0
        "$server" </dev/null >"$console" 2>&1 3<&- &
        spid=$!
        {
          cat <&3
          if kill -0 "$spid" 2>/dev/null; then
            "$ctl" -n "$node" stop &
            i=0
            while kill -0 "$spid" 2>/dev/null && [ "$i" -lt 40 ]; do sleep 0.5; i=$((i + 1)); done
            if kill -0 "$spid" 2>/dev/null && [ -f "$pidfile" ]; then kill -9 "$(cat "$pidfile")"; fi
            rm -rf "$dir"
          fi
        } </dev/null >/dev/null 2>&1 &
        exec 3<&-
        wait "$spid"
        """;

    private readonly RabbitMqTools _tools;
    private readonly Dictionary<string, string?> _environment;
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;
    private int _disposed;

    private LocalRabbitMqNode(RabbitMqTools tools, string nodeName, int amqpPort, int distributionPort, string baseDirectory, string? home)
    {
        _tools = tools;
        NodeName = nodeName;
        AmqpPort = amqpPort;
        DistributionPort = distributionPort;
        BaseDirectory = baseDirectory;
        _environment = BuildEnvironment(home);
    }

    public BrokerKind Kind => BrokerKind.LocalNode;

    public string NodeName { get; }

    public int AmqpPort { get; }

    public int DistributionPort { get; }

    public string BaseDirectory { get; }

    public Uri Uri => new(string.Create(CultureInfo.InvariantCulture, $"amqp://guest:guest@127.0.0.1:{AmqpPort}/"));

    public string CtlPath => _tools.CtlPath;

    /// <summary>Environment overrides for the node and for rabbitmqctl (same cookie, same config files).</summary>
    public IReadOnlyDictionary<string, string?> Environment => _environment;

    public bool HasExited => _process is null || _process.HasExited;

    public bool SupportsFaultInjection => true;

    private string LogFile => Path.Combine(BaseDirectory, "log", NodeName + ".log");

    private string PidFile => Path.Combine(BaseDirectory, "node.pid");

    private string ConsoleFile => Path.Combine(BaseDirectory, "console.log");

    /// <summary>Creates the node's directory and files and picks its ports; does not start it.</summary>
    /// <param name="tools">The RabbitMQ executables.</param>
    /// <param name="cancellationToken">Cancels the set-up.</param>
    /// <param name="home">
    /// The HOME (and so the Erlang cookie) of node and rabbitmqctl when they run as the current user; nodes of one
    /// cluster share it. Default: the node's own directory. Run through Debian's wrapper as root, every node has the
    /// rabbitmq user's home and cookie anyway.
    /// </param>
    public static async Task<LocalRabbitMqNode> CreateAsync(RabbitMqTools tools, CancellationToken cancellationToken, string? home = null)
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var nodeName = string.Create(CultureInfo.InvariantCulture, $"msgtest-{System.Environment.ProcessId}-{suffix}@localhost");

        // The rabbitmq user must be able to reach the directory; TMPDIR may point somewhere private to root.
        var tempRoot = tools.RunsAsRabbitMqUser && Directory.Exists("/tmp") ? "/tmp" : Path.GetTempPath();
        var baseDirectory = Path.Combine(tempRoot, $"msgtest-rabbitmq-{System.Environment.ProcessId}-{suffix}");
        Directory.CreateDirectory(baseDirectory);
        Directory.CreateDirectory(Path.Combine(baseDirectory, "mnesia"));
        Directory.CreateDirectory(Path.Combine(baseDirectory, "log"));
        Directory.CreateDirectory(Path.Combine(baseDirectory, "conf.d"));
        await File.WriteAllTextAsync(Path.Combine(baseDirectory, "enabled_plugins"), "[].\n", cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(baseDirectory, "rabbitmq-env.conf"), string.Empty, cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(
            Path.Combine(baseDirectory, "rabbitmq.conf"),
            """
            # Throwaway node for Messaging.IntegrationTests; deleted when the tests finish.
            # A nearly full CI disk must not raise the disk alarm and block publishers.
            disk_free_limit.absolute = 1MB
            """,
            cancellationToken).ConfigureAwait(false);

        var ports = PickFreePorts(2);
        var node = new LocalRabbitMqNode(tools, nodeName, ports[0], ports[1], baseDirectory, home);
        if (tools.RunsAsRabbitMqUser)
        {
            try
            {
                await node.GiveDirectoryToRabbitMqUserAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await node.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        return node;
    }

    /// <summary>Launches the node process; readiness is awaited by the caller.</summary>
    public void Start()
    {
        var startInfo = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = BaseDirectory,
        };
        foreach (var argument in new[] { "-c", WatchdogScript, "msgtest-rabbitmq", _tools.ServerPath, _tools.CtlPath, NodeName, BaseDirectory, PidFile, ConsoleFile })
        {
            startInfo.ArgumentList.Add(argument);
        }

        ProcessRunner.ApplyEnvironment(startInfo, _environment);

        var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Record(e.Data);
        process.ErrorDataReceived += (_, e) => Record(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    /// <summary>Runs <c>rabbitmqctl -n NODE args...</c>.</summary>
    public Task<CommandResult> RunCtlAsync(IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken) =>
        ProcessRunner.RunAsync(_tools.CtlPath, ["-n", NodeName, .. arguments], _environment, timeout, cancellationToken);

    public string Describe() => $"local node {NodeName} at {Uri}";

    public Task<string> DiagnosticsAsync() => Task.FromResult(Diagnostics());

    /// <summary>Describes the node and shows the tail of its log and console output, for error messages.</summary>
    public string Diagnostics()
    {
        var builder = new StringBuilder();
        builder.Append(CultureInfo.InvariantCulture, $"Node {NodeName}: AMQP 127.0.0.1:{AmqpPort}, distribution port {DistributionPort}, directory {BaseDirectory}");
        builder.Append(CultureInfo.InvariantCulture, $", started with {_tools.ServerPath}");
        if (_tools.RunsAsRabbitMqUser)
        {
            builder.Append(" (runs as user rabbitmq via Debian's wrapper)");
        }

        if (_process is { HasExited: true })
        {
            builder.Append(CultureInfo.InvariantCulture, $"; the node process exited with code {_process.ExitCode}");
        }

        builder.Append(".\n");
        builder.Append(CultureInfo.InvariantCulture, $"--- last {LogTailLines} lines of {LogFile} ---\n");
        builder.Append(ReadTail(LogFile)).Append('\n');
        builder.Append(CultureInfo.InvariantCulture, $"--- last {LogTailLines} lines of {ConsoleFile} (the node's console output) ---\n");
        builder.Append(ReadTail(ConsoleFile));
        var output = _output.ToArray();
        if (output.Length > 0)
        {
            builder.Append("\n--- output of the launching shell ---\n");
            builder.Append(string.Join('\n', output.TakeLast(LogTailLines)));
        }

        return builder.ToString();
    }

    /// <summary>Stops the node gracefully (rabbitmqctl stop), kills what is left, and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                try
                {
                    await RunCtlAsync(["stop"], CtlStopTimeout, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
                {
                    // Fall through to killing the process tree.
                }

                using var exitTimeout = new CancellationTokenSource(ExitTimeout);
                try
                {
                    await _process.WaitForExitAsync(exitTimeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    ProcessRunner.KillTree(_process);
                }
            }

            CloseWatchdogPipe(_process);
            _process.Dispose();
        }

        DeleteDirectory();
    }

    /// <summary>
    /// Picks <paramref name="count"/> distinct ports free on loopback, outside the range rabbitmqctl uses for itself.
    /// Another process may take one before the caller binds it: callers retry on "address in use".
    /// </summary>
    internal static IReadOnlyList<int> PickFreePorts(int count)
    {
        // Hold every probe listener until enough usable ports are found, so the ports differ.
        var listeners = new List<TcpListener>();
        try
        {
            var ports = new List<int>();
            while (ports.Count < count)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (port is < CliDistributionPortMin or > CliDistributionPortMax)
                {
                    ports.Add(port);
                }
            }

            return ports;
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
                listener.Dispose();
            }
        }
    }

    private static void CloseWatchdogPipe(Process process)
    {
        try
        {
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The watchdog already exited.
        }
        catch (InvalidOperationException)
        {
            // Not started with a redirected stdin.
        }
    }

    private Dictionary<string, string?> BuildEnvironment(string? home)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);

        // Inherited RABBITMQ_* settings (a developer's RABBITMQ_NODENAME, RABBITMQ_USE_LONGNAME, ...) must not leak in.
        foreach (var name in System.Environment.GetEnvironmentVariables().Keys.OfType<string>())
        {
            if (name.StartsWith("RABBITMQ_", StringComparison.Ordinal))
            {
                environment[name] = null;
            }
        }

        environment["RABBITMQ_NODENAME"] = NodeName;
        environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        environment["RABBITMQ_NODE_PORT"] = AmqpPort.ToString(CultureInfo.InvariantCulture);
        environment["RABBITMQ_DIST_PORT"] = DistributionPort.ToString(CultureInfo.InvariantCulture);
        environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(BaseDirectory, "mnesia");
        environment["RABBITMQ_LOG_BASE"] = Path.Combine(BaseDirectory, "log");
        environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(BaseDirectory, "rabbitmq.conf");
        environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(BaseDirectory, "enabled_plugins");
        environment["RABBITMQ_PID_FILE"] = PidFile;

        // Keep the machine's own configuration (/etc/rabbitmq) out of the throwaway node.
        environment["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(BaseDirectory, "rabbitmq-env.conf");
        environment["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(BaseDirectory, "advanced.config");
        environment["RABBITMQ_CONFIG_FILES"] = Path.Combine(BaseDirectory, "conf.d", "*.conf");

        // A node that fails to boot writes erl_crash.dump into its working directory, which Debian's
        // wrapper sets to /var/lib/rabbitmq; keep it with the node's other files.
        environment["ERL_CRASH_DUMP"] = Path.Combine(BaseDirectory, "erl_crash.dump");

        // Erlang distribution listens on all interfaces by default; keep it on loopback.
        environment["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}";

        // Scripts call erl, su, sed, ... by name; make sure the standard directories are searched.
        var path = System.Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        var directories = path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).ToList();
        foreach (var standard in new[] { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin" })
        {
            if (!directories.Contains(standard, StringComparer.Ordinal))
            {
                directories.Add(standard);
            }
        }

        environment["PATH"] = string.Join(Path.PathSeparator, directories);

        if (!_tools.RunsAsRabbitMqUser)
        {
            // Not going through `su rabbitmq` (which sets HOME=/var/lib/rabbitmq for node and CLI alike):
            // a private HOME gives node and rabbitmqctl one fresh Erlang cookie, independent of ~/.erlang.cookie.
            environment["HOME"] = home ?? BaseDirectory;
        }

        return environment;
    }

    private async Task GiveDirectoryToRabbitMqUserAsync(CancellationToken cancellationToken)
    {
        var chown = RabbitMqTools.FindExecutable("chown")
            ?? throw new InvalidOperationException("'chown' was not found; cannot hand the node directory to the rabbitmq user.");
        var result = await ProcessRunner.RunAsync(
            chown,
            ["-R", "rabbitmq:rabbitmq", BaseDirectory],
            environment: null,
            TimeSpan.FromSeconds(30),
            cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'chown -R rabbitmq:rabbitmq {BaseDirectory}' failed with exit code {result.ExitCode}. Debian's rabbitmq-server, "
                + "run as root, drops to the rabbitmq user and cannot boot in a directory it does not own.\n"
                + result.CombinedOutput);
        }
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > KeptOutputLines && _output.TryDequeue(out _))
        {
        }
    }

    private static string ReadTail(string file)
    {
        try
        {
            if (!File.Exists(file))
            {
                return "(no such file)";
            }

            var lines = File.ReadAllLines(file);
            return lines.Length == 0 ? "(empty)" : string.Join('\n', lines.TakeLast(LogTailLines));
        }
        catch (IOException ex)
        {
            return $"(could not read it: {ex.Message})";
        }
        catch (UnauthorizedAccessException ex)
        {
            return $"(could not read it: {ex.Message})";
        }
    }

    private void DeleteDirectory()
    {
        try
        {
            if (Directory.Exists(BaseDirectory))
            {
                Directory.Delete(BaseDirectory, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a temp directory left behind is harmless.
        }
        catch (UnauthorizedAccessException)
        {
            // Best effort, as above.
        }
    }

    /// <summary>
    /// Last resort when the test host exits without disposing the fixture: kill the node at once
    /// (no time for a graceful stop during process exit) and remove its directory.
    /// </summary>
    private void OnProcessExit(object? sender, EventArgs e)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_process is not null)
        {
            ProcessRunner.KillTree(_process);
        }

        DeleteDirectory();
    }
}

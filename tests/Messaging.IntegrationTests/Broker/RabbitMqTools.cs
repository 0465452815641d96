namespace Messaging.IntegrationTests.Broker;

/// <summary>
/// Locates the RabbitMQ executables by full path, so a PATH without the sbin directories (a normal
/// user shell, many CI runners) still finds Debian's <c>/usr/sbin/rabbitmq-server</c>.
/// </summary>
/// <remarks>
/// Debian's <c>/usr/sbin/rabbitmq-*</c> are symlinks to <c>rabbitmq-script-wrapper</c>, which, run as
/// root, re-runs the real script through <c>su rabbitmq</c> (so the node's files must be owned by
/// <c>rabbitmq</c>, and both the node and rabbitmqctl get HOME=/var/lib/rabbitmq and therefore the same
/// Erlang cookie). Run by any other user the wrapper refuses, so then the real scripts next to the
/// wrapper are run directly, as the current user.
/// </remarks>
internal sealed class RabbitMqTools
{
    private const string DebianWrapperName = "rabbitmq-script-wrapper";

    private static readonly string[] SearchDirectories =
    [
        "/usr/sbin",
        "/usr/local/sbin",
        "/sbin",
        "/usr/lib/rabbitmq/bin",
        "/opt/rabbitmq/sbin",
        "/usr/local/opt/rabbitmq/sbin",
        "/opt/homebrew/opt/rabbitmq/sbin",
        "/usr/bin",
        "/usr/local/bin",
        "/bin",
    ];

    private RabbitMqTools(string serverPath, string ctlPath, bool runsAsRabbitMqUser)
    {
        ServerPath = serverPath;
        CtlPath = ctlPath;
        RunsAsRabbitMqUser = runsAsRabbitMqUser;
    }

    /// <summary>Full path of the <c>rabbitmq-server</c> script to run.</summary>
    public string ServerPath { get; }

    /// <summary>Full path of the matching <c>rabbitmqctl</c>.</summary>
    public string CtlPath { get; }

    /// <summary>
    /// True when the node will run as the <c>rabbitmq</c> user (Debian wrapper run as root): its
    /// directories must then be owned by that user, and HOME (hence the Erlang cookie) is the
    /// rabbitmq user's home for both the node and rabbitmqctl.
    /// </summary>
    public bool RunsAsRabbitMqUser { get; }

    public static bool IsRoot => string.Equals(Environment.UserName, "root", StringComparison.Ordinal);

    /// <summary>Environment variable that, set to <c>0</c>, stops the tests from installing rabbitmq-server themselves.</summary>
    public const string AutoInstallVariable = "MESSAGING_TESTS_INSTALL_RABBITMQ";

    /// <summary>
    /// Provisions the broker the way Testcontainers pulls an image: when <c>rabbitmq-server</c> is missing and the
    /// tests run as root on a Debian-like system, installs Debian's package with apt-get (once; about 15 s).
    /// Set <see cref="AutoInstallVariable"/>=0 to opt out. Elsewhere <see cref="LocateForLocalNode"/> explains what to install.
    /// </summary>
    public static async Task EnsureInstalledAsync(CancellationToken ct)
    {
        if (FindExecutable("rabbitmq-server") is not null
            || !IsRoot
            || Environment.GetEnvironmentVariable(AutoInstallVariable) == "0"
            || FindExecutable("apt-get") is not { } aptGet)
        {
            return;
        }

        var environment = new Dictionary<string, string?> { ["DEBIAN_FRONTEND"] = "noninteractive" };
        foreach (var arguments in new[] { new[] { "update", "-qq" }, ["install", "-y", "-qq", "rabbitmq-server"] })
        {
            var result = await ProcessRunner.RunAsync(aptGet, arguments, environment, TimeSpan.FromMinutes(5), ct).ConfigureAwait(false);
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"Installing rabbitmq-server for the integration tests failed ({ProcessRunner.Describe(aptGet, arguments)}, exit code {result.ExitCode}):\n{result.CombinedOutput}");
            }
        }
    }

    /// <summary>Finds the executables needed to start a throwaway node, or throws with installation advice.</summary>
    public static RabbitMqTools LocateForLocalNode()
    {
        var server = FindExecutable("rabbitmq-server")
            ?? throw new InvalidOperationException(
                "The integration tests need a RabbitMQ broker, but 'rabbitmq-server' was not found on PATH or in "
                + string.Join(", ", SearchDirectories)
                + ". Install it (Debian/Ubuntu: 'sudo apt-get install rabbitmq-server'; a running default node is not "
                + $"needed and is not disturbed), or set {RabbitMqBroker.UriVariable} (e.g. amqp://guest:guest@localhost:5672/) "
                + $"to use an existing broker (plus {RabbitMqBroker.NodeNameVariable} to allow the fault-injection tests to "
                + "drive it with rabbitmqctl).");

        var wrapperDirectory = DebianWrapperDirectory(server);
        if (wrapperDirectory is not null && !IsRoot)
        {
            // The Debian wrapper only runs for root or rabbitmq; run the real scripts as ourselves.
            var realServer = Path.Combine(wrapperDirectory, "rabbitmq-server");
            var realCtl = Path.Combine(wrapperDirectory, "rabbitmqctl");
            if (IsExecutable(realServer) && IsExecutable(realCtl))
            {
                return new RabbitMqTools(realServer, realCtl, runsAsRabbitMqUser: false);
            }
        }

        var ctl = SiblingOrSearch(server, "rabbitmqctl")
            ?? throw new InvalidOperationException(
                $"Found '{server}' but no 'rabbitmqctl' next to it or on PATH; the RabbitMQ installation looks incomplete.");
        return new RabbitMqTools(server, ctl, runsAsRabbitMqUser: wrapperDirectory is not null && IsRoot);
    }

    /// <summary>Finds <c>rabbitmqctl</c> for driving an externally provided node, or throws.</summary>
    public static string LocateCtl() =>
        FindExecutable("rabbitmqctl")
        ?? throw new InvalidOperationException(
            $"{RabbitMqBroker.NodeNameVariable} is set, so fault injection runs 'rabbitmqctl -n <node> ...', but "
            + "'rabbitmqctl' was not found on PATH or in " + string.Join(", ", SearchDirectories) + ".");

    /// <summary>Finds an executable on PATH, then in the usual system directories (which PATH may lack).</summary>
    public static string? FindExecutable(string name)
    {
        var pathDirectories = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (var directory in pathDirectories.Concat(SearchDirectories))
        {
            var candidate = Path.Combine(directory, name);
            if (IsExecutable(candidate))
            {
                return Path.GetFullPath(candidate);
            }
        }

        return null;
    }

    private static string? SiblingOrSearch(string executable, string name)
    {
        var sibling = Path.Combine(Path.GetDirectoryName(executable) ?? "/", name);
        return IsExecutable(sibling) ? sibling : FindExecutable(name);
    }

    /// <summary>The directory holding the real scripts when <paramref name="path"/> is Debian's wrapper symlink.</summary>
    private static string? DebianWrapperDirectory(string path)
    {
        try
        {
            var target = File.ResolveLinkTarget(path, returnFinalTarget: true);
            return target is not null && string.Equals(target.Name, DebianWrapperName, StringComparison.Ordinal)
                ? Path.GetDirectoryName(target.FullName)
                : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static bool IsExecutable(string path)
    {
        try
        {
            if (OperatingSystem.IsWindows())
            {
                return File.Exists(path);
            }

            const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            return File.Exists(path) && (File.GetUnixFileMode(path) & AnyExecute) != 0;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}

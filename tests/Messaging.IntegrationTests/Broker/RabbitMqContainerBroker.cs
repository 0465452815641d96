using System.Globalization;
using System.Net;
using System.Text;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using Testcontainers.RabbitMq;

namespace Messaging.IntegrationTests.Broker;

/// <summary>
/// A RabbitMQ container from Testcontainers' <see cref="RabbitMqBuilder"/>. Fault injection runs
/// <c>rabbitmqctl</c> inside the container (exec), never the host's.
/// </summary>
/// <remarks>
/// <para>The AMQP port is published on a host port picked here rather than a random one, so a container
/// stop/start (<see cref="RestartAsync"/>) keeps the broker's address and clients can recover to it.</para>
/// <para>Credentials: <see cref="RabbitMqBuilder.WithUsername"/> / <c>WithPassword</c> set
/// <c>RABBITMQ_DEFAULT_USER</c> / <c>RABBITMQ_DEFAULT_PASS</c>. The official image and Debian's
/// rabbitmq-server (3.10) both honour them at first boot and create that user instead of <c>guest</c>;
/// <c>guest</c> could not be used anyway, because it may only connect from loopback inside the
/// container while the tests connect through the published port.</para>
/// <para>Readiness: RabbitMqBuilder's own wait strategy (the log line <c>Server startup complete</c>,
/// which Debian's 3.10 package prints too, to standard output once <c>RABBITMQ_LOGS=-</c>), then a real
/// AMQP connection through the published port (done by <see cref="RabbitMqBroker"/>).</para>
/// </remarks>
internal sealed class RabbitMqContainerBroker : IBrokerBackend
{
    /// <summary>Environment variable naming the image; default <see cref="DefaultImage"/>.</summary>
    public const string ImageVariable = "MESSAGING_TESTS_RABBITMQ_IMAGE";

    /// <summary>The official image, for machines that can pull from a registry.</summary>
    public const string DefaultImage = "rabbitmq:3-management";

    private const string ContainerHostname = "msgtest-rabbitmq";
    private const string Username = "msgtest";
    private const string Password = "msgtest";
    private const string HostOverrideVariable = "TESTCONTAINERS_HOST_OVERRIDE";
    private const int StartAttempts = 3;
    private const int LogTailLines = 60;

    // Read as part of the configuration by both the official image and Debian's package (3.9+ reads conf.d).
    private const string ConfigPath = "/etc/rabbitmq/conf.d/90-messaging-tests.conf";
    private const string Config = """
        # Throwaway broker for Messaging.IntegrationTests.
        # A nearly full CI disk must not raise the disk alarm and block publishers.
        disk_free_limit.absolute = 1MB
        """;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ExitDisposeTimeout = TimeSpan.FromSeconds(10);

    private readonly RabbitMqContainer _container;
    private readonly int _hostPort;
    private int _disposed;

    private RabbitMqContainerBroker(RabbitMqContainer container, string image, int hostPort, Uri uri)
    {
        _container = container;
        _hostPort = hostPort;
        Image = image;
        Uri = uri;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    public BrokerKind Kind => BrokerKind.Container;

    public Uri Uri { get; }

    /// <summary>The image the container runs.</summary>
    public string Image { get; }

    /// <summary>The node name inside the container (its host name is fixed, so the name survives a restart).</summary>
    public string? NodeName => "rabbit@" + ContainerHostname;

    public bool SupportsFaultInjection => true;

    public bool HasExited => false;

    /// <summary>The image from <see cref="ImageVariable"/>, or <see cref="DefaultImage"/>.</summary>
    public static string ConfiguredImage =>
        Environment.GetEnvironmentVariable(ImageVariable) is { Length: > 0 } image ? image.Trim() : DefaultImage;

    /// <summary>Creates and starts the container; returns once RabbitMQ logged that it started.</summary>
    public static async Task<RabbitMqContainerBroker> StartAsync(CancellationToken ct)
    {
        var image = ConfiguredImage;
        for (var attempt = 1; ; attempt++)
        {
            var hostPort = LocalRabbitMqNode.PickFreePorts(1)[0];
            var container = new RabbitMqBuilder(image)
                .WithHostname(ContainerHostname)
                .WithUsername(Username)
                .WithPassword(Password)
                .WithPortBinding(hostPort, RabbitMqBuilder.RabbitMqPort)
                .WithResourceMapping(Encoding.UTF8.GetBytes(Config + "\n"), FilePath.Of(ConfigPath))
                .WithLabel("org.messaging.integration-tests", "true")
                .Build();
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(StartTimeout);
                try
                {
                    await container.StartAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    throw new TimeoutException(
                        string.Create(CultureInfo.InvariantCulture, $"The RabbitMQ container ({image}) did not log 'Server startup complete' within {StartTimeout.TotalSeconds:0} s.\n")
                        + await LogTailAsync(container).ConfigureAwait(false));
                }

                EnsureLoopback(container.Hostname);
                var uri = new UriBuilder("amqp", container.Hostname, hostPort, "/")
                {
                    UserName = Username,
                    Password = Password,
                }.Uri;
                return new RabbitMqContainerBroker(container, image, hostPort, uri);
            }
            catch (Exception ex) when (attempt < StartAttempts && IsPortTaken(ex))
            {
                // Another process took the picked port before the engine bound it: try another one.
                await container.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await container.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    public async Task<CommandResult> RunCtlAsync(IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken ct)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeoutSource.CancelAfter(timeout);
        try
        {
            var result = await _container.ExecAsync(["rabbitmqctl", .. arguments], timeoutSource.Token).ConfigureAwait(false);
            return new CommandResult((int)(result.ExitCode ?? -1), result.Stdout, result.Stderr);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException(string.Create(
                CultureInfo.InvariantCulture,
                $"'rabbitmqctl {string.Join(' ', arguments)}' in container {_container.Name.TrimStart('/')} did not finish within {timeout.TotalSeconds:0} s."));
        }
    }

    /// <summary>
    /// Stops the container (the whole broker process goes away, as in a host reboot) and starts it again.
    /// Its file system, node name, users and durable state survive, and so does the address: the host port is pinned.
    /// </summary>
    public async Task RestartAsync(CancellationToken ct)
    {
        await _container.StopAsync(ct).ConfigureAwait(false);
        await _container.StartAsync(ct).ConfigureAwait(false);
        var port = _container.GetMappedPublicPort(RabbitMqBuilder.RabbitMqPort);
        if (port != _hostPort)
        {
            throw new InvalidOperationException(string.Create(
                CultureInfo.InvariantCulture,
                $"After the restart the container publishes AMQP on port {port} instead of the pinned {_hostPort}."));
        }
    }

    public async Task<string> DiagnosticsAsync() =>
        $"{Describe()}, state {_container.State}.\n" + await LogTailAsync(_container).ConfigureAwait(false);

    public string Describe() =>
        string.Create(CultureInfo.InvariantCulture, $"container {_container.Name.TrimStart('/')} ({Image}), AMQP published on {Uri.Host}:{_hostPort}");

    /// <summary>Stops and removes the container (Testcontainers deletes it; nothing relies on a reaper).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        using var timeout = new CancellationTokenSource(StopTimeout);
        await _container.DisposeAsync().AsTask().WaitAsync(timeout.Token).ConfigureAwait(false);
    }

    /// <summary>
    /// Testcontainers connects to the host it reports for the container. For an engine on this machine that must
    /// be loopback; inside a container (a <c>/.dockerenv</c> file) Testcontainers reports the bridge gateway
    /// instead, which these tests must not send traffic to. An explicit <c>TESTCONTAINERS_HOST_OVERRIDE</c> is
    /// taken as the caller's decision.
    /// </summary>
    private static void EnsureLoopback(string host)
    {
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(HostOverrideVariable)))
        {
            return;
        }

        var loopback = string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
        if (!loopback)
        {
            throw new InvalidOperationException(
                $"Testcontainers reports the container's published ports on '{host}', which is not loopback. Set "
                + $"{HostOverrideVariable}=127.0.0.1 when the engine runs on this machine (build/container-engine.sh env does), "
                + "or to the address where the engine publishes ports.");
        }
    }

    private static bool IsPortTaken(Exception ex) =>
        ex.ToString().Contains("address already in use", StringComparison.OrdinalIgnoreCase);

    private static async Task<string> LogTailAsync(IContainer container)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var (stdout, stderr) = await container.GetLogsAsync(ct: timeout.Token).ConfigureAwait(false);
            var lines = (stdout + stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return string.Create(CultureInfo.InvariantCulture, $"--- last {LogTailLines} lines of the container's log ---\n")
                + string.Join('\n', lines.TakeLast(LogTailLines));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return $"(could not read the container's log: {ex.GetBaseException().Message})";
        }
    }

    /// <summary>Last resort when the test host exits without disposing the fixture: remove the container, briefly.</summary>
    private void OnProcessExit(object? sender, EventArgs e)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _container.DisposeAsync().AsTask().Wait(ExitDisposeTimeout);
        }
        catch (AggregateException)
        {
            // Best effort; build/container-engine.sh stop removes what is left.
        }
    }
}

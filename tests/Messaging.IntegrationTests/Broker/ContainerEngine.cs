using System.Net.Sockets;

namespace Messaging.IntegrationTests.Broker;

/// <summary>
/// Finds a container engine speaking the Docker Engine API (Docker, or podman's API service) the way
/// Testcontainers will: <c>DOCKER_HOST</c> if set, otherwise <c>/var/run/docker.sock</c>; it is reachable
/// when <c>GET /_ping</c> answers within a couple of seconds.
/// </summary>
internal static class ContainerEngine
{
    public const string DockerHostVariable = "DOCKER_HOST";

    private const string DefaultSocket = "/var/run/docker.sock";
    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The outcome of a probe: where it looked, and why it found nothing if it did not.</summary>
    public sealed record Probe(string Endpoint, bool Reachable, string? Problem)
    {
        /// <summary>True for an engine on this machine (a Unix socket), whose published ports are on loopback.</summary>
        public bool IsLocalSocket => Endpoint.StartsWith("unix://", StringComparison.Ordinal);
    }

    public static async Task<Probe> ProbeAsync(CancellationToken ct)
    {
        var dockerHost = Environment.GetEnvironmentVariable(DockerHostVariable);
        var endpoint = string.IsNullOrWhiteSpace(dockerHost) ? "unix://" + DefaultSocket : dockerHost.Trim();
        var source = string.IsNullOrWhiteSpace(dockerHost) ? "the default socket" : DockerHostVariable;
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("unix" or "tcp" or "http"))
        {
            return new Probe(endpoint, false, $"{source}={endpoint} is not a unix:// or tcp:// endpoint");
        }

        if (uri.Scheme == "unix" && !File.Exists(uri.AbsolutePath))
        {
            return new Probe(endpoint, false, $"{source} ({endpoint}): there is no socket at {uri.AbsolutePath}");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(PingTimeout);
        try
        {
            using var client = CreateClient(uri);
            var ping = uri.Scheme == "unix" ? new Uri("http://engine/_ping") : new UriBuilder("http", uri.Host, uri.Port, "/_ping").Uri;
            using var response = await client.GetAsync(ping, timeout.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode
                ? new Probe(endpoint, true, null)
                : new Probe(endpoint, false, $"{source} ({endpoint}) answered /_ping with HTTP {(int)response.StatusCode}");
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException or IOException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            var reason = ex is OperationCanceledException ? $"no answer within {PingTimeout.TotalSeconds:0} s" : ex.GetBaseException().Message;
            return new Probe(endpoint, false, $"{source} ({endpoint}) does not answer: {reason}");
        }
    }

    private static HttpClient CreateClient(Uri endpoint)
    {
        var handler = new SocketsHttpHandler { ConnectTimeout = PingTimeout };
        if (endpoint.Scheme == "unix")
        {
            var path = endpoint.AbsolutePath;
            handler.ConnectCallback = async (_, token) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), token).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        return new HttpClient(handler, disposeHandler: true);
    }
}

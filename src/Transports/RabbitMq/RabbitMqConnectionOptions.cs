using RabbitMQ.Client;

namespace Messaging.Transports.RabbitMq;

/// <summary>
/// The application's one RabbitMQ connection, shared by every worker (a channel each) and the publisher. Validated
/// when the host starts.
/// </summary>
/// <remarks>
/// Where the connection comes from, first match wins: the <see cref="IConnection"/> registered under
/// <see cref="ConnectionServiceKey"/> (for example by Aspire's <c>AddKeyedRabbitMQClient</c>); an
/// <see cref="IConnection"/> registered without a key (Aspire's <c>AddRabbitMQClient</c>); otherwise the library opens
/// one itself from these options, with the client's automatic connection recovery on and its topology recovery off
/// (the workers declare and subscribe again themselves after a recovery). A connection you register is used as it is
/// and never closed by the library.
/// </remarks>
public sealed class RabbitMqConnectionOptions
{
    /// <summary>Gets or sets the broker address: credentials, virtual host and TLS (<c>amqps</c>) come from it. Default: <c>amqp://guest:guest@localhost:5672/</c>.</summary>
    public Uri Uri { get; set; } = new("amqp://guest:guest@localhost:5672/");

    /// <summary>
    /// Gets more nodes of the same cluster (<c>amqp://host:port</c>; only host, port and the scheme's TLS choice are
    /// used: credentials and virtual host are <see cref="Uri"/>'s). With <see cref="Hosts"/> and <see cref="Uri"/> they
    /// form the client's endpoint list, used when connecting and on every recovery attempt.
    /// </summary>
    public IList<Uri> Endpoints { get; } = [];

    /// <summary>
    /// Gets more nodes of the same cluster as <c>host</c> or <c>host:port</c> (<c>[::1]:5672</c> for IPv6), with
    /// <see cref="Uri"/>'s credentials, virtual host, scheme and, when no port is given, port.
    /// </summary>
    /// <remarks>
    /// RabbitMQ.Client tries the endpoints in random order (its <c>DefaultEndpointResolver</c> shuffles the list every
    /// time) until one accepts the connection, when connecting and on every automatic recovery attempt (every
    /// <c>NetworkRecoveryInterval</c>, 1 s here, until one succeeds). So after a node fails the connection comes back on
    /// any surviving node, and connections of many processes spread over the cluster.
    /// </remarks>
    public IList<string> Hosts { get; } = [];

    /// <summary>Gets or sets the connection name shown in the broker's management tools. Default: <c>messaging</c>.</summary>
    public string ClientProvidedName { get; set; } = "messaging";

    /// <summary>Gets or sets the service key of a keyed <see cref="IConnection"/> registration to use. Default: none.</summary>
    public string? ConnectionServiceKey { get; set; }

    /// <summary>Gets or sets a hook to adjust the connection factory (TLS, timeouts, recovery interval) before connecting.</summary>
    public Action<ConnectionFactory>? ConfigureConnectionFactory { get; set; }

    /// <summary>Validates the options.</summary>
    /// <exception cref="ArgumentException">One or more options are invalid; the message lists every problem.</exception>
    public void Validate() => OptionsErrors.ThrowIfAny(this, Validate);

    internal void Validate(ICollection<string> errors)
    {
        if (Uri is null || !IsAmqp(Uri))
        {
            errors.Add($"{nameof(Uri)} must be an amqp:// or amqps:// address, not '{Uri}'.");
        }

        for (var i = 0; i < Endpoints.Count; i++)
        {
            if (Endpoints[i] is not { } endpoint || !IsAmqp(endpoint))
            {
                errors.Add($"{nameof(Endpoints)}[{i}] must be an amqp:// or amqps:// address, not '{Endpoints[i]}'.");
            }
        }

        for (var i = 0; i < Hosts.Count; i++)
        {
            if (ParseHost(Hosts[i]) is null)
            {
                errors.Add($"{nameof(Hosts)}[{i}] must be 'host' or 'host:port' with a port from 1 to 65535, not '{Hosts[i]}'.");
            }
        }

        if (string.IsNullOrWhiteSpace(ClientProvidedName))
        {
            errors.Add($"{nameof(ClientProvidedName)} must not be empty.");
        }
    }

    /// <summary>
    /// Every node to try, <see cref="Uri"/>, <see cref="Endpoints"/>, <see cref="Hosts"/>, without repeats (the client
    /// shuffles them). <paramref name="factory"/> has <see cref="Uri"/> and <see cref="ConfigureConnectionFactory"/>
    /// applied: the first endpoint is its own, and a TLS endpoint takes its TLS settings with its own server name.
    /// </summary>
    internal List<AmqpTcpEndpoint> AllEndpoints(ConnectionFactory factory)
    {
        var all = new List<AmqpTcpEndpoint>();
        void Add(string host, int port, bool tls)
        {
            port = port > 0 ? port : (tls ? AmqpTcpEndpoint.DefaultAmqpSslPort : 5672);
            if (!all.Exists(e => string.Equals(e.HostName, host, StringComparison.OrdinalIgnoreCase) && e.Port == port))
            {
                all.Add(new AmqpTcpEndpoint(host, port, Tls(factory.Ssl, host, tls), factory.MaxInboundMessageBodySize));
            }
        }

        var primary = factory.Endpoint;
        Add(primary.HostName, primary.Port, primary.Ssl.Enabled);
        foreach (var uri in Endpoints)
        {
            Add(uri.Host, uri.Port, uri.Scheme == "amqps");
        }

        foreach (var host in Hosts)
        {
            if (ParseHost(host) is var (name, port))
            {
                Add(name, port ?? primary.Port, primary.Ssl.Enabled);
            }
        }

        return all;
    }

    private static SslOption Tls(SslOption template, string host, bool enabled) => new()
    {
        Enabled = enabled,
        ServerName = host,
        Version = template.Version,
        AcceptablePolicyErrors = template.AcceptablePolicyErrors,
        CertPath = template.CertPath,
        CertPassphrase = template.CertPassphrase,
        Certs = template.Certs,
        CheckCertificateRevocation = template.CheckCertificateRevocation,
        CertificateValidationCallback = template.CertificateValidationCallback,
        CertificateSelectionCallback = template.CertificateSelectionCallback,
    };

    /// <summary>Parses <c>host</c>, <c>host:port</c> or <c>[v6]:port</c>; <see langword="null"/> when it is none of them.</summary>
    internal static (string Host, int? Port)? ParseHost(string? entry)
    {
        if (string.IsNullOrWhiteSpace(entry) || entry.Contains('/', StringComparison.Ordinal) || entry.Contains('@', StringComparison.Ordinal)
            || !System.Uri.TryCreate("amqp://" + entry.Trim(), UriKind.Absolute, out var parsed) || parsed.HostNameType == UriHostNameType.Unknown)
        {
            return null;
        }

        var host = parsed.HostNameType == UriHostNameType.IPv6 ? parsed.Host.Trim('[', ']') : parsed.Host;
        return parsed.Port switch
        {
            -1 => (host, null),
            >= 1 and <= 65535 => (host, parsed.Port),
            _ => null,
        };
    }

    private static bool IsAmqp(Uri uri) => uri.IsAbsoluteUri && (uri.Scheme == "amqp" || uri.Scheme == "amqps");
}

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
    /// Gets more nodes of the same cluster (<c>amqp://host:port</c>; only host and port are used), tried after
    /// <see cref="Uri"/> when connecting and when recovering a lost connection.
    /// </summary>
    public IList<Uri> Endpoints { get; } = [];

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

        if (string.IsNullOrWhiteSpace(ClientProvidedName))
        {
            errors.Add($"{nameof(ClientProvidedName)} must not be empty.");
        }
    }

    /// <summary>Every node to try, <see cref="Uri"/> first, without repeats.</summary>
    internal List<AmqpTcpEndpoint> AllEndpoints()
    {
        var all = new List<AmqpTcpEndpoint>();
        foreach (var uri in Endpoints.Prepend(Uri))
        {
            var endpoint = new AmqpTcpEndpoint(uri);
            if (!all.Exists(e => e.HostName == endpoint.HostName && e.Port == endpoint.Port))
            {
                all.Add(endpoint);
            }
        }

        return all;
    }

    private static bool IsAmqp(Uri uri) => uri.IsAbsoluteUri && (uri.Scheme == "amqp" || uri.Scheme == "amqps");
}

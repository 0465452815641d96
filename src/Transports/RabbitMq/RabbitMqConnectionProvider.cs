using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace Messaging.Transports.RabbitMq;

/// <summary>
/// Hands out the application's one RabbitMQ connection (see <see cref="RabbitMqConnectionOptions"/> for where it comes
/// from). The connection it opens itself is opened once, on first use, and closed when the application stops.
/// </summary>
internal sealed class RabbitMqConnectionProvider(IServiceProvider services, IOptions<RabbitMqConnectionOptions> options) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;
    private bool _owned;
    private bool _disposed;

    /// <summary>Gets the connection, opening it when it is the library's own and not open yet.</summary>
    /// <param name="cancellationToken">Cancels waiting for the connection.</param>
    /// <returns>The connection; it may be closed at this moment and recovering.</returns>
    public async ValueTask<IConnection> GetAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _connection) is { } ready)
        {
            return ready;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is not null)
            {
                return _connection;
            }

            var settings = options.Value;
            if (settings.ConnectionServiceKey is { } key)
            {
                _connection = services.GetKeyedService<IConnection>(key)
                    ?? throw new InvalidOperationException(
                        $"{nameof(RabbitMqConnectionOptions)}.{nameof(RabbitMqConnectionOptions.ConnectionServiceKey)} is '{key}', but no IConnection is registered with that key.");
            }
            else if (services.GetService<IConnection>() is { } registered)
            {
                _connection = registered;
            }
            else
            {
                var factory = new ConnectionFactory
                {
                    Uri = settings.Uri,
                    AutomaticRecoveryEnabled = true,
                    TopologyRecoveryEnabled = false,
                    NetworkRecoveryInterval = TimeSpan.FromSeconds(1),
                    ClientProvidedName = settings.ClientProvidedName,
                };
                settings.ConfigureConnectionFactory?.Invoke(factory);
                _connection = await factory.CreateConnectionAsync(settings.AllEndpoints(factory), settings.ClientProvidedName, cancellationToken).ConfigureAwait(false);
                _owned = true;
            }

            return _connection;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            if (_owned && _connection is { } connection)
            {
                _connection = null;
                try
                {
                    await connection.CloseAsync().ConfigureAwait(false);
                }
#pragma warning disable CA1031 // Closing a connection that is already gone.
                catch (Exception)
#pragma warning restore CA1031
                {
                }

                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }
}

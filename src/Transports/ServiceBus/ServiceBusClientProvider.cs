using Azure.Core;
using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Messaging.Transports.ServiceBus;

/// <summary>
/// Hands out the application's one <see cref="ServiceBusClient"/> (see <see cref="ServiceBusConnectionOptions"/> for
/// where it comes from). The client it creates itself is created once, on first use, and disposed when the
/// application stops.
/// </summary>
internal sealed class ServiceBusClientProvider(IServiceProvider services, IOptions<ServiceBusConnectionOptions> options) : IAsyncDisposable
{
    private readonly object _gate = new();
    private ServiceBusClient? _client;
    private bool _owned;
    private bool _disposed;

    /// <summary>Gets the client.</summary>
    /// <exception cref="InvalidOperationException">No client is registered and the options name none.</exception>
    public ServiceBusClient GetClient()
    {
        if (Volatile.Read(ref _client) is { } ready)
        {
            return ready;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_client is not null)
            {
                return _client;
            }

            var settings = options.Value;
            if (settings.ClientServiceKey is { } key)
            {
                _client = services.GetKeyedService<ServiceBusClient>(key)
                    ?? throw new InvalidOperationException(
                        $"{nameof(ServiceBusConnectionOptions)}.{nameof(ServiceBusConnectionOptions.ClientServiceKey)} is '{key}', but no ServiceBusClient is registered with that key.");
            }
            else if (services.GetService<ServiceBusClient>() is { } registered)
            {
                _client = registered;
            }
            else if (!string.IsNullOrWhiteSpace(settings.ConnectionString))
            {
                _client = new ServiceBusClient(settings.ConnectionString, settings.ClientOptions);
                _owned = true;
            }
            else if (!string.IsNullOrWhiteSpace(settings.FullyQualifiedNamespace))
            {
                var credential = settings.Credential ?? services.GetService<TokenCredential>()
                    ?? throw new InvalidOperationException(
                        $"{nameof(ServiceBusConnectionOptions)}.{nameof(ServiceBusConnectionOptions.FullyQualifiedNamespace)} is '{settings.FullyQualifiedNamespace}', but there is no credential: set {nameof(ServiceBusConnectionOptions.Credential)} or register a TokenCredential (for example DefaultAzureCredential).");
                _client = new ServiceBusClient(settings.FullyQualifiedNamespace, credential, settings.ClientOptions);
                _owned = true;
            }
            else
            {
                throw new InvalidOperationException(
                    $"No Service Bus client: register a ServiceBusClient (for example with Aspire's AddAzureServiceBusClient), or set {nameof(ServiceBusConnectionOptions)}.{nameof(ServiceBusConnectionOptions.ConnectionString)} or {nameof(ServiceBusConnectionOptions.FullyQualifiedNamespace)} (AddServiceBusConnection).");
            }

            return _client;
        }
    }

    public async ValueTask DisposeAsync()
    {
        ServiceBusClient? owned;
        lock (_gate)
        {
            _disposed = true;
            owned = _owned ? _client : null;
            _client = null;
        }

        if (owned is not null)
        {
            await owned.DisposeAsync().ConfigureAwait(false);
        }
    }
}

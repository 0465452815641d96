using System.Globalization;
using RabbitMQ.Client;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Messaging.IntegrationTests.Broker;

/// <summary>
/// One RabbitMQ broker shared by every test class in the <c>broker</c> collection
/// (see <see cref="BrokerCollection"/>): started once per test run, stopped and deleted at the end.
/// Which broker it is (container, local node or external; see <see cref="RabbitMqBroker"/>) is reported once
/// as an xunit diagnostic message, which <c>dotnet test</c> prints (<c>xunit.runner.json</c> enables them).
/// </summary>
public sealed class BrokerFixture : IAsyncLifetime
{
    private readonly IMessageSink _diagnostics;
    private RabbitMqBroker? _broker;

    /// <summary>Created by xunit, which passes the sink for diagnostic messages.</summary>
    public BrokerFixture(IMessageSink diagnostics) => _diagnostics = diagnostics;

    /// <summary>The running broker.</summary>
    public RabbitMqBroker Broker => _broker ?? throw new InvalidOperationException("The broker fixture has not been initialized.");

    /// <summary>
    /// Opens a connection to the broker. With <paramref name="automaticRecovery"/> the client recovers
    /// the connection and its topology after faults, retrying every 500 ms.
    /// </summary>
    public async Task<IConnection> ConnectAsync(bool automaticRecovery = true, string? clientProvidedName = null, CancellationToken ct = default)
    {
        var factory = new ConnectionFactory
        {
            Uri = Broker.Uri,
            AutomaticRecoveryEnabled = automaticRecovery,
            TopologyRecoveryEnabled = automaticRecovery,
            NetworkRecoveryInterval = TimeSpan.FromMilliseconds(500),
            RequestedConnectionTimeout = TimeSpan.FromSeconds(10),
            ClientProvidedName = clientProvidedName ?? "msgtest",
        };
        return await factory.CreateConnectionAsync(ct);
    }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _broker = await RabbitMqBroker.StartAsync();
        _diagnostics.OnMessage(new DiagnosticMessage(string.Create(
            CultureInfo.InvariantCulture,
            $"Integration test broker: {_broker.Kind} - {_broker} ({_broker.Selection}); accepted connections {_broker.StartupDuration.TotalSeconds:0.0} s after start.")));
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
            _broker = null;
        }
    }
}

using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Messaging.IntegrationTests.Broker;

/// <summary>
/// The <c>cluster</c> test collection: one <see cref="RabbitMqCluster"/> for every class marked
/// <c>[Collection(ClusterCollection.Name)]</c>. It runs on its own, after the parallel collections, so three nodes never
/// compete for the cores with the other broker tests, and its tests run one at a time (each stops or disconnects nodes).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "xunit collection definitions are conventionally named *Collection.")]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    /// <summary>The collection name, <c>cluster</c>.</summary>
    public const string Name = "cluster";
}

/// <summary>Starts the cluster once for the <c>cluster</c> collection and reports it as an xunit diagnostic message.</summary>
public sealed class ClusterFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    private RabbitMqCluster? _cluster;

    /// <summary>The running cluster.</summary>
    public RabbitMqCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster fixture has not been initialized.");

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _cluster = await RabbitMqCluster.StartAsync();
        diagnostics.OnMessage(new DiagnosticMessage(string.Create(
            CultureInfo.InvariantCulture,
            $"Integration test cluster: {_cluster}; running {_cluster.StartupDuration.TotalSeconds:0.0} s after start.")));
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
            _cluster = null;
        }
    }
}

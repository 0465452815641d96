using System.Runtime.CompilerServices;
using Messaging.IntegrationTests.Broker;

namespace Messaging.Samples.IntegrationTests;

/// <summary>
/// Compiled only inside this repository: without a container engine, the integration suite's throwaway local
/// rabbitmq-server node (or what <c>MESSAGING_TESTS_BROKER</c> forces) stands in for the container.
/// </summary>
internal static class LocalNodeFallback
{
#pragma warning disable CA2255 // Registers the fallback before any test runs; only this repository compiles it.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => RabbitMqFixture.Fallback = StartAsync;

    private static async Task<(Uri Uri, IAsyncDisposable Owner, string Description)> StartAsync()
    {
        var broker = await RabbitMqBroker.StartAsync(preferContainer: false);
        return (broker.Uri, broker, $"{broker.Kind} - {broker} (the repository's fallback)");
    }
}

using Messaging.IntegrationTests.Broker;

namespace Messaging.Benchmarks.Common;

internal static class Broker
{
    /// <summary>RABBITMQ_URI, else a throwaway local node (the integration tests' discovery).</summary>
    public static async Task<RabbitMqBroker> StartAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        var broker = await RabbitMqBroker.StartAsync(timeout.Token).ConfigureAwait(false);
        Console.WriteLine($"# broker: {broker} (ready after {broker.StartupDuration.TotalSeconds:0.0} s)");
        return broker;
    }
}

using Messaging.IntegrationTests.Broker;

namespace Messaging.Benchmarks.Common;

internal static class Broker
{
    /// <summary>
    /// RABBITMQ_URI, else a throwaway local node (the integration tests' discovery without the automatic container choice,
    /// so numbers stay comparable; MESSAGING_TESTS_BROKER=container runs against a container).
    /// </summary>
    public static async Task<RabbitMqBroker> StartAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        var broker = await RabbitMqBroker.StartAsync(preferContainer: false, timeout.Token).ConfigureAwait(false);
        Console.WriteLine($"# broker: {broker} (ready after {broker.StartupDuration.TotalSeconds:0.0} s)");
        return broker;
    }
}

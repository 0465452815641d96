using Messaging.Transports.InMemory;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Messaging.Samples.Consumer;

/// <summary>
/// The demo's producer side, in the same process: publishes the demo orders to the in-memory broker with the
/// library's publish helper, each under its own new trace with the demo baggage. It runs in <see cref="StartAsync"/>,
/// which the host completes before it starts the worker registered after it.
/// </summary>
internal sealed partial class DemoPublisher(
    InMemoryBroker broker,
    MessagingInstrumentation instrumentation,
    ConsumerSettings settings,
    JsonLines json,
    ILogger<DemoPublisher> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var count = settings.Limit ?? ConsumerSettings.DefaultDemoCount;
        DemoStarting(logger, count, settings.Queue);
        var publisher = new OrderPublisher(settings.Baggage, json, logger);
        for (var i = 1; i <= count; i++)
        {
            await publisher.PublishAsync(
                i,
                (order, messageId, ct) => InMemoryOrders.PublishAsync(broker, settings.Queue, order, messageId, instrumentation, ct),
                cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "In-memory demo: publishing {Count} order(s) to '{Queue}' in this process.")]
    private static partial void DemoStarting(ILogger logger, int count, string queue);
}

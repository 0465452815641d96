using Messaging.Transports.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Messaging.Samples.Producer;

/// <summary>Publishes <c>--count</c> orders, then stops the application.</summary>
internal sealed partial class ProducerService(
    ProducerSettings settings,
    JsonLines json,
    RunResult result,
    MessagingInstrumentation instrumentation,
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    ILogger<ProducerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var publisher = new OrderPublisher(settings.Baggage, json, logger);
        try
        {
            if (settings.Transport == SampleCommandLine.InMemory)
            {
                InMemoryOnly(logger);
                var broker = services.GetRequiredService<InMemoryBroker>();
                for (var i = 1; i <= settings.Count; i++)
                {
                    await publisher.PublishAsync(
                        i,
                        (order, messageId, ct) => InMemoryOrders.PublishAsync(broker, settings.Queue, order, messageId, instrumentation, ct),
                        stoppingToken);
                }
            }
            else
            {
                await using var rabbit = await RabbitMqPublisher.ConnectAsync(settings.Uri, settings.Queue, instrumentation, logger, stoppingToken);
                for (var i = 1; i <= settings.Count; i++)
                {
                    await publisher.PublishAsync(i, rabbit.PublishAsync, stoppingToken);
                }
            }

            Done(logger, settings.Count, settings.Queue);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            result.Fail(130, "interrupted before all messages were published.");
        }
        catch (TimeoutException ex)
        {
            result.Fail(1, ex.Message);
        }
        catch (Exception ex)
        {
            result.Fail(1, $"publishing failed: {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            lifetime.StopApplication();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Published {Count} message(s) to '{Queue}'.")]
    private static partial void Done(ILogger logger, int count, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "In-memory transport: the messages stay in this process and nothing consumes them. Run the Consumer without arguments for the one-process demo.")]
    private static partial void InMemoryOnly(ILogger logger);
}

using Messaging.Transports.InMemory;
using Messaging.Transports.RabbitMq;
using Messaging.Transports.ServiceBus;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

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
            else if (services.GetService<ServiceBusSettings>() is { } serviceBus)
            {
                var sb = services.GetRequiredService<IServiceBusPublisher>();
                for (var i = 1; i <= settings.Count; i++)
                {
                    await publisher.PublishAsync(i, (order, messageId, ct) => ServiceBusProducer.PublishAsync(sb, serviceBus.Entity(settings.Queue), order, messageId, ct), stoppingToken);
                }
            }
            else
            {
                var rabbit = services.GetRequiredService<IRabbitMqPublisher>();
                for (var i = 1; i <= settings.Count; i++)
                {
                    await publisher.PublishAsync(i, (order, messageId, ct) => PublishAsync(rabbit, order, messageId, ct), stoppingToken);
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

    /// <summary>
    /// Publishes one order with the application's publisher (confirmed, retried across connection loss) and returns
    /// the headers as sent. <c>mandatory</c>: an unroutable message fails instead of vanishing.
    /// </summary>
    private async Task<IEnumerable<KeyValuePair<string, string?>>> PublishAsync(IRabbitMqPublisher rabbit, Order order, string messageId, CancellationToken cancellationToken)
    {
        var properties = new BasicProperties
        {
            Persistent = true,
            MessageId = messageId,
            Timestamp = new AmqpTimestamp(DateTimeOffset.UtcNow.ToUnixTimeSeconds()),
        };
        var sent = await rabbit.PublishMessageAsync(string.Empty, settings.Queue, order, properties, mandatory: true, cancellationToken).ConfigureAwait(false);
        if (sent.Attempts > 1)
        {
            Republished(logger, messageId, sent.Attempts);
        }

        return (properties.Headers ?? new Dictionary<string, object?>())
            .Select(h => new KeyValuePair<string, string?>(h.Key, RabbitMqHeaders.ToText(h.Value)))
            .ToList();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Message {MessageId} confirmed after {Attempts} attempts (the broker may hold it twice).")]
    private static partial void Republished(ILogger logger, string messageId, int attempts);

    [LoggerMessage(Level = LogLevel.Information, Message = "Published {Count} message(s) to '{Queue}'.")]
    private static partial void Done(ILogger logger, int count, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "In-memory transport: the messages stay in this process and nothing consumes them. Run the Consumer without arguments for the one-process demo.")]
    private static partial void InMemoryOnly(ILogger logger);
}

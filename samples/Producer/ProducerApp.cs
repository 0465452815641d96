using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Messaging.Samples.Producer;

/// <summary>The producer's settings, from the command line.</summary>
internal sealed record ProducerSettings(
    string Transport,
    IReadOnlyList<Uri> Uris,
    string Queue,
    bool Quorum,
    int Count,
    IReadOnlyDictionary<string, string> Baggage,
    bool Json);

/// <summary>Builds and runs the producer host.</summary>
internal static class ProducerApp
{
    public static async Task<int> RunAsync(ProducerSettings settings, CancellationToken cancellationToken, ServiceBusSettings? serviceBus = null)
    {
        // Traces: OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, else a trace tree (stderr with --json: stdout is JSON only).
        var printer = SampleTelemetry.OtlpConfigured ? null : new TraceTreePrinter(settings.Json ? Console.Error : Console.Out, deferred: false);
        var builder = SampleHosting.CreateBuilder(SampleConfiguration.Endpoints(settings.Uris));
        builder.Services.AddSampleTracing("messaging-samples-producer", printer);
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(new JsonLines(settings.Json));
        builder.Services.AddSingleton<RunResult>();

        // What an application copies: the engine (formats follow OTEL_PROPAGATORS, W3C by default), the connection
        // and the publisher, each from its configuration section. The publisher declares a classic queue, so messages
        // sent before any consumer started are kept; a quorum queue is the consumer's to declare (with its arguments).
        builder.Services.AddMessaging(builder.Configuration.GetSection(SampleConfiguration.Messaging));
        if (settings.Transport == SampleCommandLine.InMemory)
        {
            builder.Services.AddInMemoryBroker();
        }
        else if (serviceBus is not null)
        {
            ServiceBusProducer.AddServiceBus(builder.Services, builder.Configuration, serviceBus);
        }
        else
        {
            builder.Services.AddRabbitMqConnection(builder.Configuration.GetSection(SampleConfiguration.RabbitMq));
            builder.Services.AddRabbitMqPublisher(builder.Configuration.GetSection(SampleConfiguration.Publisher), o =>
            {
                if (!settings.Quorum)
                {
                    o.DeclareQueues.Add(settings.Queue);
                }
            });
        }

        builder.Services.AddHostedService<ProducerService>();

        var result = new RunResult();
        try
        {
            using var host = builder.Build();
            result = host.Services.GetRequiredService<RunResult>();
            var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Messaging.Samples.Producer");
            SampleTelemetry.LogDestination(logger, settings.Json);
            await host.RunAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or OptionsValidationException)
        {
            result.Fail(1, ex.Message);
        }

        return result.Report();
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;

namespace Messaging.Samples.Producer;

/// <summary>The producer's settings, from the command line.</summary>
internal sealed record ProducerSettings(
    string Transport,
    Uri Uri,
    string Queue,
    int Count,
    IReadOnlyDictionary<string, string> Baggage,
    bool Json);

/// <summary>Builds and runs the producer host.</summary>
internal static class ProducerApp
{
    public static async Task<int> RunAsync(ProducerSettings settings, CancellationToken cancellationToken)
    {
        // Traces: OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, else a trace tree (stderr with --json: stdout is JSON only).
        var printer = SampleTelemetry.OtlpConfigured ? null : new TraceTreePrinter(settings.Json ? Console.Error : Console.Out, deferred: false);
        using var tracerProvider = SampleTelemetry.CreateTracerProvider("messaging-samples-producer", printer);

        var builder = SampleHosting.CreateBuilder();
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(new JsonLines(settings.Json));
        builder.Services.AddSingleton<RunResult>();

        // The propagation engine handed to the publish helpers; formats follow OTEL_PROPAGATORS (W3C by default).
        builder.Services.AddMessaging();
        if (settings.Transport == SampleCommandLine.InMemory)
        {
            builder.Services.AddInMemoryBroker();
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

        tracerProvider.ForceFlush();
        return result.Report();
    }
}

using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Messaging.Samples;

/// <summary>Tracing for the samples: OTLP when configured, otherwise a trace tree on the console.</summary>
internal static partial class SampleTelemetry
{
    /// <summary>The variable that switches the samples to OTLP export.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The samples' own source: the <c>produce order</c> root span of each message.</summary>
    public static readonly ActivitySource Source = new("Messaging.Samples");

    /// <summary>Gets a value indicating whether <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.</summary>
    public static bool OtlpConfigured => !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(OtlpEndpointVariable));

    /// <summary>
    /// Wires OpenTelemetry through the host (<c>AddOpenTelemetry()</c>): always-on sampling, the library's and the
    /// samples' sources, and either the OTLP exporter (when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; endpoint,
    /// protocol and headers come from the standard <c>OTEL_EXPORTER_OTLP_*</c> variables) or <paramref name="printer"/>.
    /// The host builds the tracer provider when it starts and flushes it when it stops. Call it before registering
    /// hosted services that publish on start.
    /// </summary>
    public static void AddSampleTracing(this IServiceCollection services, string serviceName, TraceTreePrinter? printer)
    {
        services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                // OTEL_SERVICE_NAME, when set, wins (the default resource reads it).
                if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME")))
                {
                    resource.AddService(serviceName);
                }
            })
            .WithTracing(tracing =>
            {
                tracing.SetSampler(new AlwaysOnSampler())
                    .AddSource(Source.Name)
                    .AddMessagingInstrumentation()
                    .AddProcessor(new ProducerSpanCapture());
                if (OtlpConfigured)
                {
                    tracing.AddOtlpExporter();
                }
                else if (printer is not null)
                {
                    tracing.AddProcessor(printer);
                }
            });
    }

    /// <summary>Says where the traces go.</summary>
    public static void LogDestination(ILogger logger, bool json)
    {
        if (OtlpConfigured)
        {
            var endpoint = Environment.GetEnvironmentVariable(OtlpEndpointVariable) ?? string.Empty;
            TracesToOtlp(logger, endpoint);
        }
        else
        {
            TracesToConsole(logger, json ? "stderr" : "stdout", OtlpEndpointVariable);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Exporting traces over OTLP to {Endpoint}.")]
    private static partial void TracesToOtlp(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Printing traces as a tree on {Stream} (set {Variable} to export over OTLP instead).")]
    private static partial void TracesToConsole(ILogger logger, string stream, string variable);
}

/// <summary>
/// Remembers the library's PRODUCER span on the sample's <c>produce order</c> parent span, so the sample can print
/// the PRODUCER span's ids (the publish helpers do not return their span).
/// </summary>
internal sealed class ProducerSpanCapture : BaseProcessor<Activity>
{
    private const string Key = "messaging.samples.producer-span";

    /// <summary>Gets the last PRODUCER span started under <paramref name="parent"/>, if any.</summary>
    public static Activity? Get(Activity? parent) => parent?.GetCustomProperty(Key) as Activity;

    public override void OnStart(Activity data)
    {
        if (data.Kind == ActivityKind.Producer
            && data.Source.Name == MessagingTelemetry.ActivitySourceName
            && data.Parent is { } parent
            && parent.Source == SampleTelemetry.Source)
        {
            parent.SetCustomProperty(Key, data);
        }
    }
}

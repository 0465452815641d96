using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Messaging.Samples.Consumer;

/// <summary>The consumer's settings, from the command line.</summary>
internal sealed record ConsumerSettings(
    string Transport,
    IReadOnlyList<Uri> Uris,
    string Queue,
    bool Quorum,
    int? Count,
    IReadOnlyDictionary<string, string> Baggage,
    bool BaggageGiven,
    ParentingMode Parenting,
    bool Json)
{
    /// <summary>How many messages the in-memory demo publishes when <c>--count</c> is not given.</summary>
    public const int DefaultDemoCount = 3;

    /// <summary>The in-memory demo's baggage when <c>--baggage</c> is not given.</summary>
    public static readonly IReadOnlyDictionary<string, string> DefaultDemoBaggage = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["tenant.id"] = "acme corp+1",
        ["cohort"] = "beta",
    };

    public bool IsDemo => Transport == SampleCommandLine.InMemory;

    /// <summary>Gets how many messages to handle before exiting, or <see langword="null"/> to run until stopped.</summary>
    public int? Limit => IsDemo ? Count ?? DefaultDemoCount : Count;
}

/// <summary>Builds and runs the consumer host.</summary>
internal static partial class ConsumerApp
{
    public static async Task<int> RunAsync(ConsumerSettings settings, CancellationToken cancellationToken, ServiceBusSettings? serviceBus = null)
    {
        // Traces: OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, else a trace tree (stderr with --json: stdout is JSON
        // only). The one-process demo prints whole traces at the end, so producer and consumer spans share one tree.
        var printer = SampleTelemetry.OtlpConfigured ? null : new TraceTreePrinter(settings.Json ? Console.Error : Console.Out, deferred: settings.IsDemo);
        var builder = SampleHosting.CreateBuilder(Flags(settings));
        builder.Services.AddSampleTracing("messaging-samples-consumer", printer);

        // A message held back past --count returns to the queue when this timeout cancels its handler.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(new JsonLines(settings.Json));
        builder.Services.AddSingleton(new ConsumerRun(settings.Limit));
        builder.Services.AddSingleton<RunResult>();
        builder.Services.AddSingleton<OrderHandler>();

        if (settings.IsDemo)
        {
            // The embedded default: one process, the in-memory broker. The demo publisher is registered first, so the
            // host starts it — and it publishes — before the worker.
            builder.Services.AddMessaging(builder.Configuration.GetSection(SampleConfiguration.Messaging));
            builder.Services.AddInMemoryBroker();
            builder.Services.AddHostedService<DemoPublisher>();
            builder.Services.AddInMemoryConsumerWorker<InMemoryOrderWorker>(SampleConfiguration.WorkerName, builder.Configuration.GetSection(SampleConfiguration.Worker));
        }
        else if (serviceBus is not null)
        {
            builder.Services.AddMessaging(builder.Configuration.GetSection(SampleConfiguration.Messaging));
            ServiceBusConsumer.AddServiceBus(builder.Services, builder.Configuration, serviceBus, settings.Queue);
        }
        else
        {
            // What an application copies: the engine, the connection and the worker, each from its configuration section.
            builder.Services.AddMessaging(builder.Configuration.GetSection(SampleConfiguration.Messaging));
            builder.Services.AddRabbitMqConnection(builder.Configuration.GetSection(SampleConfiguration.RabbitMq));
            builder.Services.AddRabbitMqConsumerWorker<RabbitMqOrderWorker>(SampleConfiguration.WorkerName, builder.Configuration.GetSection(SampleConfiguration.Worker));
        }

        var result = new RunResult();
        try
        {
            using var host = builder.Build();
            result = host.Services.GetRequiredService<RunResult>();
            var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Messaging.Samples.Consumer");
            SampleTelemetry.LogDestination(logger, settings.Json);
            if (!settings.IsDemo && settings.BaggageGiven)
            {
                BaggageIgnored(logger);
            }

            await host.RunAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or OptionsValidationException)
        {
            result.Fail(1, ex.Message);
        }

        return result.Report();
    }

    /// <summary>The configuration the flags set; they win over appsettings.json and environment variables.</summary>
    private static List<KeyValuePair<string, string?>> Flags(ConsumerSettings settings)
    {
        var flags = new List<KeyValuePair<string, string?>>(SampleConfiguration.Endpoints(settings.Uris))
        {
            new($"{SampleConfiguration.Worker}:Queue", settings.Queue),
            new($"{SampleConfiguration.Worker}:Parenting", settings.Parenting.ToString()),
        };
        if (settings.Quorum)
        {
            flags.Add(new($"{SampleConfiguration.Worker}:QueueType", "Quorum"));
        }

        if (settings.Count is not null)
        {
            // Exiting after N: fetch one at a time, so at most one message beyond N is ever delivered (and it goes back
            // to the queue).
            flags.Add(new($"{SampleConfiguration.Worker}:PrefetchCount", "1"));
        }

        return flags;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "--baggage applies to the in-memory demo only: a RabbitMQ consumer takes the baggage each message carries. Ignored.")]
    private static partial void BaggageIgnored(ILogger logger);
}

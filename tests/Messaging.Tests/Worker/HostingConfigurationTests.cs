using System.Text;
using Messaging.Tests.Support;
using Messaging.Transports.InMemory;
using Messaging.Transports.RabbitMq;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit;

namespace Messaging.Tests.Worker;

public sealed class HostingConfigurationTests
{
    [Fact]
    public async Task An_invalid_configuration_fails_the_host_at_start_listing_every_problem_with_its_section()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes("""
            {
              "Messaging": {
                "InboundBaggage": { "MaxMembers": 0 },
                "RabbitMq": { "Uri": "http://broker:5672/", "Endpoints": [ "amqp://node-2:5672/", "ftp://node-3/" ] },
                "Workers": {
                  "Orders": { "Queue": "", "MaxConcurrency": 0, "PrefetchCount": 70000, "MaxReconnectDelay": "00:00:00" },
                  "Audit": { "Queue": "audit", "MaxAttempts": 0 }
                }
              }
            }
            """)));
        builder.Services.AddSingleton(new Probe());
        builder.Services.AddMessaging(builder.Configuration.GetSection("Messaging"));
        builder.Services.AddRabbitMqConnection(builder.Configuration.GetSection("Messaging:RabbitMq"));
        builder.Services.AddRabbitMqConsumerWorker<RabbitWorker>("Orders", builder.Configuration.GetSection("Messaging:Workers:Orders"));
        builder.Services.AddInMemoryConsumerWorker<RecordingWorker>("Audit", builder.Configuration.GetSection("Messaging:Workers:Audit"));
        using var host = builder.Build();

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        var failures = Failures(ex);
        Assert.Equal(
            [
                "InMemoryConsumerOptions 'Audit' (configuration section 'Messaging:Workers:Audit'): MaxAttempts must be at least 1 (was 0).",
                "MessagingOptions (configuration section 'Messaging'): InboundBaggage.MaxMembers must be at least 1 (was 0).",
                "RabbitMqConnectionOptions (configuration section 'Messaging:RabbitMq'): Endpoints[1] must be an amqp:// or amqps:// address, not 'ftp://node-3/'.",
                "RabbitMqConnectionOptions (configuration section 'Messaging:RabbitMq'): Uri must be an amqp:// or amqps:// address, not 'http://broker:5672/'.",
                "RabbitMqConsumerOptions 'Orders' (configuration section 'Messaging:Workers:Orders'): MaxConcurrency must be at least 1 (was 0).",
                "RabbitMqConsumerOptions 'Orders' (configuration section 'Messaging:Workers:Orders'): MaxReconnectDelay must be positive (was 00:00:00).",
                "RabbitMqConsumerOptions 'Orders' (configuration section 'Messaging:Workers:Orders'): PrefetchCount must be between 0 (automatic) and 65535 (was 70000).",
                "RabbitMqConsumerOptions 'Orders' (configuration section 'Messaging:Workers:Orders'): Queue is required: name the queue this worker consumes.",
            ],
            failures.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Options_bound_from_configuration_reach_the_worker_and_the_engine()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Messaging:Trust"] = "DropBaggage",
            ["Messaging:OutboundBaggage:DeniedKeys:0"] = "auth.token",
            ["Messaging:Workers:Audit:Queue"] = "audit",
            ["Messaging:Workers:Audit:MaxConcurrency"] = "3",
            ["Messaging:Workers:Audit:RetryDelay"] = "00:00:02",
            ["Messaging:Workers:Audit:Parenting"] = "Link",
            ["Messaging:Workers:Audit:DeadLetterQueue"] = "audit.dlq",
        });
        builder.Services.AddSingleton(new Probe());
        builder.Services.AddMessaging(builder.Configuration.GetSection("Messaging"));
        builder.Services.AddInMemoryConsumerWorker<RecordingWorker>("Audit", builder.Configuration.GetSection("Messaging:Workers:Audit"), o => o.MaxAttempts = 7);
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptionsMonitor<InMemoryConsumerOptions>>().Get("Audit");
        var engine = host.Services.GetRequiredService<IOptions<MessagingOptions>>().Value;

        Assert.Equal(("audit", 3, TimeSpan.FromSeconds(2), ParentingMode.Link, "audit.dlq", 7), (options.Queue, options.MaxConcurrency, options.RetryDelay, options.Parenting, options.DeadLetterQueue, options.MaxAttempts));
        Assert.Equal(ContextTrust.DropBaggage, engine.Trust);
        Assert.Contains("auth.token", engine.OutboundBaggage.DeniedKeys);
        Assert.Equal(ContextTrust.DropBaggage, host.Services.GetRequiredService<MessagingInstrumentation>().Trust);
    }

    [Fact]
    public void Health_checks_are_registered_per_worker_unless_disabled()
    {
        var services = new ServiceCollection().AddLogging().AddSingleton(new Probe());
        services.AddInMemoryConsumerWorker<RecordingWorker>("a", configuration: null, o => o.Queue = "a");
        services.AddInMemoryConsumerWorker<RecordingWorker>("b", configuration: null, o =>
        {
            o.Queue = "b";
            o.DisableHealthChecks = true;
        });
        services.AddInMemoryConsumerWorker<RecordingWorker>("a", configuration: null, o => o.MaxConcurrency = 2);
        using var provider = services.BuildServiceProvider();

        var registrations = provider.GetRequiredService<IOptions<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckServiceOptions>>().Value.Registrations;

        var check = Assert.Single(registrations);
        Assert.Equal("a", check.Name);
        Assert.Contains("messaging", check.Tags);
        Assert.Equal(2, provider.GetServices<IHostedService>().OfType<ConsumerWorker>().Count());
    }

    private static List<string> Failures(Exception ex) => ex switch
    {
        AggregateException aggregate => [.. aggregate.InnerExceptions.SelectMany(Failures)],
        OptionsValidationException options => [.. options.Failures],
        _ => throw new Xunit.Sdk.XunitException($"Unexpected {ex.GetType()}: {ex.Message}"),
    };

    public sealed class RabbitWorker(RabbitMqWorkerContext context) : RabbitMqConsumerWorker<Order>(context)
    {
        protected override Task HandleAsync(MessageContext<Order> message, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

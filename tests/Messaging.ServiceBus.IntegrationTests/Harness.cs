using System.Text.Json;
using Azure.Messaging.ServiceBus;
using Messaging.ServiceBus.TestBroker;
using Messaging.Tests.Support;
using Messaging.Transports.ServiceBus;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Messaging.ServiceBus.IntegrationTests;

/// <summary>The worker every test hosts: hands each message to the test's <see cref="Probe"/>.</summary>
public sealed class OrderWorker(ServiceBusWorkerContext context, Probe probe) : ServiceBusConsumerWorker<Order>(context)
{
    protected override Task HandleAsync(MessageContext<Order> message, CancellationToken cancellationToken) => probe.OnMessageAsync(message, cancellationToken);
}

/// <summary>A broker, a client on it and hosts with a Service Bus worker, built the way an application builds them.</summary>
internal sealed class Harness : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private readonly List<IHost> _hosts = [];

    private Harness(ServiceBusTestBroker broker)
    {
        Broker = broker;
        Client = new ServiceBusClient(broker.ConnectionString, new ServiceBusClientOptions
        {
            RetryOptions = new ServiceBusRetryOptions { MaxRetries = 2, Delay = TimeSpan.FromMilliseconds(100), TryTimeout = TimeSpan.FromSeconds(15) },
        });
    }

    public ServiceBusTestBroker Broker { get; }

    public ServiceBusClient Client { get; }

    public Probe Probe { get; } = new();

    public static async Task<Harness> StartAsync(ServiceBusTestBrokerOptions? options = null) =>
        new(await ServiceBusTestBroker.StartAsync(options: options));

    public static string NewQueue() => TestData.UniqueName("orders", 12);

    public static ServiceBusMessage Message(Order order) =>
        new(JsonSerializer.SerializeToUtf8Bytes(order)) { MessageId = "m-" + order.Index, ContentType = "application/json" };

    /// <summary>Builds and starts a host with one <see cref="OrderWorker"/>; stopped and disposed with the harness.</summary>
    public async Task<IHost> StartWorkerAsync(
        Action<ServiceBusConsumerOptions> configure,
        Action<MessagingOptions>? messaging = null,
        TimeSpan? shutdownTimeout = null,
        Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout ?? TimeSpan.FromSeconds(30));
        builder.Services.AddMessaging(o => messaging?.Invoke(o));
        builder.Services.AddSingleton(Probe);
        builder.Services.AddServiceBusConnection(o => o.ConnectionString = Broker.ConnectionString);
        builder.Services.AddServiceBusConsumerWorker<OrderWorker>(configure);
        services?.Invoke(builder.Services);
        var host = builder.Build();
        _hosts.Add(host);
        await host.StartAsync();
        return host;
    }

    /// <summary>Builds and starts a host with a <see cref="SessionOrderWorker"/> on <paramref name="queue"/>, logging to a fake log collector.</summary>
    public async Task<IHost> StartSessionWorkerAsync(string queue)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddFakeLogging();
        builder.Services.AddSingleton(Probe);
        builder.Services.AddServiceBusConnection(o => o.ConnectionString = Broker.ConnectionString);
        builder.Services.AddServiceBusConsumerWorker<SessionOrderWorker>(o => o.Queue = queue);
        var host = builder.Build();
        _hosts.Add(host);
        await host.StartAsync();
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            try
            {
                await host.StopAsync();
            }
            finally
            {
                host.Dispose();
            }
        }

        await Client.DisposeAsync();
        await Broker.DisposeAsync();
    }
}

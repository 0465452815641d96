using Messaging.Transports.ServiceBus;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Messaging.Samples.Consumer;

/// <summary>The Service Bus worker: the library's processor receives, traces and settles; this only handles.</summary>
internal sealed class ServiceBusOrderWorker(ServiceBusWorkerContext context, OrderHandler handler) : ServiceBusConsumerWorker<Order>(context)
{
    protected override Task HandleAsync(MessageContext<Order> message, CancellationToken cancellationToken) =>
        handler.HandleAsync(message, cancellationToken);
}

/// <summary>The consumer on Service Bus.</summary>
internal static class ServiceBusConsumer
{
    /// <summary>What an application copies: the client and the worker, each from its configuration section.</summary>
    public static void AddServiceBus(IServiceCollection services, IConfiguration configuration, ServiceBusSettings settings, string queue)
    {
        services.AddServiceBusConnection(configuration.GetSection(ServiceBusSettings.Connection), o => o.ConnectionString = settings.ConnectionString);
        services.AddServiceBusConsumerWorker<ServiceBusOrderWorker>(SampleConfiguration.WorkerName, configuration.GetSection(SampleConfiguration.Worker), o =>
        {
            o.Queue = settings.Topic ?? queue;
            o.Subscription = settings.Subscription;
        });
    }
}

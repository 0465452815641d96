using Azure.Messaging.ServiceBus;
using Messaging.Transports.ServiceBus;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Messaging.Samples.Producer;

/// <summary>The producer on Service Bus: the application's client and the library's publisher.</summary>
internal static class ServiceBusProducer
{
    /// <summary>What an application copies: the client from its configuration section, and the publisher.</summary>
    public static void AddServiceBus(IServiceCollection services, IConfiguration configuration, ServiceBusSettings settings)
    {
        services.AddSingleton(settings);
        services.AddServiceBusConnection(configuration.GetSection(ServiceBusSettings.Connection), o => o.ConnectionString = settings.ConnectionString);
        services.AddServiceBusPublisher();
    }

    /// <summary>Sends one order with the application's publisher and returns the application properties as sent.</summary>
    public static async Task<IEnumerable<KeyValuePair<string, string?>>> PublishAsync(
        IServiceBusPublisher publisher, string entity, Order order, string messageId, CancellationToken cancellationToken)
    {
        var message = new ServiceBusMessage(BinaryData.FromObjectAsJson(order)) { MessageId = messageId, ContentType = "application/json" };
        await publisher.SendAsync(entity, message, cancellationToken).ConfigureAwait(false);
        return message.ApplicationProperties.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value as string)).ToList();
    }
}

using Messaging.Transports.RabbitMq;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;

namespace Messaging.Samples.IntegrationTests.App;

// This folder stands for your application: in your solution it is the worker project the tests reference.

/// <summary>An order, as the application publishes and consumes it.</summary>
public sealed record Order(string OrderId, string Item, int Quantity);

/// <summary>The application's worker: handles orders, refuses those without a quantity (they end up dead-lettered).</summary>
public sealed class OrderWorker(RabbitMqWorkerContext context, ILogger<OrderWorker> log) : RabbitMqConsumerWorker<Order>(context)
{
    protected override Task HandleAsync(MessageContext<Order> message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(message.Body.Quantity, "Quantity");
        var tenant = Baggage.GetBaggage("tenant.id"); // this message's baggage, set up by the library
        log.OrderHandled(message.Body.OrderId, tenant);
        return Task.CompletedTask;
    }
}

internal static partial class OrderLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Order {OrderId} for tenant {Tenant} handled.")]
    public static partial void OrderHandled(this ILogger logger, string orderId, string? tenant);
}

/// <summary>The application's registrations: its Program.cs calls this, and so do the tests.</summary>
public static class OrderProcessing
{
    public static IServiceCollection AddOrderProcessing(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddMessaging(configuration.GetSection("Messaging"));
        services.AddRabbitMqConnection(configuration.GetSection("Messaging:RabbitMq"));
        services.AddRabbitMqConsumerWorker<OrderWorker>("Orders", configuration.GetSection("Messaging:Workers:Orders"));
        services.AddRabbitMqPublisher();
        return services;
    }
}

using Messaging.Samples.IntegrationTests.App;
using Messaging.Testing;
using Messaging.Transports.RabbitMq;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using Xunit;

namespace Messaging.Samples.IntegrationTests;

/// <summary>The application's worker against a real RabbitMQ, registered exactly as the application registers it.</summary>
[Collection(RabbitMqCollection.Name)]
public sealed class OrderWorkerTests(RabbitMqFixture rabbitMq)
{
    [Fact]
    public async Task An_order_is_handled_in_the_publishers_trace_with_its_baggage()
    {
        using var host = BuildHost(out var queue);
        var harness = await host.StartMessagingTestHarnessAsync();
        var publisher = host.Services.GetRequiredService<IRabbitMqPublisher>();

        Baggage.SetBaggage("tenant.id", "acme");
        var sent = await publisher.PublishMessageAsync(exchange: "", routingKey: queue, new Order("o-1", "coffee beans", 2));
        var handled = await harness.Consumed.WaitForMessageIdAsync(sent.MessageId);

        handled.ShouldBeAcked()
            .ShouldContinueTraceOf(sent)
            .ShouldBeLinkedTo(sent)
            .ShouldHaveBaggage(new Dictionary<string, string> { ["tenant.id"] = "acme" });
        Assert.Equal(new Order("o-1", "coffee beans", 2), handled.GetBody<Order>());
        Assert.Equal("rabbitmq", handled.System);
    }

    [Fact]
    public async Task An_order_without_a_quantity_is_dead_lettered_after_its_attempts()
    {
        using var host = BuildHost(out var queue);
        var harness = await host.StartMessagingTestHarnessAsync();
        var publisher = host.Services.GetRequiredService<IRabbitMqPublisher>();

        var sent = await publisher.PublishMessageAsync(exchange: "", routingKey: queue, new Order("o-2", "green tea", 0));
        var handled = await harness.Consumed.WaitForBodyAsync<Order>(o => o.OrderId == "o-2");

        handled.ShouldBeDeadLettered<ArgumentOutOfRangeException>().ShouldContinueTraceOf(sent);
        Assert.Equal(2, handled.Attempts);
    }

    /// <summary>The application's host, with the test's broker and queue as configuration, plus the harness.</summary>
    private IHost BuildHost(out string queue)
    {
        queue = $"orders-{Guid.NewGuid():N}";
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Messaging:RabbitMq:Uri"] = rabbitMq.Uri.ToString(),
            ["Messaging:Workers:Orders:Queue"] = queue,
            ["Messaging:Workers:Orders:MaxAttempts"] = "2",
        });
        builder.Services.AddOrderProcessing(builder.Configuration);
        builder.Services.AddMessagingTestHarness();
        return builder.Build();
    }
}

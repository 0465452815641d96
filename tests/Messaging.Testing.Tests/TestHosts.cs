using Messaging.Transports.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;

namespace Messaging.Testing.Tests;

public sealed record Order(int Number, string Item);

/// <summary>What the test's worker does with each message; each test sets its own.</summary>
public sealed class OrderHandler
{
    public Func<MessageContext<Order>, CancellationToken, Task> Handle { get; set; } = static (_, _) => Task.CompletedTask;
}

/// <summary>The application's worker, registered as in production.</summary>
public sealed class OrderWorker(InMemoryWorkerContext context, OrderHandler handler) : InMemoryConsumerWorker<Order>(context)
{
    protected override Task HandleAsync(MessageContext<Order> message, CancellationToken cancellationToken) =>
        handler.Handle(message, cancellationToken);
}

/// <summary>Builds hosts the way an application does, then adds the harness as a test would.</summary>
internal static class TestHosts
{
    /// <summary>A unique queue per test: the library's metrics are process-wide, so tests filter them by destination.</summary>
    public static string Queue(string name) => $"{name}-{Guid.NewGuid():N}";

    /// <summary>The application's own registrations (what its Program.cs would call).</summary>
    public static void AddOrders(IServiceCollection services, string queue, OrderHandler handler, Action<InMemoryConsumerOptions>? configure = null)
    {
        services.AddSingleton(handler);
        services.AddInMemoryConsumerWorker<OrderWorker>(o =>
        {
            o.Queue = queue;
            o.RetryDelay = TimeSpan.Zero;
            configure?.Invoke(o);
        });
    }

    public static IHost Build(string queue, OrderHandler handler, Action<InMemoryConsumerOptions>? configure = null, Action<MessagingTestHarnessOptions>? harness = null, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        services?.Invoke(builder.Services);
        AddOrders(builder.Services, queue, handler, configure);
        builder.Services.AddMessagingTestHarness(harness);
        return builder.Build();
    }

    /// <summary>Publishes an order with the given baggage current, as producing code would.</summary>
    public static async Task PublishAsync(IHost host, string queue, Order order, string messageId, IReadOnlyDictionary<string, string>? baggage = null)
    {
        var previous = Baggage.Current;
        Baggage.Current = baggage is null ? default : Baggage.Create(baggage.ToDictionary(p => p.Key, p => p.Value));
        try
        {
            await host.Services.GetRequiredService<InMemoryBroker>()
                .PublishMessageWithContextAsync(queue, order, new InMemoryMessageProperties { MessageId = messageId });
        }
        finally
        {
            Baggage.Current = previous;
        }
    }
}

using Messaging.Tests.Support;
using Messaging.Transports.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Messaging.Tests.Worker;

public sealed class RecordingWorker(InMemoryWorkerContext context, Probe probe) : InMemoryConsumerWorker<Order>(context)
{
    protected override Task HandleAsync(MessageContext<Order> message, CancellationToken cancellationToken) =>
        probe.OnMessageAsync(message, cancellationToken);
}

public static class TestHosts
{
    public static IHost Build(InMemoryBroker broker, Probe probe, Action<InMemoryConsumerOptions> configure, TimeSpan? shutdownTimeout = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton(broker);
        builder.Services.AddSingleton(probe);
        builder.Services.AddScoped<ScopedMarker>();
        builder.Services.AddInMemoryConsumerWorker<RecordingWorker>(configure);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout ?? TimeSpan.FromSeconds(10));
        return builder.Build();
    }

    public static string NewQueue() => TestData.NewQueue();

    public static Dictionary<string, string> BaggageFor(int i) => TestData.BaggageFor(i);

    public static Task PublishTracedAsync(InMemoryBroker broker, string queue, int count, MessagingInstrumentation? instrumentation = null) =>
        TestData.PublishTracedAsync(count, order => broker.PublishMessageWithContextAsync(queue, order, instrumentation: instrumentation).AsTask());
}

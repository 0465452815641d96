using Messaging.IntegrationTests.Broker;
using Messaging.Tests.Support;
using Messaging.Transports.RabbitMq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client;

namespace Messaging.IntegrationTests.RabbitMq;

public sealed class RabbitOrderWorker(RabbitMqWorkerContext context, Probe probe) : RabbitMqConsumerWorker<Order>(context)
{
    protected override Task HandleAsync(MessageContext<Order> message, CancellationToken cancellationToken) =>
        probe.OnMessageAsync(message, cancellationToken);
}

public static class RabbitHosts
{
    public static IHost Build(BrokerFixture fixture, Probe probe, Action<RabbitMqConsumerOptions> configure, Action<MessagingOptions>? messaging = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddMessaging(messaging);
        builder.Services.AddSingleton(probe);
        builder.Services.AddScoped<ScopedMarker>();
        builder.Services.AddRabbitMqConnection(o => o.Uri = fixture.Broker.Uri);
        builder.Services.AddRabbitMqConsumerWorker<RabbitOrderWorker>(o =>
        {
            o.MaxReconnectDelay = TimeSpan.FromSeconds(1);
            configure(o);
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        return builder.Build();
    }

    public static async Task<IChannel> ConfirmingChannelAsync(IConnection connection, string queue)
    {
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        return channel;
    }

    public static Task PublishTracedAsync(IChannel channel, string queue, int count, int first = 0) =>
        TestData.PublishTracedAsync(count, order => channel.PublishMessageWithContextAsync(string.Empty, queue, order).AsTask(), first);

    public static async Task<BasicGetResult?> GetAsync(IChannel channel, string queue) =>
        await channel.BasicGetAsync(queue, autoAck: true);

    /// <summary>Waits until the probe saw <paramref name="count"/> distinct messages (duplicates make the total exceed it).</summary>
    public static async Task WaitForDistinctAsync(Probe probe, int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var seen = probe.Observations.Count;
        while (probe.Observations.Select(o => o.Index).Distinct().Count() < count)
        {
            await probe.WaitForAsync(++seen, timeout).WaitAsync(cts.Token);
        }
    }
}

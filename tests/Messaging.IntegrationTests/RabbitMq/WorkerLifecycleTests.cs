using System.Collections.Concurrent;
using Messaging.IntegrationTests.Broker;
using Messaging.Propagation;
using Messaging.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client;
using Xunit;

namespace Messaging.IntegrationTests.RabbitMq;

/// <summary>The worker's life on the real broker: a broker-side cancel, a graceful stop, another propagation format.</summary>
[Collection(BrokerCollection.Name)]
public sealed class WorkerLifecycleTests(BrokerFixture fixture) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly ExportedSpans _capture = new();

    public void Dispose() => _capture.Dispose();

    [Fact]
    public async Task When_its_queue_is_deleted_the_worker_subscribes_again_and_consumes_what_arrives_next()
    {
        var queue = TestData.NewQueue();
        var probe = new Probe();
        using var host = RabbitHosts.Build(fixture, probe, o => o.Queue = queue);
        await host.StartAsync();
        await using var connection = await fixture.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await WaitForConsumerAsync(connection, queue);

        await channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false);
        // The broker cancels the consumer; the worker declares the queue again and subscribes to it.
        await WaitForConsumerAsync(connection, queue);
        await RabbitHosts.PublishTracedAsync(channel, queue, 3);
        await probe.WaitForAsync(3, Timeout);
        await host.StopAsync();

        Assert.Equal([0, 1, 2], probe.Observations.Select(o => o.Index).Order());
        Assert.All(probe.Observations, o => Assert.True(RoundTripTests.ContinuesOwnTrace(o, ParentingMode.Child)));
    }

    [Fact]
    public async Task A_graceful_stop_acks_what_finished_and_returns_in_flight_messages_to_the_queue_once()
    {
        var queue = TestData.NewQueue();
        var inFlight = new CountdownEvent(4);
        var first = new Probe
        {
            Behaviour = async (m, ct) =>
            {
                if (m.Body.Index >= 2)
                {
                    inFlight.Signal();
                    await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, ct); // held until the stop cancels it
                }
            },
        };
        await using var connection = await fixture.ConnectAsync();
        await using var channel = await RabbitHosts.ConfirmingChannelAsync(connection, queue);
        using (var host = RabbitHosts.Build(fixture, first, o =>
        {
            o.Queue = queue;
            o.MaxConcurrency = 4;
        }))
        {
            await host.StartAsync();
            await RabbitHosts.PublishTracedAsync(channel, queue, 6);
            Assert.True(await Task.Run(() => inFlight.Wait(Timeout)), "four handlers were in flight");
            await first.WaitForAsync(2, Timeout);

            using var shutdown = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await host.StopAsync(shutdown.Token);
        }

        var left = await channel.QueueDeclarePassiveAsync(queue);
        var second = new Probe();
        using (var host = RabbitHosts.Build(fixture, second, o => o.Queue = queue))
        {
            await host.StartAsync();
            await second.WaitForAsync(4, Timeout);
            await host.StopAsync();
        }

        var after = await channel.QueueDeclarePassiveAsync(queue);
        Assert.Equal(4u, left.MessageCount);
        Assert.Equal([2, 3, 4, 5], second.Observations.Select(o => o.Index).Order());
        Assert.All(second.Observations, o => Assert.True(o.Redelivered));
        Assert.Equal([0, 1], first.Observations.Where(o => o.Index < 2).Select(o => o.Index).Order());
        Assert.Equal(0u, after.MessageCount);
    }

    [Fact]
    public async Task B3_multi_headers_carry_the_trace_across_the_broker()
    {
        var queue = TestData.NewQueue();
        var b3 = MessagingPropagators.Parse("b3multi,baggage");
        var headers = new ConcurrentQueue<(int Index, string? TraceId, string? SpanId, string? TraceParent)>();
        var probe = new Probe
        {
            Behaviour = (m, _) =>
            {
                headers.Enqueue((m.Body.Index, Value(m.Headers, "X-B3-TraceId"), Value(m.Headers, "X-B3-SpanId"), Value(m.Headers, "traceparent")));
                return Task.CompletedTask;
            },
        };
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(probe);
        builder.Services.AddMessaging(o => o.Propagator = b3);
        builder.Services.AddRabbitMqConnection(o => o.Uri = fixture.Broker.Uri);
        builder.Services.AddRabbitMqConsumerWorker<RabbitOrderWorker>(o => o.Queue = queue);
        using var host = builder.Build();
        await host.StartAsync();
        var engine = host.Services.GetRequiredService<MessagingInstrumentation>();
        await using var connection = await fixture.ConnectAsync();
        await using var channel = await RabbitHosts.ConfirmingChannelAsync(connection, queue);

        await TestData.PublishTracedAsync(3, order => channel.PublishMessageWithContextAsync(string.Empty, queue, order, instrumentation: engine).AsTask());
        await probe.WaitForAsync(3, Timeout);
        await host.StopAsync();

        foreach (var o in probe.Observations)
        {
            var (_, traceId, spanId, traceParent) = headers.Single(h => h.Index == o.Index);
            Assert.Null(traceParent);
            Assert.Equal(o.BodyTraceId, traceId);
            Assert.Equal(o.BodyTraceId, o.TraceId);
            Assert.Equal(spanId, o.ParentSpanId);
            Assert.True(RoundTripTests.SameBaggage(o));
        }
    }

    private static string? Value(IHeaderCarrier headers, string name) => headers.GetValues(name) is { Count: > 0 } v ? v[0] : null;

    /// <summary>Waits, bounded, until the broker reports one consumer on the queue (the worker subscribes in the background).</summary>
    private static Task WaitForConsumerAsync(IConnection connection, string queue) =>
        Eventually.HoldsAsync(
            async () =>
            {
                // A passive declare of a queue that is not there (yet) closes its channel: one channel per look.
                await using var look = await connection.CreateChannelAsync();
                try
                {
                    return (await look.QueueDeclarePassiveAsync(queue)).ConsumerCount == 1;
                }
                catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
                {
                    return false;
                }
            },
            $"one consumer on '{queue}'",
            Timeout);
}

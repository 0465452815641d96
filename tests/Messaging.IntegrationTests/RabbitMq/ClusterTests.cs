using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Messaging.IntegrationTests.Broker;
using Messaging.Tests.Support;
using Messaging.Transports.RabbitMq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client;
using Xunit;
using Xunit.Abstractions;

namespace Messaging.IntegrationTests.RabbitMq;

/// <summary>
/// A 3-node cluster with quorum queues: node failures mid-stream lose nothing and keep every trace; a poison message
/// reaches the dead-letter queue through the broker's dead-letter exchange with its context.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterTests(ClusterFixture fixture, ITestOutputHelper output) : IDisposable, IAsyncLifetime
{
    private const int Messages = 5000;
    private const int PublishLanes = 8;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan MaxGap = TimeSpan.FromSeconds(10);
    private readonly ExportedSpans _capture = new();

    private RabbitMqCluster Cluster => fixture.Cluster;

    public void Dispose() => _capture.Dispose();

    public Task InitializeAsync() => Task.CompletedTask;

    // Whatever a test stopped is started again: the next test begins with three running nodes.
    public Task DisposeAsync() => Cluster.RestoreAsync();

    [Fact]
    public async Task Stopping_the_node_of_the_quorum_queue_leader_mid_stream_loses_nothing_and_consumption_resumes_on_a_survivor()
    {
        var report = await RunFailoverAsync(
            useHosts: false,
            async (queue, _) =>
            {
                var leader = await Cluster.QueueLeaderAsync(queue);
                await Cluster.StopAppAsync(leader);
                return leader;
            });

        Assert.All(report.ResumedOn, port => Assert.NotEqual(report.Faulted.Uri.Port, port));
    }

    [Fact]
    public async Task Closing_the_connections_of_the_workers_node_mid_stream_loses_nothing()
    {
        var report = await RunFailoverAsync(
            useHosts: true,
            async (_, host) =>
            {
                var connection = await host.Services.GetRequiredService<RabbitMqConnectionProvider>().GetAsync(CancellationToken.None);
                var node = Cluster.NodeAt(connection.Endpoint.Port);
                await Cluster.CloseAllConnectionsAsync(node);
                return node;
            });

        Assert.NotEmpty(report.ResumedOn);
    }

    [Fact]
    public async Task A_poison_message_on_a_quorum_queue_is_dead_lettered_by_the_broker_with_its_trace_context_and_x_death()
    {
        var queue = TestData.NewQueue();
        var dlq = queue + ".dead-letter";
        var probe = new Probe { Behaviour = (m, _) => m.Body.Index == 0 ? throw new InvalidOperationException("poison") : Task.CompletedTask };
        var dead = new ConcurrentQueue<IReadOnlyList<RabbitMqDeath>>();
        var deadProbe = new Probe();
        deadProbe.Behaviour = (m, _) =>
        {
            dead.Enqueue(RabbitMqDeaths.Read(m));
            return Task.CompletedTask;
        };

        // The worker declares the queue (quorum, dead-lettering through the broker); nothing consumes it yet.
        using (var declare = BuildHost(new Probe(), queue, useHosts: false))
        {
            await declare.StartAsync();
            await WaitUntilHealthyAsync(declare);
            await declare.StopAsync();
        }

        // Two deliveries of the poison message end without a settlement: the quorum queue counts them.
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await RabbitHosts.PublishTracedAsync(channel, queue, 1);
        for (var i = 0; i < 2; i++)
        {
            var got = await channel.BasicGetAsync(queue, autoAck: false);
            Assert.NotNull(got);
            Assert.Equal(0, JsonMessageSerializer.Default.Deserialize<Order>(got.Body).Index);
            await channel.BasicNackAsync(got.DeliveryTag, multiple: false, requeue: true);
        }

        await RabbitHosts.PublishTracedAsync(channel, queue, 2, first: 1);

        using var host = BuildHost(probe, queue, useHosts: false, o => o.MaxAttempts = 3, services =>
            services.AddKeyedSingleton("dead", deadProbe).AddRabbitMqConsumerWorker<DeadLetterWorker>(o =>
            {
                o.Queue = dlq;
                o.QueueType = RabbitMqQueueType.Quorum;
                o.DeadLetterQueue = string.Empty;
            }));
        await host.StartAsync();
        await probe.WaitForAsync(3, Timeout);
        await deadProbe.WaitForAsync(1, Timeout);
        await host.StopAsync();

        // Attempts continue from the broker's count: the third (last) attempt, then the broker's DLX.
        var poison = Assert.Single(probe.Observations, o => o.Index == 0);
        Assert.Equal(3, poison.Attempt);
        Assert.True(poison.Redelivered);
        Assert.All(probe.Observations.Where(o => o.Index != 0), o => Assert.Equal(1, o.Attempt));

        var deadLettered = Assert.Single(deadProbe.Observations);
        Assert.Equal(0, deadLettered.Index);
        Assert.Equal(poison.HeaderTraceParent, deadLettered.HeaderTraceParent);
        Assert.True(RoundTripTests.ContinuesOwnTrace(deadLettered, ParentingMode.Child));
        Assert.True(RoundTripTests.SameBaggage(deadLettered));
        Assert.Equal(1, deadLettered.Attempt);
        var death = Assert.Single(Assert.Single(dead));
        output.WriteLine($"x-death: {death}");
        Assert.Equal((queue, "rejected", 1L, string.Empty), (death.Queue, death.Reason, death.Count, death.Exchange));
        Assert.Equal([queue], death.RoutingKeys);
        Assert.NotNull(death.Time);
        Assert.Null(await channel.BasicGetAsync(queue, autoAck: true));
    }

    [Fact]
    public async Task The_broker_delivery_limit_dead_letters_through_the_dead_letter_exchange_with_the_trace_context()
    {
        var queue = TestData.NewQueue();
        using (var declare = BuildHost(new Probe(), queue, useHosts: false, o => o.DeliveryLimit = 1))
        {
            await declare.StartAsync();
            await WaitUntilHealthyAsync(declare);
            await declare.StopAsync();
        }

        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        string? traceparent = null;
        await TestData.PublishTracedAsync(1, async order =>
        {
            await channel.PublishMessageWithContextAsync(string.Empty, queue, order);
            traceparent = $"00-{Activity.Current!.TraceId.ToHexString()}";
        });
        for (var i = 0; i < 2; i++)
        {
            var got = await channel.BasicGetAsync(queue, autoAck: false);
            Assert.NotNull(got);
            await channel.BasicNackAsync(got.DeliveryTag, multiple: false, requeue: true);
        }

        // At-least-once dead-lettering moves the message asynchronously: poll the dead-letter queue, bounded.
        BasicGetResult? dead = null;
        await Eventually.HoldsAsync(async () => (dead = await channel.BasicGetAsync(queue + ".dead-letter", autoAck: true)) is not null, "the dead-lettered copy");

        Assert.NotNull(dead);
        var headers = dead.BasicProperties.Headers!;
        Assert.StartsWith(traceparent!, RabbitMqHeaders.ToText(headers["traceparent"]), StringComparison.Ordinal);
        Assert.Contains("tenant.id=tenant%200+x", RabbitMqHeaders.ToText(headers["baggage"]), StringComparison.Ordinal);
        var death = Assert.Single(RabbitMqDeaths.Read(headers));
        Assert.Equal((queue, "delivery_limit"), (death.Queue, death.Reason));
        Assert.Null(await channel.BasicGetAsync(queue, autoAck: true));
    }

    private async Task<FailoverReport> RunFailoverAsync(bool useHosts, Func<string, IHost, Task<ClusterNode>> fault)
    {
        var queue = TestData.NewQueue();
        var consumed = new ConcurrentQueue<(long At, int? Port)>();
        var faultStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var faultDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new Probe
        {
            Behaviour = async (m, ct) =>
            {
                if (faultStarted.Task.IsCompleted && !faultDone.Task.IsCompleted)
                {
                    // Messages delivered while the fault is injected stay in their handlers until it took effect: the
                    // node goes down with deliveries in flight (unacked), however long rabbitmqctl takes.
                    await faultDone.Task.WaitAsync(ct);
                    return;
                }

                consumed.Enqueue((Stopwatch.GetTimestamp(), m.Message.ServerPort));
            },
        };
        using var host = BuildHost(probe, queue, useHosts);
        await host.StartAsync();
        await WaitUntilHealthyAsync(host);
        var publisher = host.Services.GetRequiredService<IRabbitMqPublisher>();

        var faultDoneAt = 0L;
        ClusterNode? faulted = null;
        var faultTask = Task.Run(async () =>
        {
            await probe.WaitForAsync(Messages / 4, Timeout);
            faultStarted.SetResult();
            try
            {
                faulted = await fault(queue, host);
            }
            finally
            {
                faultDoneAt = Stopwatch.GetTimestamp();
                faultDone.SetResult();
            }
        });

        var results = new ConcurrentQueue<PublishResult>();
        var watch = Stopwatch.StartNew();
        const int perLane = Messages / PublishLanes;
        await Task.WhenAll(Enumerable.Range(0, PublishLanes).Select(lane =>
            TestData.PublishTracedAsync(perLane, async order => results.Enqueue(await publisher.PublishMessageAsync(string.Empty, queue, order)), first: lane * perLane)));
        var published = watch.Elapsed;
        await faultTask.WaitAsync(Timeout);
        await RabbitHosts.WaitForDistinctAsync(probe, Messages, Timeout);
        var done = watch.Elapsed;
        await host.StopAsync();

        var observations = probe.Observations.ToList();
        var distinct = observations.Select(o => o.Index).Distinct().Count();
        var duplicates = observations.Count - distinct;
        var mismatches = observations.Count(o => !RoundTripTests.ContinuesOwnTrace(o, ParentingMode.Child) || !RoundTripTests.SameBaggage(o));

        // The gap: from the fault having taken effect to the next handler start, and between handler starts after it.
        var after = consumed.Where(c => c.At > faultDoneAt).OrderBy(c => c.At).ToList();
        var gap = after.Count == 0 ? TimeSpan.MaxValue : Stopwatch.GetElapsedTime(faultDoneAt, after[0].At);
        for (var i = 1; i < after.Count; i++)
        {
            var step = Stopwatch.GetElapsedTime(after[i - 1].At, after[i].At);
            gap = step > gap ? step : gap;
        }

        var resumedOn = after.TakeLast(100).Select(c => c.Port ?? 0).Distinct().ToList();
        var retried = results.Count(r => r.Attempts > 1);
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"fault on {faulted}: published {Messages} in {published.TotalSeconds:0.0} s (retried {retried}, most attempts {results.Max(r => r.Attempts)}), all consumed after {done.TotalSeconds:0.0} s; consumed {observations.Count}, distinct {distinct}, lost {Messages - distinct}, duplicates {duplicates}, trace/baggage mismatches {mismatches}, handled after the fault {after.Count}, longest consumption gap after it {gap.TotalSeconds:0.00} s, resumed on port(s) {string.Join(", ", resumedOn)}"));

        Assert.NotNull(faulted);
        Assert.Equal(Messages, results.Count);
        Assert.Equal(Messages, distinct);
        Assert.Equal(0, mismatches);
        Assert.True(after.Count > Messages / 2, $"Only {after.Count} messages were handled after the fault: it did not happen mid-stream.");
        Assert.True(gap < MaxGap, $"Consumption stopped for {gap.TotalSeconds:0.00} s after the fault (limit {MaxGap.TotalSeconds} s).");
        return new FailoverReport(faulted, resumedOn, duplicates, gap);
    }

    private IHost BuildHost(Probe probe, string queue, bool useHosts, Action<RabbitMqConsumerOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(probe);
        builder.Services.AddScoped<ScopedMarker>();
        builder.Services.AddRabbitMqConnection(o =>
        {
            o.Uri = Cluster.Nodes[0].Uri;
            foreach (var node in Cluster.Nodes.Skip(1))
            {
                if (useHosts)
                {
                    o.Hosts.Add(node.Uri.Authority); // same credentials as Uri
                }
                else
                {
                    o.Endpoints.Add(node.Uri);
                }
            }

            o.ClientProvidedName = "cluster-test";
            o.ConfigureConnectionFactory = f =>
            {
                f.NetworkRecoveryInterval = TimeSpan.FromMilliseconds(500);
                f.RequestedConnectionTimeout = TimeSpan.FromSeconds(5);
            };
        });
        builder.Services.AddRabbitMqConsumerWorker<RabbitOrderWorker>(o =>
        {
            o.Queue = queue;
            o.QueueType = RabbitMqQueueType.Quorum;
            o.MaxConcurrency = 8;
            o.PrefetchCount = 50;
            o.MaxReconnectDelay = TimeSpan.FromSeconds(1);
            configure?.Invoke(o);
        });
        builder.Services.AddRabbitMqPublisher(o =>
        {
            o.MaxChannels = PublishLanes;
            o.PublishTimeout = TimeSpan.FromSeconds(120);
            o.MaxRetryDelay = TimeSpan.FromSeconds(1);
        });
        services?.Invoke(builder.Services);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        return builder.Build();
    }

    private async Task<IConnection> ConnectAsync()
    {
        var factory = new ConnectionFactory { Uri = Cluster.Nodes[0].Uri, ClientProvidedName = "cluster-test-raw" };
        return await factory.CreateConnectionAsync(Cluster.Uris.Select(u => new AmqpTcpEndpoint(u)).ToList(), "cluster-test-raw");
    }

    /// <summary>Waits, bounded, until every worker of the host reports Healthy (subscribed on the broker).</summary>
    private static Task WaitUntilHealthyAsync(IHost host) => WorkerHealth.HealthyAsync(host.Services, TimeSpan.FromSeconds(60));

    private sealed record FailoverReport(ClusterNode Faulted, IReadOnlyList<int> ResumedOn, int Duplicates, TimeSpan Gap);

    public sealed class DeadLetterWorker(RabbitMqWorkerContext context, [FromKeyedServices("dead")] Probe probe) : RabbitMqConsumerWorker<Order>(context)
    {
        protected override Task HandleAsync(MessageContext<Order> message, CancellationToken cancellationToken) =>
            probe.OnMessageAsync(message, cancellationToken);
    }
}

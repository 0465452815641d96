using System.Collections.Concurrent;
using System.Diagnostics;
using Messaging.IntegrationTests.Broker;
using Messaging.Tests.Support;
using Messaging.Transports.RabbitMq;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace Messaging.IntegrationTests.RabbitMq;

/// <summary>The hosting model on the real broker, with hosts built the way an application builds them.</summary>
[Collection(BrokerCollection.Name)]
public sealed class HostingTests(BrokerFixture fixture, ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly ExportedSpans _capture = new();

    public void Dispose() => _capture.Dispose();

    [Fact]
    public async Task Two_workers_of_one_type_consume_two_queues_from_one_configuration_file_over_one_connection()
    {
        var eu = TestData.NewQueue();
        var us = TestData.NewQueue();
        var connectionName = "hosting-" + Guid.NewGuid().ToString("N");
        var settings = Path.Combine(Path.GetTempPath(), connectionName + ".json");
        await File.WriteAllTextAsync(settings, $$"""
            {
              "Messaging": {
                "RabbitMq": { "Uri": "{{fixture.Broker.Uri}}", "ClientProvidedName": "{{connectionName}}" },
                "Workers": {
                  "Eu": { "Queue": "{{eu}}", "MaxConcurrency": 2, "MaxAttempts": 5 },
                  "Us": { "Queue": "{{us}}", "Parenting": "Link" }
                }
              }
            }
            """);
        try
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Configuration.AddJsonFile(settings);
            var recorded = new Recorded<(string Worker, string Queue, int Index, int MaxAttempts)>();
            builder.Services.AddSingleton(recorded);
            builder.Services.AddRabbitMqConnection(builder.Configuration.GetSection("Messaging:RabbitMq"));
            builder.Services.AddRabbitMqConsumerWorker<QueueWorker>("Eu", builder.Configuration.GetSection("Messaging:Workers:Eu"));
            builder.Services.AddRabbitMqConsumerWorker<QueueWorker>("Us", builder.Configuration.GetSection("Messaging:Workers:Us"));
            builder.Services.AddRabbitMqPublisher();
            using var host = builder.Build();
            await host.StartAsync();
            var publisher = host.Services.GetRequiredService<IRabbitMqPublisher>();
            await WaitUntilHealthyAsync(host, "Eu", "Us");

            for (var i = 0; i < 3; i++)
            {
                await publisher.PublishMessageAsync(string.Empty, eu, new Order(i, string.Empty, []));
                await publisher.PublishMessageAsync(string.Empty, us, new Order(100 + i, string.Empty, []));
            }

            await recorded.WaitForAsync(6, Timeout);
            var seen = recorded.Items;
            var connections = await fixture.Broker.ListConnectionNamesAsync();
            output.WriteLine($"connections on the broker: {string.Join(", ", connections)}");
            await host.StopAsync();

            Assert.Equal([0, 1, 2], seen.Where(s => s.Worker == "Eu").Select(s => s.Index).Order());
            Assert.All(seen.Where(s => s.Worker == "Eu"), s => Assert.Equal((eu, 5), (s.Queue, s.MaxAttempts)));
            Assert.Equal([100, 101, 102], seen.Where(s => s.Worker == "Us").Select(s => s.Index).Order());
            Assert.All(seen.Where(s => s.Worker == "Us"), s => Assert.Equal((us, 3), (s.Queue, s.MaxAttempts)));

            // Both workers and the publisher share the application's one connection.
            Assert.Equal(1, connections.Count(c => c == connectionName));
            var links = _capture.Exported.Where(a => a.Kind == ActivityKind.Consumer && a.OperationName == "process " + us).ToList();
            Assert.Equal(3, links.Count);
            Assert.All(links, a => Assert.Equal(default, a.ParentSpanId)); // the "Us" worker's own Parenting: Link
        }
        finally
        {
            File.Delete(settings);
        }
    }

    [Fact]
    public async Task A_registered_connection_is_used_and_the_library_opens_none_of_its_own()
    {
        var queue = TestData.NewQueue();
        var userName = "user-" + Guid.NewGuid().ToString("N");
        var libraryName = "library-" + Guid.NewGuid().ToString("N");
        await using var connection = await fixture.ConnectAsync(clientProvidedName: userName);
        var probe = new Probe();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(connection);
        builder.Services.AddSingleton(probe);
        builder.Services.AddRabbitMqConnection(o => o.ClientProvidedName = libraryName);
        builder.Services.AddRabbitMqConsumerWorker<RabbitOrderWorker>(o => o.Queue = queue);
        builder.Services.AddRabbitMqPublisher();
        using var host = builder.Build();
        await host.StartAsync();
        var publisher = host.Services.GetRequiredService<IRabbitMqPublisher>();
        await WaitUntilHealthyAsync(host, nameof(RabbitOrderWorker)); // the worker declares the queue

        await TestData.PublishTracedAsync(5, async order => await publisher.PublishMessageAsync(string.Empty, queue, order));
        await probe.WaitForAsync(5, Timeout);
        var connections = await fixture.Broker.ListConnectionNamesAsync();
        await host.StopAsync();

        Assert.Equal(1, connections.Count(c => c == userName));
        Assert.DoesNotContain(libraryName, connections);
        Assert.True(connection.IsOpen); // the application's connection is left open: it is not the library's to close
        Assert.All(probe.Observations, o => Assert.True(RoundTripTests.ContinuesOwnTrace(o, ParentingMode.Child)));
        Assert.All(probe.Observations, o => Assert.True(RoundTripTests.SameBaggage(o)));
    }

    [Fact]
    public async Task The_health_check_is_unhealthy_while_the_broker_is_stopped_and_healthy_after_recovery()
    {
        var queue = TestData.NewQueue();
        var probe = new Probe();
        using var host = RabbitHosts.Build(fixture, probe, o => o.Queue = queue);
        await host.StartAsync();
        await WaitUntilHealthyAsync(host, nameof(RabbitOrderWorker));

        HealthReport? down = null;
        await fixture.Broker.StopAppAsync();
        try
        {
            down = await WorkerHealth.StatusAsync(host.Services, HealthStatus.Unhealthy, Timeout, nameof(RabbitOrderWorker));
        }
        finally
        {
            await fixture.Broker.StartAppAsync();
        }

        await WaitUntilHealthyAsync(host, nameof(RabbitOrderWorker));
        await using (var connection = await fixture.ConnectAsync())
        await using (var channel = await RabbitHosts.ConfirmingChannelAsync(connection, queue))
        {
            await RabbitHosts.PublishTracedAsync(channel, queue, 1);
        }

        await probe.WaitForAsync(1, Timeout);
        await host.StopAsync();

        var entry = down!.Entries[nameof(RabbitOrderWorker)];
        output.WriteLine($"while stopped: {entry.Status}: {entry.Description}");
        Assert.Contains(queue, entry.Description, StringComparison.Ordinal);
        Assert.Contains("messaging", entry.Tags);
        Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(host)).Entries[nameof(RabbitOrderWorker)].Status);
    }

    [Fact]
    public async Task The_publisher_delivers_every_message_across_a_broker_restart()
    {
        const int count = 2000;
        var queue = TestData.NewQueue();
        var probe = new Probe();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(probe);
        builder.Services.AddScoped<ScopedMarker>();
        builder.Services.AddRabbitMqConnection(o =>
        {
            o.Uri = fixture.Broker.Uri;
            o.ConfigureConnectionFactory = f => f.NetworkRecoveryInterval = TimeSpan.FromMilliseconds(500);
        });
        builder.Services.AddRabbitMqConsumerWorker<RabbitOrderWorker>(o =>
        {
            o.Queue = queue;
            o.MaxConcurrency = 8;
            o.MaxReconnectDelay = TimeSpan.FromSeconds(1);
        });
        builder.Services.AddRabbitMqPublisher(o => o.PublishTimeout = TimeSpan.FromSeconds(90));
        using var host = builder.Build();
        await host.StartAsync();
        var publisher = host.Services.GetRequiredService<IRabbitMqPublisher>();
        await WaitUntilHealthyAsync(host, nameof(RabbitOrderWorker));

        var results = new ConcurrentQueue<PublishResult>();
        var restart = Task.Run(async () =>
        {
            await probe.WaitForAsync(count / 3, TimeSpan.FromSeconds(120));
            await fixture.Broker.StopAppAsync();
            await fixture.Broker.StartAppAsync();
        });
        var watch = Stopwatch.StartNew();
        await TestData.PublishTracedAsync(count, async order => results.Enqueue(await publisher.PublishMessageAsync(string.Empty, queue, order)));
        var published = watch.Elapsed;
        await restart.WaitAsync(TimeSpan.FromSeconds(180));
        await RabbitHosts.WaitForDistinctAsync(probe, count, TimeSpan.FromSeconds(180));
        await host.StopAsync();

        var observations = probe.Observations.ToList();
        var distinct = observations.Select(o => o.Index).Distinct().Count();
        var duplicates = observations.Count - distinct;
        var retried = results.Count(r => r.Attempts > 1);
        var mismatches = observations.Count(o => !RoundTripTests.ContinuesOwnTrace(o, ParentingMode.Child) || !RoundTripTests.SameBaggage(o));
        output.WriteLine($"published {count} in {published.TotalSeconds:0.0} s, confirmed {results.Count}, retried {retried} (most attempts {results.Max(r => r.Attempts)}), consumed {observations.Count}, distinct {distinct}, duplicates {duplicates}, trace/baggage mismatches {mismatches}");
        Assert.Equal(count, results.Count);
        Assert.Equal(count, results.Select(r => r.MessageId).Distinct().Count());
        Assert.Equal(count, distinct);
        Assert.Equal(0, mismatches);
        Assert.All(results, r => Assert.True(r.ProducerContext.TraceId != default));
    }

    private static Task<HealthReport> CheckAsync(IHost host) => host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

    private static Task WaitUntilHealthyAsync(IHost host, params string[] workers) => WorkerHealth.HealthyAsync(host.Services, Timeout, workers);

    public sealed class QueueWorker(RabbitMqWorkerContext context, Recorded<(string Worker, string Queue, int Index, int MaxAttempts)> seen)
        : RabbitMqConsumerWorker<Order>(context)
    {
        protected override Task HandleAsync(MessageContext<Order> message, CancellationToken cancellationToken)
        {
            seen.Add((Name, message.Destination, message.Body.Index, message.MaxAttempts));
            return Task.CompletedTask;
        }
    }
}

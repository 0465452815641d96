using Messaging.IntegrationTests.Broker;
using Messaging.Tests.Support;
using RabbitMQ.Client;
using Xunit;
using Xunit.Abstractions;

namespace Messaging.IntegrationTests.RabbitMq;

[Collection(BrokerCollection.Name)]
public sealed class FaultTests(BrokerFixture fixture, ITestOutputHelper output) : IDisposable
{
    private readonly ExportedSpans _capture = new();

    public void Dispose() => _capture.Dispose();

    [Fact]
    public async Task Broker_restart_and_forced_connection_close_lose_nothing_and_every_message_keeps_its_trace()
    {
        const int count = 2000;
        var queue = TestData.NewQueue();
        var probe = new Probe();
        var closedAt = count / 4;
        var restartAt = count / 2;
        var faults = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var host = RabbitHosts.Build(fixture, probe, o =>
        {
            o.Queue = queue;
            o.PrefetchCount = 50;
            o.MaxConcurrency = 8;
        });
        await host.StartAsync();

        // Faults are injected while the consumer is mid-stream.
        var faultTask = Task.Run(async () =>
        {
            await probe.WaitForAsync(closedAt, TimeSpan.FromSeconds(120));
            await fixture.Broker.CloseAllConnectionsAsync("fault test: forced close");
            await probe.WaitForAsync(restartAt, TimeSpan.FromSeconds(120));
            await fixture.Broker.StopAppAsync();
            await fixture.Broker.StartAppAsync();
            faults.SetResult();
        });

        var publishRetries = await PublishWithRetriesAsync(queue, count);
        await faultTask.WaitAsync(TimeSpan.FromSeconds(180));
        await RabbitHosts.WaitForDistinctAsync(probe, count, TimeSpan.FromSeconds(180));
        await host.StopAsync();

        var observations = probe.Observations.ToList();
        var distinct = observations.Select(o => o.Index).Distinct().Count();
        var duplicates = observations.Count - distinct;
        var mismatches = observations.Count(o => !RoundTripTests.ContinuesOwnTrace(o, ParentingMode.Child) || !RoundTripTests.SameBaggage(o));
        output.WriteLine($"published {count}, consumed {observations.Count}, distinct {distinct}, duplicates {duplicates}, publish retries {publishRetries}, trace/baggage mismatches {mismatches}");
        Assert.Equal(count, distinct);
        Assert.Equal(0, mismatches);
    }

    [Fact]
    public async Task Poison_message_ends_in_the_dead_letter_queue_with_its_headers_and_others_still_flow()
    {
        var queue = TestData.NewQueue();
        var probe = new Probe { Behaviour = (m, _) => m.Body.Index == 0 ? throw new InvalidOperationException("poison") : Task.CompletedTask };
        await using var connection = await fixture.ConnectAsync();
        await using var channel = await RabbitHosts.ConfirmingChannelAsync(connection, queue);
        using var host = RabbitHosts.Build(fixture, probe, o =>
        {
            o.Queue = queue;
            o.MaxAttempts = 3;
        });
        await host.StartAsync();
        await RabbitHosts.PublishTracedAsync(channel, queue, 5);
        await probe.WaitForAsync(7);
        await host.StopAsync();

        var poison = probe.Observations.Where(o => o.Index == 0).ToList();
        Assert.Equal([1, 2, 3], poison.Select(o => o.Attempt).Order());
        Assert.Equal(4, probe.Observations.Count(o => o.Index != 0));

        var dead = await RabbitHosts.GetAsync(channel, queue + ".dead-letter");
        Assert.NotNull(dead);
        Assert.Equal(0, JsonMessageSerializer.Default.Deserialize<Order>(dead.Body).Index);
        var headers = dead.BasicProperties.Headers!;
        Assert.Equal(poison[0].HeaderTraceParent, Text(headers["traceparent"]));
        Assert.Contains("tenant.id=tenant%200+x", Text(headers["baggage"]), StringComparison.Ordinal);
        Assert.Equal(typeof(InvalidOperationException).FullName, Text(headers["x-first-death-reason"]));
        Assert.Equal(queue, Text(headers["x-first-death-queue"]));
        Assert.Null(await RabbitHosts.GetAsync(channel, queue + ".dead-letter"));
        Assert.Null(await RabbitHosts.GetAsync(channel, queue));
    }

    private static string? Text(object? value) => Messaging.Transports.RabbitMq.RabbitMqHeaders.ToText(value);

    /// <summary>Publishes with confirms; a publish that fails (connection closed, broker stopping, nack) is retried after recovery.</summary>
    private async Task<int> PublishWithRetriesAsync(string queue, int count)
    {
        var retries = 0;
        await using var connection = await fixture.ConnectAsync(automaticRecovery: true);
        IChannel? channel = null;
        try
        {
            await TestData.PublishTracedAsync(count, async order =>
            {
                for (var attempt = 0; ; attempt++)
                {
                    try
                    {
                        if (channel is not { IsOpen: true })
                        {
                            if (channel is not null)
                            {
                                await channel.DisposeAsync();
                            }

                            channel = await RabbitHosts.ConfirmingChannelAsync(connection, queue);
                        }

                        await channel.PublishMessageWithContextAsync(string.Empty, queue, order);
                        return;
                    }
                    catch (Exception) when (attempt < 600)
                    {
                        retries++;
                        await WaitForOpenAsync(connection);
                    }
                }
            });
        }
        finally
        {
            if (channel is not null)
            {
                await channel.DisposeAsync();
            }
        }

        return retries;
    }

    private static Task WaitForOpenAsync(IConnection connection) =>
        Eventually.HoldsAsync(() => connection.IsOpen, "the connection to recover", TimeSpan.FromSeconds(60));
}

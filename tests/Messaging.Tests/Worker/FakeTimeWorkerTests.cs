using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Messaging.Tests.Support;
using Messaging.Transports.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Messaging.Tests.Worker;

/// <summary>The worker's time-based behaviour on a fake clock: retry delay, reconnect back-off, the stop grace period.</summary>
public sealed class FakeTimeWorkerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_failed_attempt_is_retried_after_the_retry_delay_and_not_before()
    {
        var time = new TimerWatchingTimeProvider();
        var broker = new InMemoryBroker(time);
        var queue = TestData.NewQueue();
        var probe = new Probe { Behaviour = (m, _) => m.Attempt == 1 ? throw new InvalidOperationException("first attempt fails") : Task.CompletedTask };
        using var host = Build(time, broker, probe, o =>
        {
            o.Queue = queue;
            o.RetryDelay = TimeSpan.FromSeconds(10);
        });
        await host.StartAsync();
        var retryTimer = time.NextTimer(TimeSpan.FromSeconds(10));

        await broker.PublishMessageWithContextAsync(queue, new Order(1, string.Empty, []));
        await probe.WaitForAsync(1, Timeout);
        await retryTimer.WaitAsync(Timeout);
        time.Advance(TimeSpan.FromSeconds(9.9));
        var beforeTheDelay = probe.Observations.Count;
        time.Advance(TimeSpan.FromSeconds(0.1));
        await probe.WaitForAsync(2, Timeout);
        await host.StopAsync();

        Assert.Equal(1, beforeTheDelay);
        Assert.Equal([1, 2], probe.Observations.Select(o => o.Attempt));
        Assert.Equal((0, 0), (broker.GetReadyCount(queue), broker.GetUnackedCount(queue)));
    }

    [Fact]
    public async Task Subscribing_again_backs_off_doubling_up_to_the_maximum()
    {
        var time = new TimerWatchingTimeProvider();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddRabbitMqConnection(o => o.Uri = new Uri($"amqp://guest:guest@127.0.0.1:{UnusedPort()}/"));
        builder.Services.AddRabbitMqConsumerWorker<HostingConfigurationTests.RabbitWorker>(o =>
        {
            o.Queue = "orders";
            o.MaxReconnectDelay = TimeSpan.FromSeconds(2);
        });
        using var host = builder.Build();
        var delays = new List<TimeSpan>();

        await host.StartAsync();
        for (var i = 0; i < 7; i++)
        {
            // Each failed attempt (nothing listens on the port) waits on the clock; let exactly that wait pass.
            var delay = await time.NextTimer(due => due < TimeSpan.FromSeconds(10)).WaitAsync(Timeout);
            delays.Add(delay);
            time.Advance(delay);
        }

        await host.StopAsync();

        Assert.Equal(
            new[] { 0.1, 0.2, 0.4, 0.8, 1.6, 2, 2 }.Select(TimeSpan.FromSeconds),
            delays);
    }

    [Fact]
    public async Task A_handler_that_ignores_cancellation_gets_the_grace_period_and_its_message_goes_back_to_the_queue()
    {
        var time = new TimerWatchingTimeProvider();
        var broker = new InMemoryBroker(time);
        var queue = TestData.NewQueue();
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new Probe
        {
            Behaviour = async (_, ct) =>
            {
                entered.TrySetResult();
                await release.Task; // ignores the token on purpose
                ct.ThrowIfCancellationRequested();
            },
        };
        using var host = Build(time, broker, probe, o => o.Queue = queue);
        await host.StartAsync();
        await broker.PublishMessageWithContextAsync(queue, new Order(1, string.Empty, []));
        await entered.Task.WaitAsync(Timeout);
        var worker = host.Services.GetRequiredKeyedService<ConsumerWorker>(nameof(RecordingWorker));
        var grace = time.NextTimer(TimeSpan.FromSeconds(2));

        using var shutdownTimedOut = new CancellationTokenSource();
        await shutdownTimedOut.CancelAsync();
        var stopping = worker.StopAsync(shutdownTimedOut.Token);
        await grace.WaitAsync(Timeout);
        time.Advance(TimeSpan.FromSeconds(1.9));
        var stoppedEarly = stopping.IsCompleted;
        time.Advance(TimeSpan.FromSeconds(0.1));
        await stopping.WaitAsync(Timeout);
        release.SetResult();
        await worker.ExecuteTask!.WaitAsync(Timeout);

        Assert.False(stoppedEarly);
        Assert.Equal((1, 0), (broker.GetReadyCount(queue), broker.GetUnackedCount(queue)));
        var requeued = broker.Get(queue)!;
        Assert.True(requeued.Redelivered);
    }

    private static IHost Build(TimeProvider time, InMemoryBroker broker, Probe probe, Action<InMemoryConsumerOptions> configure)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(broker);
        builder.Services.AddSingleton(probe);
        builder.Services.AddInMemoryConsumerWorker<RecordingWorker>(configure);
        return builder.Build();
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// A fake clock that records every timer created on it, so a test advances time only once the wait began — also
    /// when the timer was created before the test asked for it.
    /// </summary>
    private sealed class TimerWatchingTimeProvider : FakeTimeProvider
    {
        private readonly Channel<TimeSpan> _created = Channel.CreateUnbounded<TimeSpan>();

        public TimerWatchingTimeProvider()
            : base(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
        {
        }

        public Task<TimeSpan> NextTimer(TimeSpan due) => NextTimer(d => d == due);

        /// <summary>The due time of the next timer created (in creation order) that matches; earlier others are passed over.</summary>
        public async Task<TimeSpan> NextTimer(Func<TimeSpan, bool> match)
        {
            while (true)
            {
                var due = await _created.Reader.ReadAsync();
                if (match(due))
                {
                    return due;
                }
            }
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            _created.Writer.TryWrite(dueTime);
            return timer;
        }
    }
}

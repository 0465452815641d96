using System.Collections.Concurrent;
using System.Diagnostics;
using Messaging.Tests.Support;
using Messaging.Transports.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using Xunit;

namespace Messaging.Tests.Worker;

public sealed class ConsumerWorkerTests : IDisposable
{
    private readonly ExportedSpans _capture = new();

    public void Dispose() => _capture.Dispose();

    [Theory]
    [InlineData(ParentingMode.Child)]
    [InlineData(ParentingMode.Link)]
    public async Task Thousand_messages_at_concurrency_8_each_see_exactly_their_own_trace_and_baggage(ParentingMode mode)
    {
        const int count = 1000;
        var broker = new InMemoryBroker();
        var probe = new Probe();
        var queue = TestHosts.NewQueue();
        using var host = TestHosts.Build(broker, probe, o =>
        {
            o.Queue = queue;
            o.MaxConcurrency = 8;
            o.Parenting = mode;
        });

        var concurrent = 0;
        var maxConcurrent = 0;
        var started = 0;
        var secondStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        probe.Behaviour = async (_, _) =>
        {
            var now = Interlocked.Increment(ref concurrent);
            InterlockedMax(ref maxConcurrent, now);

            // The first handler waits for a second one to start: concurrency is shown, not left to scheduling.
            switch (Interlocked.Increment(ref started))
            {
                case 1:
                    await secondStarted.Task.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
                    break;
                case 2:
                    secondStarted.TrySetResult();
                    break;
            }

            await Task.Yield();
            Interlocked.Decrement(ref concurrent);
        };

        await host.StartAsync();
        await TestHosts.PublishTracedAsync(broker, queue, count);
        await probe.WaitForAsync(count);
        await host.StopAsync();

        var observations = probe.Observations.ToList();
        Assert.Equal(count, observations.Count);
        Assert.Equal(count, observations.Select(o => o.Index).Distinct().Count());
        var traceMismatches = 0;
        var baggageMismatches = 0;
        foreach (var o in observations)
        {
            var expected = TestHosts.BaggageFor(o.Index);
            var expectedTrace = o.BodyTraceId;
            traceMismatches += ExpectedTraceId(o) == expectedTrace ? 0 : 1;
            var headerSpan = o.HeaderTraceParent!.Split('-')[2];
            // Both modes link to the creation context; Child mode also has it as the parent.
            var linked = o.Links.Count == 1 && o.Links[0].Context.TraceId.ToHexString() == expectedTrace && o.Links[0].Context.SpanId.ToHexString() == headerSpan;
            var ok = linked && (mode == ParentingMode.Child
                ? o.TraceId == expectedTrace && o.ParentSpanId == headerSpan
                : o.TraceId != expectedTrace && o.ParentSpanId is null);
            traceMismatches += ok ? 0 : 1;
            baggageMismatches += o.Baggage.Count == expected.Count && expected.All(e => o.Baggage.TryGetValue(e.Key, out var v) && v == e.Value) ? 0 : 1;
        }

        Assert.Equal(0, traceMismatches);
        Assert.Equal(0, baggageMismatches);
        Assert.True(maxConcurrent > 1, $"expected concurrent handlers, saw at most {maxConcurrent}");
        Assert.True(maxConcurrent <= 8, $"concurrency limit exceeded: {maxConcurrent}");
        Assert.Equal(0, broker.GetReadyCount(queue));
        Assert.Equal(0, broker.GetUnackedCount(queue));
    }

    [Fact]
    public async Task Message_without_headers_after_one_with_baggage_sees_empty_baggage_and_a_new_root()
    {
        var broker = new InMemoryBroker();
        var probe = new Probe();
        var queue = TestHosts.NewQueue();
        using var host = TestHosts.Build(broker, probe, o => o.Queue = queue);

        await TestHosts.PublishTracedAsync(broker, queue, 1);
        await broker.PublishAsync(queue, JsonMessageSerializer.Default.Serialize(new Order(1, string.Empty, [])));
        await host.StartAsync();
        await probe.WaitForAsync(2);
        await host.StopAsync();

        var first = probe.Observations.Single(o => o.Index == 0);
        var second = probe.Observations.Single(o => o.Index == 1);
        Assert.Equal("tenant 0+x", first.Baggage["tenant.id"]);
        Assert.Empty(second.Baggage);
        Assert.Null(second.HeaderTraceParent);
        Assert.NotNull(second.TraceId);
        Assert.NotEqual(first.TraceId, second.TraceId);
        Assert.Null(second.ParentSpanId);
        Assert.Empty(second.Links);
    }

    [Fact]
    public async Task Host_started_inside_an_activity_with_baggage_does_not_leak_it_into_messages()
    {
        var broker = new InMemoryBroker();
        var probe = new Probe();
        var queue = TestHosts.NewQueue();
        using var host = TestHosts.Build(broker, probe, o => o.Queue = queue);

        string outerTrace;
        using (var outer = TestData.Source.StartActivity("host-start", ActivityKind.Internal, parentContext: default)!)
        {
            outerTrace = outer.TraceId.ToHexString();
            Baggage.Current = Baggage.Create(new Dictionary<string, string> { ["leak"] = "yes" });
            await host.StartAsync();
            Baggage.Current = default;
        }

        await broker.PublishAsync(queue, JsonMessageSerializer.Default.Serialize(new Order(0, string.Empty, [])));
        await TestHosts.PublishTracedAsync(broker, queue, 2);
        await probe.WaitForAsync(3);
        await host.StopAsync();

        Assert.All(probe.Observations, o =>
        {
            Assert.NotEqual(outerTrace, o.TraceId);
            Assert.False(o.Baggage.ContainsKey("leak"));
        });
        var bare = probe.Observations.First(o => o.HeaderTraceParent is null);
        Assert.Null(bare.ParentSpanId);
        Assert.Empty(bare.Baggage);
    }

    [Fact]
    public async Task Throwing_handler_is_retried_then_dead_lettered_and_the_worker_keeps_consuming()
    {
        var broker = new InMemoryBroker();
        var probe = new Probe();
        var queue = TestHosts.NewQueue();
        using var settlements = new MetricCollector<long>(MessagingTelemetry.Meter, "messaging.consumer.settled.messages");
        using var durations = new MetricCollector<double>(Instruments.ProcessDuration);

        probe.Behaviour = (m, _) => m.Body.Index == 0 ? throw new InvalidOperationException("poison") : Task.CompletedTask;
        using var host = TestHosts.Build(broker, probe, o =>
        {
            o.Queue = queue;
            o.MaxAttempts = 3;
        });
        await host.StartAsync();
        await TestHosts.PublishTracedAsync(broker, queue, 2);
        await probe.WaitForAsync(4);
        await host.StopAsync();

        var poison = probe.Observations.Where(o => o.Index == 0).ToList();
        Assert.Equal([1, 2, 3], poison.Select(o => o.Attempt).Order());
        Assert.Single(probe.Observations, o => o.Index == 1);

        var dead = broker.Get(queue + ".dead-letter");
        Assert.NotNull(dead);
        Assert.Equal(0, JsonMessageSerializer.Default.Deserialize<Order>(dead.Body).Index);
        Assert.Equal(poison[0].HeaderTraceParent, RabbitLikeText(dead.Headers["traceparent"]));
        Assert.Equal(typeof(InvalidOperationException).FullName, RabbitLikeText(dead.Headers["x-first-death-reason"]));
        Assert.Null(broker.Get(queue + ".dead-letter"));
        Assert.Equal(0, broker.GetReadyCount(queue));

        var failedSpans = _capture.Exported.Where(a => a.Kind == ActivityKind.Consumer && a.TraceId.ToHexString() == poison[0].TraceId).ToList();
        Assert.Equal(3, failedSpans.Count);
        Assert.All(failedSpans, a =>
        {
            Assert.Equal(ActivityStatusCode.Error, a.Status);
            Assert.Equal(typeof(InvalidOperationException).FullName, a.GetTagItem("error.type"));
        });

        var settled = settlements.GetMeasurementSnapshot().Where(m => HasTag(m.Tags, "messaging.destination.name", queue));
        Assert.Equal(["ack", "dead_letter"], settled.Select(static m => (string)m.Tags["messaging.settlement"]!).Order());
        Assert.Equal(3, durations.GetMeasurementSnapshot().Count(m => HasTag(m.Tags, "messaging.destination.name", queue) && HasTag(m.Tags, "error.type", typeof(InvalidOperationException).FullName!)));
    }

    [Fact]
    public async Task Undeserialisable_body_is_dead_lettered_at_once()
    {
        var broker = new InMemoryBroker();
        var probe = new Probe();
        var queue = TestHosts.NewQueue();
        using var host = TestHosts.Build(broker, probe, o => o.Queue = queue);
        await host.StartAsync();
        await broker.PublishWithContextAsync(queue, "not json"u8.ToArray());
        await TestHosts.PublishTracedAsync(broker, queue, 1);
        await probe.WaitForAsync(1);
        await host.StopAsync();

        var dead = broker.Get(queue + ".dead-letter");
        Assert.NotNull(dead);
        Assert.Equal("not json", System.Text.Encoding.UTF8.GetString(dead.Body.Span));
        Assert.Single(probe.Observations);
    }

    [Fact]
    public async Task Graceful_stop_waits_for_in_flight_handlers_and_returns_unfinished_messages()
    {
        const int total = 16;
        var broker = new InMemoryBroker();
        var probe = new Probe();
        var queue = TestHosts.NewQueue();
        var started = 0;
        var allStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var completed = new System.Collections.Concurrent.ConcurrentBag<int>();
        probe.Behaviour = async (m, ct) =>
        {
            if (Interlocked.Increment(ref started) == 8)
            {
                allStarted.TrySetResult();
            }

            if (m.Body.Index % 2 == 0)
            {
                await release.Task; // finishes when released, within the shutdown timeout
            }
            else
            {
                await Task.Delay(Timeout.Infinite, ct); // only the shutdown timeout ends it
            }

            completed.Add(m.Body.Index);
        };
        using (var host = TestHosts.Build(broker, probe, o => { o.Queue = queue; o.MaxConcurrency = 8; }, shutdownTimeout: TimeSpan.FromSeconds(3)))
        {
            await host.StartAsync();
            for (var i = 0; i < total; i++)
            {
                await broker.PublishMessageWithContextAsync(queue, new Order(i, string.Empty, []));
            }

            await allStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
            var stopping = host.StopAsync();
            Assert.False(stopping.IsCompleted, "StopAsync must wait for in-flight handlers");
            release.SetResult();
            await stopping.WaitAsync(TimeSpan.FromSeconds(30));
        }

        Assert.Equal(8, Volatile.Read(ref started));
        Assert.Equal(4, completed.Count);
        Assert.All(completed, i => Assert.Equal(0, i % 2));
        Assert.Equal(0, broker.GetUnackedCount(queue));
        Assert.Equal(total - 4, broker.GetReadyCount(queue));

        // Next start: everything not finished is delivered again; nothing lost.
        var second = new Probe();
        using (var host = TestHosts.Build(broker, second, o => { o.Queue = queue; o.MaxConcurrency = 8; }))
        {
            await host.StartAsync();
            await second.WaitForAsync(total - 4);
            await host.StopAsync();
        }

        var all = completed.Concat(second.Observations.Select(o => o.Index)).Order().ToList();
        Assert.Equal(Enumerable.Range(0, total), all);
        Assert.Equal(4, second.Observations.Count(o => o.Redelivered));
        Assert.All(second.Observations.Where(o => o.Redelivered), o => Assert.Equal(1, o.Index % 2));
    }

    [Fact]
    public async Task Per_message_parenting_policy_links_redelivered_messages()
    {
        var broker = new InMemoryBroker();
        var probe = new Probe();
        var queue = TestHosts.NewQueue();
        await TestHosts.PublishTracedAsync(broker, queue, 1);

        // A previous consumer received the message and returned it: the next delivery is flagged redelivered.
        var first = await broker.ReceiveAsync(queue, CancellationToken.None);
        broker.Reject(first, requeue: true);
        await TestHosts.PublishTracedAsync(broker, queue, 2);

        using var host = TestHosts.Build(broker, probe, o =>
        {
            o.Queue = queue;
            o.ParentingPolicy = m => m.Redelivered ? ParentingMode.Link : ParentingMode.Child;
        });
        await host.StartAsync();
        await probe.WaitForAsync(3);
        await host.StopAsync();

        var redelivered = Assert.Single(probe.Observations, o => o.Redelivered);
        Assert.Null(redelivered.ParentSpanId);
        Assert.Single(redelivered.Links);
        Assert.Equal(redelivered.HeaderTraceParent!.Split('-')[1], redelivered.Links[0].Context.TraceId.ToHexString());
        Assert.All(probe.Observations.Where(o => !o.Redelivered), o =>
        {
            Assert.Equal(o.HeaderTraceParent!.Split('-')[2], o.ParentSpanId);
            Assert.Equal(o.ParentSpanId, Assert.Single(o.Links).Context.SpanId.ToHexString());
        });
    }

    [Fact]
    public async Task Each_attempt_gets_its_own_dependency_injection_scope()
    {
        var broker = new InMemoryBroker();
        var probe = new Probe { Behaviour = (m, _) => m.Attempt == 1 ? throw new InvalidOperationException("once") : Task.CompletedTask };
        var queue = TestHosts.NewQueue();
        using var host = TestHosts.Build(broker, probe, o => o.Queue = queue);
        await host.StartAsync();
        await TestHosts.PublishTracedAsync(broker, queue, 2);
        await probe.WaitForAsync(4);
        await host.StopAsync();

        var markers = probe.Observations.Select(o => ((ScopedMarker)o.ScopedService!).Id).ToList();
        Assert.Equal(4, markers.Distinct().Count());
    }

    [Fact]
    public async Task Each_attempt_scope_is_created_once_and_disposed_when_the_attempt_finished()
    {
        var broker = new InMemoryBroker();
        var seen = new ConcurrentQueue<(DisposalMarker First, DisposalMarker Again, bool DisposedInHandler)>();
        var probe = new Probe
        {
            Behaviour = (m, _) =>
            {
                var first = m.Services.GetRequiredService<DisposalMarker>();
                seen.Enqueue((first, m.Services.GetRequiredService<DisposalMarker>(), first.Disposed));
                return Task.CompletedTask;
            },
        };
        var queue = TestHosts.NewQueue();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton(broker);
        builder.Services.AddSingleton(probe);
        builder.Services.AddScoped<ScopedMarker>();
        builder.Services.AddScoped<DisposalMarker>();
        builder.Services.AddInMemoryConsumerWorker<RecordingWorker>(o => o.Queue = queue);
        using var host = builder.Build();
        await host.StartAsync();
        await TestHosts.PublishTracedAsync(broker, queue, 3);
        await probe.WaitForAsync(3);
        await host.StopAsync(); // returns once every message is settled, its attempt's scope disposed

        Assert.Equal(3, seen.Count);
        Assert.All(seen, s =>
        {
            Assert.Same(s.First, s.Again);
            Assert.False(s.DisposedInHandler);
            Assert.True(s.First.Disposed);
        });
        Assert.Equal(3, seen.Select(s => s.First).Distinct().Count());
    }

    [Fact]
    public void Registering_a_worker_twice_adds_one_hosted_service()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(new Probe());
        services.AddInMemoryConsumerWorker<RecordingWorker>(o => o.Queue = "a");
        services.AddInMemoryConsumerWorker<RecordingWorker>(o => o.MaxConcurrency = 4);
        using var provider = services.BuildServiceProvider();

        var hosted = provider.GetServices<IHostedService>().OfType<ConsumerWorker>().ToList();
        Assert.Single(hosted);
        var options = provider.GetRequiredService<IOptionsMonitor<InMemoryConsumerOptions>>().Get(nameof(RecordingWorker));
        Assert.Equal("a", options.Queue);
        Assert.Equal(4, options.MaxConcurrency);
        Assert.Same(hosted[0], provider.GetRequiredKeyedService<ConsumerWorker>(nameof(RecordingWorker)));
    }

    [Fact]
    public async Task Invalid_options_fail_at_host_start_with_a_clear_message()
    {
        using var host = TestHosts.Build(new InMemoryBroker(), new Probe(), o => o.Queue = " ");
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("Queue is required", error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(InMemoryConsumerOptions), error.Message, StringComparison.Ordinal);

        using var host2 = TestHosts.Build(new InMemoryBroker(), new Probe(), o => { o.Queue = "q"; o.MaxConcurrency = 0; });
        error = await Assert.ThrowsAsync<OptionsValidationException>(() => host2.StartAsync());
        Assert.Contains("MaxConcurrency must be at least 1", error.Message, StringComparison.Ordinal);
    }

    private static string ExpectedTraceId(Observation o) => o.HeaderTraceParent!.Split('-')[1];

    private static string? RabbitLikeText(object? value) => HeaderValues.TryGetString(value, out var s) ? s : null;

    private static bool HasTag(IReadOnlyDictionary<string, object?> tags, string key, string value) => tags.TryGetValue(key, out var v) && Equals(v, value);

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private sealed class DisposalMarker : IAsyncDisposable
    {
        public bool Disposed { get; private set; }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}

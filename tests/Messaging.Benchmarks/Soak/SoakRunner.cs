using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using Messaging.Benchmarks.Common;
using Messaging.Benchmarks.EndToEnd;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using RabbitMQ.Client;

namespace Messaging.Benchmarks.Soak;

/// <summary>
/// Soak: many messages through <c>RabbitMqConsumerWorker</c>, each published under its own root trace with its own
/// baggage member (<c>msg.id=i</c>); counts lost messages, trace mismatches and baggage carried between messages, and
/// takes managed memory after a full blocking compacting GC at 10 %, 50 % and 100 % of the messages handled.
/// </summary>
/// <remarks>
/// At each checkpoint the publisher pauses until every message published so far is confirmed, handled and its spans
/// ended, so the three measurements are taken in the same state (nothing in flight) and compare like with like: taken
/// mid-flight, the earlier ones would also count the publishes, deliveries and spans in progress at that moment.
/// </remarks>
internal static class SoakRunner
{
    private static readonly double[] Checkpoints = [0.10, 0.50, 1.00];

    public static async Task<int> RunAsync(SoakOptions options)
    {
        Console.WriteLine(MachineInfo.Describe());
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"# soak: {options.Messages} messages, concurrency {options.Concurrency}, prefetch {(options.Prefetch == 0 ? "default (4 x concurrency)" : options.Prefetch)}, "
            + $"{options.InFlight} publishes in flight, body {options.BodySize} B; AlwaysOn tracer provider, no-op processor"));

        await using var broker = await Broker.StartAsync().ConfigureAwait(false);
        var factory = new ConnectionFactory { Uri = broker.Uri, AutomaticRecoveryEnabled = false, ClientProvidedName = "soak-publisher" };
        var connection = await factory.CreateConnectionAsync().ConfigureAwait(false);
        await using var disposeConnection = connection.ConfigureAwait(false);
        var admin = await connection.CreateChannelAsync().ConfigureAwait(false);
        await using var disposeAdmin = admin.ConfigureAwait(false);
        var queue = $"bench-soak-{Guid.NewGuid():N}";
        await admin.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: null).ConfigureAwait(false);

        var state = new SoakState(options.Messages);
        var body = new byte[options.BodySize];
        new Random(7).NextBytes(body);
        var processor = new NoopProcessor();
        using var provider = Tracing.CreateProvider(processor);

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton(state);
        builder.Services.AddRabbitMqConnection(o => o.Uri = broker.Uri);
        builder.Services.AddRabbitMqConsumerWorker<SoakWorker>(o =>
        {
            o.Queue = queue;
            o.MaxConcurrency = options.Concurrency;
            o.PrefetchCount = options.Prefetch;
            o.Serializer = RawBytesSerializer.Instance;
        });
        using var host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        long[] memory = new long[Checkpoints.Length];
        double elapsed;
        int lost;
        try
        {
            await EndToEndRunner.WaitForConsumerAsync(admin, queue).ConfigureAwait(false);
            var channel = await connection.CreateChannelAsync(new CreateChannelOptions(
                publisherConfirmationsEnabled: true,
                publisherConfirmationTrackingEnabled: true,
                outstandingPublisherConfirmationsRateLimiter: null)).ConfigureAwait(false);
            await using var disposeChannel = channel.ConfigureAwait(false);

            var stopwatch = Stopwatch.StartNew();
            var targets = Array.ConvertAll(Checkpoints, c => (int)Math.Round(options.Messages * c, MidpointRounding.AwayFromZero));
            var pauses = new Pauses(targets.Length);
            Task publishing;

            // The publisher loop starts from an empty ambient context (no Activity, no baggage holder), so each message's
            // async flow creates a holder of its own when it sets its baggage.
            using (ExecutionContext.SuppressFlow())
            {
                publishing = Task.Run(() => PublishAllAsync(channel, queue, body, options.InFlight, state, targets, pauses));
            }

            for (var k = 0; k < Checkpoints.Length; k++)
            {
                var target = targets[k];
                if (!await pauses.WaitDrainedAsync(k, publishing).ConfigureAwait(false)
                    || !await WaitForAsync(() => state.Distinct, target, publishing).ConfigureAwait(false)
                    || !await WaitForAsync(() => processor.Ended, 3L * target, publishing).ConfigureAwait(false))
                {
                    memory[k] = -1;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# checkpoint {Checkpoints[k]:P0} not reached: {state.Distinct} handled, {processor.Ended} spans ended"));
                    pauses.ResumeAll();
                    break;
                }

                memory[k] = MeasureManagedMemory();
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{Checkpoints[k],4:P0}  {state.Distinct,8} handled  {stopwatch.Elapsed.TotalSeconds,6:0.0} s  managed after full GC {memory[k] / 1048576.0,7:0.00} MiB  "
                    + $"carry-over {state.CarryOver}  spans {processor.Ended}"));
                pauses.Resume(k);
            }

            elapsed = stopwatch.Elapsed.TotalSeconds;
            await publishing.ConfigureAwait(false);
            lost = options.Messages - state.Distinct;
        }
        finally
        {
            await host.StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            await admin.QueueDeleteAsync(queue).ConfigureAwait(false);
            await admin.QueueDeleteAsync(queue + ".dead-letter").ConfigureAwait(false);
        }

        var mismatches = state.CountTraceMismatches() + (int)state.NoActivity;
        var distinctTraces = state.CountDistinctProducerTraces();
        var carryOver = state.CarryOver + state.ProducerBaggageWrong;
        var growth = memory[0] > 0 && memory[^1] > 0 ? (double)memory[^1] / memory[0] - 1 : double.NaN;
        var memoryOk = !double.IsNaN(growth) && Math.Abs(growth) <= 0.10;

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"messages          {options.Messages} in {elapsed:0.0} s ({options.Messages / elapsed:N0} msg/s)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"lost              {lost}   (duplicates {state.Duplicates}, unknown ids {state.Unknown}, publish failures {state.PublishFailures})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"trace mismatches  {mismatches}   (handlers without an Activity {state.NoActivity}; distinct root traces published {distinctTraces})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"baggage carry-over {carryOver}   (handler saw foreign/extra members {state.CarryOver}, producer injected wrong baggage {state.ProducerBaggageWrong})"));
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"managed memory    10% {Mib(memory[0])} MiB, 50% {Mib(memory[1])} MiB, 100% {Mib(memory[2])} MiB; 100% vs 10%: {growth:+0.0%;-0.0%} ({(memoryOk ? "within" : "NOT within")} 10%)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"spans ended       {processor.Ended} (root + PRODUCER + CONSUMER per message = {3L * options.Messages})"));
        if (state.FirstPublishError is { } error)
        {
            Console.WriteLine($"first publish error: {error.GetBaseException().Message}");
        }

        foreach (var sample in state.Samples)
        {
            Console.WriteLine("  " + sample);
        }

        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"messages\":{options.Messages},\"lost\":{lost},\"mismatches\":{mismatches},\"baggageCarryOver\":{carryOver},"
            + $"\"managedBytesAt10\":{memory[0]},\"managedBytesAt50\":{memory[1]},\"managedBytesAt100\":{memory[2]},\"memoryGrowth\":{(double.IsNaN(growth) ? "null" : growth.ToString("0.0000", CultureInfo.InvariantCulture))}}}"));
        return lost == 0 && mismatches == 0 && carryOver == 0 ? 0 : 1;
    }

    private static string Mib(long bytes) => bytes < 0 ? "n/a" : (bytes / 1048576.0).ToString("0.00", CultureInfo.InvariantCulture);

    private static long MeasureManagedMemory()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>Waits until <paramref name="count"/> reaches <paramref name="target"/>; false after 30 s without progress.</summary>
    private static async Task<bool> WaitForAsync(Func<long> count, long target, Task publishing)
    {
        var last = -1L;
        var sinceProgress = Stopwatch.StartNew();
        for (var now = count(); now < target; now = count())
        {
            if (now != last)
            {
                last = now;
                sinceProgress.Restart();
            }
            else if (publishing.IsFaulted || sinceProgress.Elapsed > TimeSpan.FromSeconds(30))
            {
                return false;
            }

            await Task.Delay(5).ConfigureAwait(false);
        }

        return true;
    }

    private static async Task PublishAllAsync(
        IChannel channel, string queue, ReadOnlyMemory<byte> body, int inFlight, SoakState state, int[] pauseAt, Pauses pauses)
    {
        using var window = new SemaphoreSlim(inFlight, inFlight);
        var next = 0;
        for (var i = 0; i < state.Messages; i++)
        {
            if (next < pauseAt.Length && i == pauseAt[next])
            {
                await PauseAsync(window, inFlight, pauses, next++).ConfigureAwait(false);
            }

            await window.WaitAsync().ConfigureAwait(false);
            _ = PublishOneAsync(channel, queue, body, i, state, window);
        }

        // The last checkpoint is the end of the run.
        while (next < pauseAt.Length)
        {
            await PauseAsync(window, inFlight, pauses, next++).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for every publish in flight to be confirmed, reports the checkpoint drained, waits to be resumed.</summary>
    private static async Task PauseAsync(SemaphoreSlim window, int inFlight, Pauses pauses, int checkpoint)
    {
        for (var i = 0; i < inFlight; i++)
        {
            await window.WaitAsync().ConfigureAwait(false);
        }

        pauses.Drained(checkpoint);
        await pauses.WaitResumedAsync(checkpoint).ConfigureAwait(false);
        window.Release(inFlight);
    }

    /// <summary>One message in its own async flow: its own root span and its own baggage, then the library's publish helper.</summary>
    private static async Task PublishOneAsync(IChannel channel, string queue, ReadOnlyMemory<byte> body, int index, SoakState state, SemaphoreSlim window)
    {
        try
        {
            Activity.Current = null;
            using var root = Tracing.BenchSource.StartActivity("soak publish", ActivityKind.Internal, parentContext: default);
            state.PublishedUnder(index, root?.TraceId ?? default);
            Baggage.Current = Baggage.Create(new Dictionary<string, string>(1) { [SoakState.BaggageKey] = state.Ids[index] });
            var properties = new BasicProperties { MessageId = state.Ids[index], DeliveryMode = DeliveryModes.Transient };
            await channel.PublishWithContextAsync(string.Empty, queue, body, properties, mandatory: false, instrumentation: null).ConfigureAwait(false);
            state.CheckProducerHeader(index, properties.Headers?.TryGetValue("baggage", out var value) == true ? value : null);
        }
        catch (Exception ex)
        {
            state.PublishFailed(ex);
        }
        finally
        {
            window.Release();
        }
    }

    /// <summary>The hand-over between the publisher and the checkpoints: drained (publisher → runner), resumed (runner → publisher).</summary>
    private sealed class Pauses(int count)
    {
        private readonly TaskCompletionSource[] _drained = Create(count);
        private readonly TaskCompletionSource[] _resumed = Create(count);

        public void Drained(int checkpoint) => _drained[checkpoint].TrySetResult();

        public async Task<bool> WaitDrainedAsync(int checkpoint, Task publishing) =>
            await Task.WhenAny(_drained[checkpoint].Task, publishing).ConfigureAwait(false) == _drained[checkpoint].Task;

        public Task WaitResumedAsync(int checkpoint) => _resumed[checkpoint].Task;

        public void Resume(int checkpoint) => _resumed[checkpoint].TrySetResult();

        public void ResumeAll()
        {
            foreach (var resumed in _resumed)
            {
                resumed.TrySetResult();
            }
        }

        private static TaskCompletionSource[] Create(int count) =>
            Enumerable.Range(0, count).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
    }
}

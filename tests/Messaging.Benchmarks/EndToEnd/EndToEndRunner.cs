using System.Diagnostics;
using System.Globalization;
using System.Text;
using Messaging.Benchmarks.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;
using RabbitMQ.Client;

namespace Messaging.Benchmarks.EndToEnd;

/// <summary>
/// End-to-end throughput against a real broker: raw RabbitMQ.Client vs the library traced vs the library with no
/// listener, interleaved, several rounds, each trial on a fresh queue. Throughput of a trial = N / (time from the first
/// publish to the N-th distinct message handled), the publisher and the consumer running concurrently.
/// </summary>
internal static class EndToEndRunner
{
    private static readonly ActivitySource ListenerProbe = new(MessagingTelemetry.ActivitySourceName);
    private static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Tiered compilation recompiles hot methods in the background some time after they got hot; the mode with the
    /// most code (traced) would pay for that in its first measured trials. Wait until no method has been compiled
    /// for half a second (at most 20 s) so that every mode is measured with its steady-state code.
    /// </summary>
    private static async Task WaitForJitToSettleAsync()
    {
        var clock = Stopwatch.StartNew();
        var count = System.Runtime.JitInfo.GetCompiledMethodCount();
        var quietSince = clock.Elapsed;
        while (clock.Elapsed < TimeSpan.FromSeconds(20) && clock.Elapsed - quietSince < TimeSpan.FromMilliseconds(500))
        {
            await Task.Delay(100).ConfigureAwait(false);
            var now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now != count)
            {
                count = now;
                quietSince = clock.Elapsed;
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# JIT settled after warm-up in {clock.Elapsed.TotalSeconds:0.0} s ({count:N0} methods compiled)"));
    }

    public static async Task<int> RunAsync(E2EOptions options)
    {
        Console.WriteLine(MachineInfo.Describe());
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"# e2e: {options.Messages} messages x {options.Rounds} round(s) x concurrency {string.Join(',', options.Concurrency)} x modes {string.Join('/', options.Modes.Select(Name))}, interleaved; "
            + $"body {options.BodySize} B, prefetch {options.Prefetch}, {options.InFlight} publishes in flight, warm-up {options.Warmup} per mode and concurrency"));
        Console.WriteLine("# throughput = N / (first publish -> N-th distinct message handled), publisher and consumer concurrent");

        var total = Stopwatch.StartNew();
        await using var broker = await Broker.StartAsync().ConfigureAwait(false);
        var factory = new ConnectionFactory { Uri = broker.Uri, AutomaticRecoveryEnabled = false, ClientProvidedName = "bench-publisher" };
        var connection = await factory.CreateConnectionAsync().ConfigureAwait(false);
        await using var disposeConnection = connection.ConfigureAwait(false);

        var ids = new string[Math.Max(options.Messages, options.Warmup)];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = i.ToString(CultureInfo.InvariantCulture);
        }

        var body = new byte[options.BodySize];
        new Random(42).NextBytes(body);

        using var sampler = options.AllocationProfile ? new AllocationSampler() : null;
        var results = new List<TrialResult>();
        long lost = 0, mismatches = 0, unexpected = 0;
        if (options.Warmup > 0)
        {
            foreach (var concurrency in options.Concurrency)
            {
                foreach (var mode in options.Modes)
                {
                    var warm = await RunTrialAsync(broker.Uri, connection, mode, concurrency, options.Warmup, round: 0, ids, body, options, sampler: null).ConfigureAwait(false);
                    lost += warm.Lost;
                    mismatches += warm.Mismatches;
                    unexpected += warm.Unexpected ? 1 : 0;
                }
            }

            await WaitForJitToSettleAsync().ConfigureAwait(false);
        }

        var compiledBeforeRounds = System.Runtime.JitInfo.GetCompiledMethodCount();
        for (var round = 1; round <= options.Rounds; round++)
        {
            foreach (var concurrency in options.Concurrency)
            {
                // Rotate the order every round so drift on a shared machine hits every mode alike.
                for (var k = 0; k < options.Modes.Count; k++)
                {
                    var mode = options.Modes[(k + round - 1) % options.Modes.Count];
                    var result = await RunTrialAsync(broker.Uri, connection, mode, concurrency, options.Messages, round, ids, body, options, sampler).ConfigureAwait(false);
                    results.Add(result);
                    lost += result.Lost;
                    mismatches += result.Mismatches;
                    unexpected += result.Unexpected ? 1 : 0;
                }
            }
        }

        var (tracedOverRaw, quietOverRaw) = PrintTable(results, options);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# methods JIT-compiled during the measured rounds: {System.Runtime.JitInfo.GetCompiledMethodCount() - compiledBeforeRounds:N0}"));
        var profiled = sampler?.Print(top: 30) ?? true;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# lost {lost}, mismatches {mismatches} (all trials, warm-up included); total {total.Elapsed.TotalSeconds:0.0} s"));
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"tracedOverRaw\":{Json(tracedOverRaw)},\"quietOverRaw\":{Json(quietOverRaw)},\"lost\":{lost},\"mismatches\":{mismatches},\"messages\":{options.Messages}}}"));
        if (unexpected > 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# {unexpected} trial(s) saw spans where none may be, or a handler without its span (lines marked UNEXPECTED)"));
        }

        return lost == 0 && mismatches == 0 && unexpected == 0 && profiled ? 0 : 1;
    }

    private static async Task<TrialResult> RunTrialAsync(
        Uri uri, IConnection connection, Mode mode, int concurrency, int messages, int round, string[] ids, byte[] body, E2EOptions options, AllocationSampler? sampler)
    {
        var queue = string.Create(CultureInfo.InvariantCulture, $"bench-e2e-{mode.ToString().ToLowerInvariant()}-c{concurrency}-r{round}-{Guid.NewGuid():N}");
        var admin = await connection.CreateChannelAsync().ConfigureAwait(false);
        await using var disposeAdmin = admin.ConfigureAwait(false);
        await admin.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments: null).ConfigureAwait(false);

        var state = new TrialState(messages);
        NoopProcessor? processor = null;
        TracerProvider? provider = null;
        IHost? host = null;
        RawConsumer? raw = null;
        MassTransitPeer? massTransit = null;
        ClientInstrumentation? client = null;
        try
        {
            if (mode is Mode.Traced or Mode.Otel or Mode.Spans or Mode.Client or Mode.MassTransit)
            {
                processor = new NoopProcessor();
                provider = mode switch
                {
                    Mode.Client => Tracing.CreateProvider(processor, ClientInstrumentation.SourceNames),
                    Mode.MassTransit => Tracing.CreateProvider(processor, MassTransitPeer.SourceName),
                    _ => Tracing.CreateProvider(processor),
                };
                client = mode == Mode.Client ? ClientInstrumentation.Configure() : null;
            }
            else if (ListenerProbe.HasListeners())
            {
                throw new InvalidOperationException($"Something listens to '{MessagingTelemetry.ActivitySourceName}' in {mode} mode.");
            }

            if (mode is Mode.Raw or Mode.Otel or Mode.Spans or Mode.Client)
            {
                raw = await RawConsumer.StartAsync(uri, queue, concurrency, options.Prefetch, state, mode).ConfigureAwait(false);
            }
            else if (mode == Mode.MassTransit)
            {
                massTransit = await MassTransitPeer.StartAsync(uri, queue, concurrency, options.Prefetch, state).ConfigureAwait(false);
            }
            else
            {
                host = await StartWorkerAsync(uri, queue, concurrency, options.Prefetch, state).ConfigureAwait(false);
            }

            await WaitForConsumerAsync(admin, queue).ConfigureAwait(false);
            var channel = await connection.CreateChannelAsync(new CreateChannelOptions(
                publisherConfirmationsEnabled: true,
                publisherConfirmationTrackingEnabled: true,
                outstandingPublisherConfirmationsRateLimiter: null)).ConfigureAwait(false);
            await using var disposeChannel = channel.ConfigureAwait(false);
            using var publisher = new Publisher(channel, mode, queue, ids, body, options.InFlight, state, massTransit);

            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            PeakMemory.Reset();
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var gcBefore = GcCounts.Now();
            var cpuBefore = ProcessCpu();
            sampler?.Begin(string.Create(CultureInfo.InvariantCulture, $"{Name(mode)} c={concurrency}"), messages);
            var start = Stopwatch.GetTimestamp();
            var publishing = Task.Run(() => publisher.RunAsync(messages));
            await WaitForConsumptionAsync(state, publishing).ConfigureAwait(false);
            var end = state.AllConsumed.IsCompletedSuccessfully ? state.LastConsumeTimestamp : Stopwatch.GetTimestamp();
            await publishing.ConfigureAwait(false);
            sampler?.End();
            var cpu = ProcessCpu() - cpuBefore;
            var gc = GcCounts.Now() - gcBefore;
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            var peak = PeakMemory.Peak();

            var seconds = Stopwatch.GetElapsedTime(start, end).TotalSeconds;
            var lost = messages - state.Distinct;
            var mismatches = mode is Mode.Traced or Mode.Otel or Mode.Client or Mode.MassTransit ? state.CountTraceMismatches() : 0;
            var result = new TrialResult(
                mode, concurrency, round, messages, seconds, messages / seconds, (double)allocated / messages, cpu.TotalMicroseconds / messages, gc.Pause.TotalMicroseconds / messages, peak, lost, mismatches);
            var traced = state.CountTraced();
            var line = new StringBuilder(string.Create(
                CultureInfo.InvariantCulture,
                $"{(round == 0 ? "warm-up" : "round " + round),-8} {Name(mode),-6} c={concurrency,-3} {result.Throughput,9:N0} msg/s  {seconds,7:0.000} s  "
                + $"{result.AllocatedPerMessage,7:N0} B/msg  cpu {result.CpuPerMessage,5:0.0} us/msg  gc {gc.Gen0}/{gc.Gen1}/{gc.Gen2} pause {result.GcPausePerMessage,4:0.00} us/msg  "
                + $"peak {peak / 1048576.0,6:0.0} MiB  lost {lost}  dup {state.Duplicates}  mismatches {mismatches}"));
            if (processor is not null)
            {
                line.Append(CultureInfo.InvariantCulture, $"  spans {processor.Ended}");
            }

            if (mode is Mode.Raw or Mode.Quiet && traced > 0)
            {
                line.Append(CultureInfo.InvariantCulture, $"  UNEXPECTED traced {traced}");
                result = result with { Unexpected = true };
            }

            if (mode == Mode.Spans && traced != state.Distinct)
            {
                line.Append(CultureInfo.InvariantCulture, $"  UNEXPECTED handlers without a span {state.Distinct - traced}");
                result = result with { Unexpected = true };
            }

            if (state.PublishFailures > 0)
            {
                line.Append(CultureInfo.InvariantCulture, $"  publish failures {state.PublishFailures}: {state.FirstPublishError?.GetBaseException().Message}");
            }

            if (state.Unknown > 0)
            {
                line.Append(CultureInfo.InvariantCulture, $"  unknown ids {state.Unknown}");
            }

            Console.WriteLine(line.ToString());
            return result;
        }
        finally
        {
            if (host is not null)
            {
                await host.StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                host.Dispose();
            }

            if (raw is not null)
            {
                await raw.DisposeAsync().ConfigureAwait(false);
            }

            if (massTransit is not null)
            {
                await massTransit.DisposeAsync().ConfigureAwait(false);
                await admin.ExchangeDeleteAsync(queue).ConfigureAwait(false); // the receive endpoint's exchange
            }

            client?.Dispose();
            provider?.Dispose();
            await admin.QueueDeleteAsync(queue).ConfigureAwait(false);
            await admin.QueueDeleteAsync(queue + ".dead-letter").ConfigureAwait(false);
        }
    }

    internal static async Task<IHost> StartWorkerAsync(Uri uri, string queue, int concurrency, int prefetch, TrialState state)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton(state);
        builder.Services.AddRabbitMqConnection(o => o.Uri = uri);
        builder.Services.AddRabbitMqConsumerWorker<E2EWorker>(o =>
        {
            o.Queue = queue;
            o.PrefetchCount = prefetch;
            o.MaxConcurrency = concurrency;
            o.Serializer = RawBytesSerializer.Instance;
        });
        var host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        return host;
    }

    /// <summary>Waits until the broker reports a consumer on the queue (the worker subscribes in the background).</summary>
    internal static async Task WaitForConsumerAsync(IChannel admin, string queue)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var ok = await admin.QueueDeclarePassiveAsync(queue).ConfigureAwait(false);
            if (ok.ConsumerCount > 0)
            {
                return;
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new InvalidOperationException($"No consumer subscribed to '{queue}' within 30 s.");
            }

            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for every message, or gives up after <see cref="StallTimeout"/> without progress (the rest is lost).</summary>
    private static async Task WaitForConsumptionAsync(TrialState state, Task publishing)
    {
        var last = -1;
        var lastProgress = Stopwatch.StartNew();
        while (!state.AllConsumed.IsCompleted)
        {
            await Task.WhenAny(state.AllConsumed, Task.Delay(250)).ConfigureAwait(false);
            var now = state.Distinct;
            if (now != last || !publishing.IsCompleted)
            {
                last = now;
                lastProgress.Restart();
            }
            else if (lastProgress.Elapsed > StallTimeout)
            {
                Console.WriteLine($"# no progress for {StallTimeout.TotalSeconds:0} s: {state.Messages - now} message(s) not consumed");
                return;
            }
        }
    }

    private static (double TracedOverRaw, double QuietOverRaw) PrintTable(List<TrialResult> results, E2EOptions options)
    {
        var table = new StringBuilder();
        table.AppendLine();
        table.AppendLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| mode | concurrency | allocated B/msg (median) | over raw | client CPU us/msg (median) | over raw | msgs/s (median of {options.Rounds}) | spread (max-min)/median | rounds (msgs/s) | vs raw | paired vs raw (median) | GC pause us/msg (median) | peak working set MiB (max) |"));
        table.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|");
        double tracedOverRaw = double.MaxValue, quietOverRaw = double.MaxValue;
        foreach (var concurrency in options.Concurrency)
        {
            var rawMedian = Median(results, Mode.Raw, concurrency, r => r.Throughput);
            foreach (var mode in options.Modes)
            {
                var trials = results.Where(r => r.Mode == mode && r.Concurrency == concurrency).OrderBy(r => r.Round).ToList();
                var median = Median(results, mode, concurrency, r => r.Throughput);
                var ratio = median / rawMedian;
                if (mode == Mode.Traced)
                {
                    tracedOverRaw = Math.Min(tracedOverRaw, ratio);
                }
                else if (mode == Mode.Quiet)
                {
                    quietOverRaw = Math.Min(quietOverRaw, ratio);
                }

                var allocated = Median(results, mode, concurrency, r => r.AllocatedPerMessage);
                var cpu = Median(results, mode, concurrency, r => r.CpuPerMessage);
                var spread = (trials.Max(t => t.Throughput) - trials.Min(t => t.Throughput)) / median;
                table.AppendLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {Name(mode)} | {concurrency} | {allocated:N0} | {Signed(allocated - Median(results, Mode.Raw, concurrency, r => r.AllocatedPerMessage), "N0")} | "
                    + $"{cpu:0.0} | {Signed(cpu - Median(results, Mode.Raw, concurrency, r => r.CpuPerMessage), "0.0")} | {median:N0} | {spread:0%} | "
                    + $"{string.Join(" / ", trials.Select(t => t.Throughput.ToString("N0", CultureInfo.InvariantCulture)))} | "
                    + $"{ratio:0.000} | {PairedRatio(results, mode, concurrency):0.000} | {Median(results, mode, concurrency, r => r.GcPausePerMessage):0.00} | "
                    + $"{trials.Max(t => t.PeakWorkingSet) / 1048576.0:0.0} |"));
            }
        }

        if (!PeakMemory.PerSection)
        {
            table.AppendLine("(peak working set: process lifetime — /proc/self/clear_refs not available)");
        }

        Console.Write(table.ToString());
        PrintTargets(results, options);
        return (tracedOverRaw, quietOverRaw);
    }

    /// <summary>
    /// The acceptance targets against the peers, per concurrency, from the medians of this run; a target whose modes
    /// were not run is left out. Informational: the exit status depends on correctness only.
    /// </summary>
    private static void PrintTargets(List<TrialResult> results, E2EOptions options)
    {
        bool Has(Mode mode) => options.Modes.Contains(mode);
        var lines = new StringBuilder();
        foreach (var concurrency in options.Concurrency)
        {
            double Over(Mode mode, Func<TrialResult, double> selector) =>
                Median(results, mode, concurrency, selector) - Median(results, Mode.Raw, concurrency, selector);
            double Throughput(Mode mode) => Median(results, mode, concurrency, r => r.Throughput);
            double Alloc(TrialResult r) => r.AllocatedPerMessage;
            double Cpu(TrialResult r) => r.CpuPerMessage;
            void Target(string text, bool met) => lines.AppendLine(CultureInfo.InvariantCulture, $"# target c={concurrency}: {text}: {(met ? "met" : "NOT met")}");

            if (Has(Mode.Raw) && Has(Mode.Traced) && Has(Mode.Otel))
            {
                Target(string.Create(CultureInfo.InvariantCulture, $"traced alloc over raw {Over(Mode.Traced, Alloc):N0} B <= otel's {Over(Mode.Otel, Alloc):N0} B"), Over(Mode.Traced, Alloc) <= Over(Mode.Otel, Alloc));
                Target(string.Create(CultureInfo.InvariantCulture, $"traced CPU over raw {Over(Mode.Traced, Cpu):+0.0;-0.0} us <= otel's {Over(Mode.Otel, Cpu):+0.0;-0.0} us + 1 us"), Over(Mode.Traced, Cpu) <= Over(Mode.Otel, Cpu) + 1);
            }

            if (Has(Mode.Raw) && Has(Mode.Traced) && Has(Mode.Client))
            {
                Target(string.Create(CultureInfo.InvariantCulture, $"traced alloc over raw {Over(Mode.Traced, Alloc):N0} B <= 0.6 x client's {Over(Mode.Client, Alloc):N0} B = {0.6 * Over(Mode.Client, Alloc):N0} B"), Over(Mode.Traced, Alloc) <= 0.6 * Over(Mode.Client, Alloc));
                Target(string.Create(CultureInfo.InvariantCulture, $"traced throughput {Throughput(Mode.Traced):N0} >= client's {Throughput(Mode.Client):N0} msg/s"), Throughput(Mode.Traced) >= Throughput(Mode.Client));
            }

            if (Has(Mode.Raw) && Has(Mode.Quiet))
            {
                Target(string.Create(CultureInfo.InvariantCulture, $"quiet alloc over raw {Over(Mode.Quiet, Alloc):N0} B <= 400 B"), Over(Mode.Quiet, Alloc) <= 400);
            }

            if (Has(Mode.Traced) && Has(Mode.MassTransit))
            {
                Target(string.Create(CultureInfo.InvariantCulture, $"traced throughput {Throughput(Mode.Traced):N0} >= 2 x masstransit's {Throughput(Mode.MassTransit):N0} msg/s"), Throughput(Mode.Traced) >= 2 * Throughput(Mode.MassTransit));
            }
        }

        Console.Write(lines.ToString());
    }

    private static string Signed(double value, string format) =>
        (value >= 0 ? "+" : "\u2212") + Math.Abs(value).ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Median over rounds of (this mode's throughput / raw's throughput in the same round): cancels slow drift.</summary>
    private static double PairedRatio(List<TrialResult> results, Mode mode, int concurrency)
    {
        var ratios = new List<double>();
        foreach (var trial in results.Where(r => r.Mode == mode && r.Concurrency == concurrency))
        {
            var raw = results.FirstOrDefault(r => r.Mode == Mode.Raw && r.Concurrency == concurrency && r.Round == trial.Round);
            if (raw is not null)
            {
                ratios.Add(trial.Throughput / raw.Throughput);
            }
        }

        return Stats.Median(ratios);
    }

    private static double Median(List<TrialResult> results, Mode mode, int concurrency, Func<TrialResult, double> selector) =>
        Stats.Median(results.Where(r => r.Mode == mode && r.Concurrency == concurrency).Select(selector).ToList());

    private static string Name(Mode mode) => mode.ToString().ToLowerInvariant();

    /// <summary>A ratio for the JSON line: three decimals, or null when it could not be measured (a mode not run).</summary>
    private static string Json(double ratio) =>
        double.IsFinite(ratio) && ratio != double.MaxValue ? ratio.ToString("0.000", CultureInfo.InvariantCulture) : "null";

    private static TimeSpan ProcessCpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private sealed record TrialResult(
        Mode Mode,
        int Concurrency,
        int Round,
        int Messages,
        double Seconds,
        double Throughput,
        double AllocatedPerMessage,
        double CpuPerMessage,
        double GcPausePerMessage,
        long PeakWorkingSet,
        int Lost,
        int Mismatches)
    {
        /// <summary>Gets a value indicating whether the trial saw spans where none may be, or a handler without its span.</summary>
        public bool Unexpected { get; init; }
    }

    /// <summary>Garbage collections by generation and the total pause time, as the runtime counts them.</summary>
    private readonly record struct GcCounts(int Gen0, int Gen1, int Gen2, TimeSpan Pause)
    {
        public static GcCounts Now() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());

        public static GcCounts operator -(GcCounts after, GcCounts before) =>
            new(after.Gen0 - before.Gen0, after.Gen1 - before.Gen1, after.Gen2 - before.Gen2, after.Pause - before.Pause);
    }
}

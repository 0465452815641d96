using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Messaging.Benchmarks.Micro;

/// <summary>Runs the BenchmarkDotNet micro benchmarks.</summary>
internal static class MicroRunner
{
    public static int Run(string[] args)
    {
        var config = ManualConfig.Create(DefaultConfig.Instance)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumn(StatisticColumn.Median);

        // A 2-core box shared with builds: one launch, 3 warm-up and 10 measured iterations keeps the whole suite
        // (36 cases) around 9 minutes. `--job short` (or any --job) replaces this default.
        if (!args.Any(a => a is "--job" or "-j" || a.StartsWith("--job=", StringComparison.Ordinal)))
        {
            config.AddJob(Job.Default.WithId("Bench").WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(10));
        }

        // Non-interactive: everything unless a filter is given.
        if (!args.Any(a => a is "--filter" or "-f" || a.StartsWith("--filter=", StringComparison.Ordinal)))
        {
            args = [.. args, "--filter", "*"];
        }

        var summaries = BenchmarkSwitcher.FromTypes([typeof(ProducerBenchmarks), typeof(ConsumerBenchmarks)]).Run(args, config);
        return summaries.Any(HasFailed) ? 1 : 0;
    }

    private static bool HasFailed(Summary summary) =>
        summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success);
}

using Messaging.Benchmarks.Common;

namespace Messaging.Benchmarks.EndToEnd;

/// <summary>Options of the end-to-end throughput harness.</summary>
public sealed record E2EOptions
{
    public int Messages { get; init; } = 50_000;

    public int Rounds { get; init; } = 3;

    public IReadOnlyList<int> Concurrency { get; init; } = [1, 8];

    /// <summary>Gets the modes to run (all three by default; the ratios need raw).</summary>
    public IReadOnlyList<Mode> Modes { get; init; } = [Mode.Raw, Mode.Traced, Mode.Quiet];

    /// <summary>Gets how many publishes await their confirm at once (identical in every mode).</summary>
    public int InFlight { get; init; } = 256;

    public int Prefetch { get; init; } = 200;

    public int BodySize { get; init; } = 256;

    /// <summary>Gets the messages of the un-measured warm-up trial per mode and concurrency (0: none).</summary>
    public int Warmup { get; init; } = 10_000;

    /// <summary>Gets a value indicating whether to sample allocations (GCAllocationTick with stacks) and print bytes per owner and the top sites per mode.</summary>
    public bool AllocationProfile { get; init; }

    internal static E2EOptions Parse(string[] args)
    {
        var a = Args.Parse(
            args,
            new HashSet<string>(StringComparer.Ordinal) { "--messages", "--rounds", "--concurrency", "--modes", "--in-flight", "--prefetch", "--body-size", "--warmup" },
            new HashSet<string>(StringComparer.Ordinal) { "--alloc-profile" });
        var messages = a.Int("--messages", 50_000, 1, 10_000_000);
        return new E2EOptions
        {
            Messages = messages,
            Rounds = a.Int("--rounds", 3, 1, 100),
            Concurrency = a.IntList("--concurrency", [1, 8], 1, 1024),
            Modes = ParseModes(a.Text("--modes")),
            InFlight = a.Int("--in-flight", 256, 1, 65_535),
            Prefetch = a.Int("--prefetch", 200, 1, 65_535),
            BodySize = a.Int("--body-size", 256, 8, 1 << 20),
            Warmup = a.Int("--warmup", Math.Min(messages, 10_000), 0, 10_000_000),
            AllocationProfile = a.Flag("--alloc-profile"),
        };
    }

    private static Mode[] ParseModes(string? text)
    {
        if (text is null)
        {
            return [Mode.Raw, Mode.Traced, Mode.Quiet];
        }

        var modes = new List<Mode>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Enum.TryParse<Mode>(part, ignoreCase: true, out var mode) || !Enum.IsDefined(mode))
            {
                throw new UsageException($"--modes takes raw, traced, quiet, otel, spans, client and masstransit, not '{part}'.");
            }

            if (!modes.Contains(mode))
            {
                modes.Add(mode);
            }
        }

        return modes.Count > 0 ? [.. modes] : throw new UsageException("--modes needs at least one mode.");
    }
}

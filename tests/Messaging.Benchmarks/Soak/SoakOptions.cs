using Messaging.Benchmarks.Common;

namespace Messaging.Benchmarks.Soak;

/// <summary>Options of the soak run.</summary>
public sealed record SoakOptions
{
    public int Messages { get; init; } = 100_000;

    public int Concurrency { get; init; } = 16;

    /// <summary>Gets the worker's prefetch; 0 = the library default (4 x concurrency).</summary>
    public int Prefetch { get; init; }

    public int InFlight { get; init; } = 256;

    public int BodySize { get; init; } = 256;

    internal static SoakOptions Parse(string[] args)
    {
        var a = Args.Parse(
            args,
            new HashSet<string>(StringComparer.Ordinal) { "--messages", "--concurrency", "--prefetch", "--in-flight", "--body-size" },
            new HashSet<string>(StringComparer.Ordinal));
        return new SoakOptions
        {
            Messages = a.Int("--messages", 100_000, 10, 10_000_000),
            Concurrency = a.Int("--concurrency", 16, 1, 1024),
            Prefetch = a.Int("--prefetch", 0, 0, 65_535),
            InFlight = a.Int("--in-flight", 256, 1, 65_535),
            BodySize = a.Int("--body-size", 256, 8, 1 << 20),
        };
    }
}

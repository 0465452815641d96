using Messaging.Benchmarks.Common;
using Messaging.Benchmarks.EndToEnd;
using Messaging.Benchmarks.Micro;
using Messaging.Benchmarks.Soak;

namespace Messaging.Benchmarks;

/// <summary>
/// Entry point: <c>micro</c> (BenchmarkDotNet), <c>e2e</c> (throughput against RabbitMQ) or <c>soak</c>
/// (correctness and memory over a long run). See docs/benchmarks.md.
/// </summary>
public static class Program
{
    private const string Usage = """
        Usage:
          dotnet run -c Release --project tests/Messaging.Benchmarks -- micro [BenchmarkDotNet args, e.g. --filter * --job short]
          dotnet run -c Release --project tests/Messaging.Benchmarks -- e2e [--messages N] [--rounds R] [--concurrency 1,8] [--modes raw,traced,quiet[,otel,spans,client,masstransit]]
                [--in-flight 256] [--prefetch 200] [--body-size 256] [--warmup N] [--alloc-profile]
          dotnet run -c Release --project tests/Messaging.Benchmarks -- soak [--messages 100000] [--concurrency 16] [--prefetch 0] [--in-flight 256] [--body-size 256]
        The e2e and soak modes use RABBITMQ_URI when set, otherwise a throwaway local rabbitmq-server node.
        """;

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        var rest = args[1..];
        try
        {
            switch (args[0])
            {
                case "micro":
                    return MicroRunner.Run(rest);
                case "e2e":
                    return await EndToEndRunner.RunAsync(E2EOptions.Parse(rest)).ConfigureAwait(false);
                case "soak":
                    return await SoakRunner.RunAsync(SoakOptions.Parse(rest)).ConfigureAwait(false);
                default:
                    Console.Error.WriteLine($"Unknown mode '{args[0]}'.");
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }
        catch (UsageException ex)
        {
            Console.Error.WriteLine(ex.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }
}

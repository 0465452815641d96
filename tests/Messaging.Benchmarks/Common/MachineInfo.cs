using System.Globalization;
using System.Runtime.InteropServices;

namespace Messaging.Benchmarks.Common;

internal static class MachineInfo
{
    public static string Describe()
    {
        var cpu = "unknown CPU";
        var load = "n/a";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
            load = File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
        }

        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        var spin = Environment.GetEnvironmentVariable("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit")
            ?? AppContext.GetData("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit")?.ToString()
            ?? "default";
        return string.Create(
            CultureInfo.InvariantCulture,
            $"# machine: {Environment.ProcessorCount} CPUs ({cpu}), {memory:0.0} GiB, {RuntimeInformation.FrameworkDescription}, "
            + $"{RuntimeInformation.OSDescription}, server GC {System.Runtime.GCSettings.IsServerGC}, thread-pool spin limit {spin}, loadavg {load}");
    }
}

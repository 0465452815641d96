using System.Diagnostics;
using System.Globalization;

namespace Messaging.Benchmarks.Common;

/// <summary>
/// Peak resident set size of this process over one measured section. On Linux the kernel's high-water mark
/// (<c>VmHWM</c>) is reset by writing <c>5</c> to <c>/proc/self/clear_refs</c>, so each section gets its own peak;
/// elsewhere the process-lifetime peak is reported.
/// </summary>
internal static class PeakMemory
{
    private static bool? _resettable;

    /// <summary>Gets a value indicating whether peaks are per section (true) or process-lifetime (false).</summary>
    public static bool PerSection => _resettable ?? false;

    public static void Reset()
    {
        if (_resettable == false)
        {
            return;
        }

        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            _resettable = true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            _resettable = false;
        }
    }

    /// <summary>Peak working set in bytes since <see cref="Reset"/> (or since the process started).</summary>
    public static long Peak()
    {
        if (_resettable == true)
        {
            try
            {
                foreach (var line in File.ReadLines("/proc/self/status"))
                {
                    if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    {
                        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
                    }
                }
            }
            catch (IOException)
            {
            }
        }

        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }
}

using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace Messaging.Benchmarks.Common;

/// <summary>
/// A sampling allocation profiler that needs no extra tool: the process traces itself over EventPipe
/// (<see cref="DiagnosticsClient"/>, the runtime's <c>GCAllocationTick</c> event, raised about every 100 KB allocated
/// with the type and size of the object that crossed the mark, and the allocating call stack). Statistically, bytes per
/// type and per allocation site. Each sample is charged to an owner: the assembly of the first frame outside the .NET
/// libraries (the library, RabbitMQ.Client, OpenTelemetry, the harness). Only enabled with <c>--alloc-profile</c>; it
/// adds overhead, so the trial's own figures are not comparable then.
/// </summary>
internal sealed class AllocationSampler : IDisposable
{
    private const long GcKeyword = 0x1;
    private const long LoaderKeyword = 0x8;
    private const long JitKeyword = 0x10;

    private readonly string _file = Path.Combine(Path.GetTempPath(), $"messaging-alloc-{Environment.ProcessId}-{Guid.NewGuid():N}.nettrace");
    private readonly EventPipeSession _session;
    private readonly Task _copy;
    private readonly List<(string Label, DateTime Start, DateTime End)> _windows = [];
    private readonly Dictionary<string, long> _messages = new(StringComparer.Ordinal);
    private (string Label, DateTime Start)? _open;
    private bool _stopped;

    public AllocationSampler()
    {
        // Loader and JIT events name the methods compiled while the session runs; the rundown at the end names the rest.
        var provider = new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Verbose, GcKeyword | LoaderKeyword | JitKeyword);
        _session = new DiagnosticsClient(Environment.ProcessId).StartEventPipeSession([provider], requestRundown: true, circularBufferMB: 256);
        _copy = Task.Run(async () =>
        {
            var file = File.Create(_file);
            await using (file.ConfigureAwait(false))
            {
                await _session.EventStream.CopyToAsync(file).ConfigureAwait(false);
            }
        });
    }

    public void Begin(string label, long messages)
    {
        _messages[label] = _messages.GetValueOrDefault(label) + messages;
        _open = (label, DateTime.UtcNow);
    }

    public void End()
    {
        if (_open is { } open)
        {
            _windows.Add((open.Label, open.Start, DateTime.UtcNow));
            _open = null;
        }
    }

    /// <summary>Stops the session and prints, per measured label, the bytes per message by owner and the top allocation sites.</summary>
    /// <param name="top">How many sites to print per label.</param>
    /// <returns>Whether every measured label got samples charged to a named owner (else the profile saw nothing, or no stacks).</returns>
    public bool Print(int top)
    {
        Stop();
        var samples = Read();
        var complete = _messages.Keys.All(label => samples.TryGetValue(label, out var sites) && sites.Keys.Any(k => k.Owner != "runtime"));
        if (!complete)
        {
            Console.WriteLine(Text($"# allocation profile: no attributed samples for {string.Join(", ", _messages.Keys.Where(l => !samples.ContainsKey(l)))} (the session recorded {samples.Values.Sum(s => s.Count)} sites)"));
        }

        foreach (var (label, sites) in samples.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var messages = Math.Max(1, _messages.GetValueOrDefault(label));
            double PerMessage(long bytes) => (double)bytes / messages;
            Console.WriteLine(Text($"# allocation profile {label}: ~{PerMessage(sites.Values.Sum()):N0} B/msg sampled"));
            var owners = sites.GroupBy(p => p.Key.Owner, StringComparer.OrdinalIgnoreCase).Select(g => (Owner: g.Key, Bytes: g.Sum(p => p.Value))).OrderByDescending(o => o.Bytes);
            Console.WriteLine("#   by owner (B/msg): " + string.Join(", ", owners.Select(o => Text($"{o.Owner} {PerMessage(o.Bytes):N0}"))));
            Console.WriteLine("#   top sites (B/msg, type (object size), first frame outside the .NET libraries):");
            foreach (var (site, bytes) in sites.OrderByDescending(p => p.Value).Take(top))
            {
                Console.WriteLine(Text($"#   {PerMessage(bytes),8:N1}  {site.Type}  @ {site.Frame}"));
            }
        }

        return complete;
    }

    public void Dispose()
    {
        Stop();
        _session.Dispose();
        File.Delete(_file);
        File.Delete(Path.ChangeExtension(_file, ".etlx"));
    }

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    // The .NET libraries allocate on someone's behalf: the owner is whoever called them.
    private static bool IsFramework(string module) =>
        module.Length == 0 || module.StartsWith("System.", StringComparison.OrdinalIgnoreCase) || module.StartsWith("Microsoft.", StringComparison.OrdinalIgnoreCase)
        || module.Equals("System", StringComparison.OrdinalIgnoreCase) || module.Equals("netstandard", StringComparison.OrdinalIgnoreCase)
        || module.Contains("coreclr", StringComparison.OrdinalIgnoreCase);

    private void Stop()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        _session.Stop();
        _copy.GetAwaiter().GetResult();
    }

    private Dictionary<string, Dictionary<(string Owner, string Type, string Frame), long>> Read()
    {
        var byLabel = new Dictionary<string, Dictionary<(string, string, string), long>>(StringComparer.Ordinal);
        using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(_file, Path.ChangeExtension(_file, ".etlx")));
        foreach (var data in log.Events)
        {
            if (data is not GCAllocationTickTraceData tick)
            {
                continue;
            }

            var at = tick.TimeStamp.ToUniversalTime();
            var window = _windows.FindIndex(w => at >= w.Start && at <= w.End);
            if (window < 0)
            {
                continue;
            }

            // Module names come from the rundown or the loader events, not always in the same case.
            string owner = "runtime", frame = "?";
            for (var f = tick.CallStack(); f is not null; f = f.Caller)
            {
                var module = f.CodeAddress.ModuleName ?? string.Empty;
                if (frame == "?")
                {
                    frame = f.CodeAddress.FullMethodName;
                }

                if (!IsFramework(module))
                {
                    owner = module.ToLowerInvariant();
                    frame = f.CodeAddress.FullMethodName;
                    break;
                }
            }

            var label = _windows[window].Label;
            if (!byLabel.TryGetValue(label, out var sites))
            {
                byLabel[label] = sites = [];
            }

            var key = (owner, Text($"{tick.TypeName} ({tick.ObjectSize} B)"), Shorten(frame));
            sites[key] = sites.GetValueOrDefault(key) + tick.AllocationAmount64;
        }

        return byLabel;
    }

    private static string Shorten(string method)
    {
        // "Namespace.Type.Method(arguments)": the arguments make the line long and tell little here.
        var paren = method.IndexOf('(', StringComparison.Ordinal);
        return string.IsNullOrEmpty(method) ? "?" : paren > 0 ? method[..paren] : method;
    }
}

using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Messaging.IntegrationTests.Broker;

namespace Messaging.IntegrationTests.Interop;

/// <summary>
/// Runs the OpenTelemetry JS peer (<c>tests/interop/js/peer.js</c>) with Node.js. Its packages are installed once per
/// test run with <c>npm ci</c> from the committed lock file (skipped while <c>node_modules</c> is up to date with it).
/// A missing <c>node</c> or <c>npm</c> fails the test with a message saying what to install.
/// </summary>
internal static class JsPeer
{
    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private static bool _installed;

    /// <summary>Gets the peer's folder: <c>tests/interop/js</c> of the repository the tests were built from.</summary>
    public static string Directory { get; } = FindPeerDirectory();

    /// <summary>Publishes <paramref name="cases"/> to <paramref name="queue"/>; returns what the peer reported per message.</summary>
    public static async Task<IReadOnlyList<JsonElement>> PublishAsync(Uri broker, string queue, string format, IEnumerable<JsMessage> cases)
    {
        var json = JsonSerializer.Serialize(cases.Select(c => new { index = c.Index, traceId = c.TraceId, spanId = c.SpanId, sampled = c.Sampled, baggage = c.Baggage }));
        return await RunAsync(["publish", broker.ToString(), queue, format, json], TimeSpan.FromSeconds(60));
    }

    /// <summary>Consumes <paramref name="count"/> messages from <paramref name="queue"/>; returns one report per message.</summary>
    public static async Task<IReadOnlyList<JsonElement>> ConsumeAsync(Uri broker, string queue, string format, int count)
    {
        var timeout = TimeSpan.FromSeconds(30);
        return await RunAsync(
            ["consume", broker.ToString(), queue, format, count.ToString(CultureInfo.InvariantCulture), ((int)timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)],
            timeout + TimeSpan.FromSeconds(30));
    }

    private static async Task<IReadOnlyList<JsonElement>> RunAsync(IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        await EnsureInstalledAsync();
        var result = await RunToolAsync("node", [Path.Combine(Directory, "peer.js"), .. arguments], timeout);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"The OpenTelemetry JS peer failed (exit code {result.ExitCode}): node peer.js {arguments[0]}\n{result.CombinedOutput}");
        }

        var lines = new List<JsonElement>();
        foreach (var line in result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            using var document = JsonDocument.Parse(line);
            lines.Add(document.RootElement.Clone());
        }

        return lines;
    }

    private static async Task EnsureInstalledAsync()
    {
        await InstallGate.WaitAsync();
        try
        {
            if (_installed)
            {
                return;
            }

            var version = await RunToolAsync("node", ["--version"], TimeSpan.FromSeconds(30));
            if (version.ExitCode != 0 || !version.StandardOutput.StartsWith('v') || !int.TryParse(version.StandardOutput[1..].Split('.')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major) || major < 20)
            {
                throw new InvalidOperationException($"The interop tests need Node.js 20 or later ('node --version' gave exit code {version.ExitCode}: {version.CombinedOutput}).");
            }

            var lockFile = Path.Combine(Directory, "package-lock.json");
            var installedLock = Path.Combine(Directory, "node_modules", ".package-lock.json");
            if (!File.Exists(installedLock) || File.GetLastWriteTimeUtc(installedLock) < File.GetLastWriteTimeUtc(lockFile))
            {
                var install = await RunToolAsync("npm", ["ci", "--prefix", Directory, "--no-audit", "--no-fund"], TimeSpan.FromMinutes(5));
                if (install.ExitCode != 0)
                {
                    throw new InvalidOperationException($"'npm ci' in {Directory} failed (exit code {install.ExitCode}); the interop tests need the npm registry or an npm cache.\n{install.CombinedOutput}");
                }
            }

            _installed = true;
        }
        finally
        {
            InstallGate.Release();
        }
    }

    private static async Task<CommandResult> RunToolAsync(string tool, IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        try
        {
            return await ProcessRunner.RunAsync(tool, arguments, environment: null, timeout, CancellationToken.None);
        }
        catch (InvalidOperationException ex) when (ex.InnerException is Win32Exception)
        {
            throw new InvalidOperationException(
                $"The interop tests run an OpenTelemetry JS peer and need '{tool}' on PATH (Node.js 20 or later with npm; on Debian: apt-get install nodejs npm). {ex.Message}",
                ex);
        }
    }

    private static string FindPeerDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "tests", "interop", "js");
            if (File.Exists(Path.Combine(candidate, "peer.js")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"tests/interop/js/peer.js not found above {AppContext.BaseDirectory}.");
    }
}

/// <summary>One message for the JS peer to publish: its index, the context to inject and the baggage.</summary>
internal sealed record JsMessage(int Index, string TraceId, string SpanId, bool Sampled, IReadOnlyDictionary<string, string> Baggage);

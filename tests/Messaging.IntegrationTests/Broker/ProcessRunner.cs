using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Messaging.IntegrationTests.Broker;

/// <summary>The outcome of a finished external command.</summary>
internal sealed record CommandResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Standard output and standard error, trimmed, for error messages.</summary>
    public string CombinedOutput
    {
        get
        {
            var builder = new StringBuilder();
            if (!string.IsNullOrWhiteSpace(StandardError))
            {
                builder.Append("stderr:\n").Append(StandardError.Trim()).Append('\n');
            }

            if (!string.IsNullOrWhiteSpace(StandardOutput))
            {
                builder.Append("stdout:\n").Append(StandardOutput.Trim()).Append('\n');
            }

            return builder.Length == 0 ? "(no output)" : builder.ToString().TrimEnd();
        }
    }
}

/// <summary>
/// Runs short-lived external commands (rabbitmqctl, chown) with a timeout. Both output streams are
/// drained asynchronously so a chatty child can never block on a full pipe, and standard input is
/// closed at once so a child can never wait for input.
/// </summary>
internal static class ProcessRunner
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    public static async Task<CommandResult> RunAsync(
        string fileName,
        IReadOnlyList<string> arguments,
        IReadOnlyDictionary<string, string?>? environment,
        TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        ApplyEnvironment(startInfo, environment);

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            throw new InvalidOperationException($"Could not start '{Describe(fileName, arguments)}': {ex.Message}", ex);
        }

        process.StandardInput.Close();
        var standardOutput = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var standardError = process.StandardError.ReadToEndAsync(CancellationToken.None);

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            KillTree(process);
            var partial = new CommandResult(-1, await DrainAsync(standardOutput).ConfigureAwait(false), await DrainAsync(standardError).ConfigureAwait(false));
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException(
                $"'{Describe(fileName, arguments)}' did not finish within {timeout.TotalSeconds:0} s and was killed.\n{partial.CombinedOutput}");
        }

        return new CommandResult(
            process.ExitCode,
            await DrainAsync(standardOutput).ConfigureAwait(false),
            await DrainAsync(standardError).ConfigureAwait(false));
    }

    /// <summary>Applies <paramref name="environment"/> on top of the inherited environment; a null value removes a variable.</summary>
    public static void ApplyEnvironment(ProcessStartInfo startInfo, IReadOnlyDictionary<string, string?>? environment)
    {
        if (environment is null)
        {
            return;
        }

        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }
    }

    /// <summary>Kills a process and all its descendants, ignoring a process that is already gone.</summary>
    public static void KillTree(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited in the meantime.
        }
        catch (Win32Exception)
        {
            // Some descendant could not be signalled; nothing more can be done here.
        }
    }

    public static string Describe(string fileName, IEnumerable<string> arguments) =>
        string.Join(' ', arguments.Prepend(fileName).Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));

    /// <summary>
    /// Reads what a stream reader collected. A grandchild that inherited the pipe could keep it open
    /// after the child exited; in that case the output is abandoned rather than waited for forever.
    /// </summary>
    private static async Task<string> DrainAsync(Task<string> reader)
    {
        try
        {
            return await reader.WaitAsync(DrainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return "(output not collected: the pipe stayed open)";
        }
        catch (IOException ex)
        {
            return $"(output not collected: {ex.Message})";
        }
    }
}

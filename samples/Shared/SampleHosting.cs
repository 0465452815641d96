using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Messaging.Samples;

/// <summary>Host settings both samples share.</summary>
internal static class SampleHosting
{
    /// <summary>UTF-8 on stdout whatever the locale: baggage values may be non-ASCII.</summary>
    public static void UseUtf8Console()
    {
        Console.OutputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
    }

    /// <summary>Creates the host builder: console logging on stderr only, so stdout carries just the output.</summary>
    public static HostApplicationBuilder CreateBuilder()
    {
        // No args: the samples parse their own command line (System.CommandLine), not the configuration's.
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        return builder;
    }
}

/// <summary>The process's outcome, set by the hosted services and returned by Main.</summary>
internal sealed class RunResult
{
    private readonly object _gate = new();

    public int ExitCode { get; private set; }

    public string? Error { get; private set; }

    public void Fail(int exitCode, string error)
    {
        lock (_gate)
        {
            if (ExitCode == 0)
            {
                ExitCode = exitCode;
                Error = error;
            }
        }
    }

    /// <summary>Prints the error, if any, and returns the exit code.</summary>
    public int Report()
    {
        if (Error is not null)
        {
            Console.Error.WriteLine($"error: {Error}");
        }

        return ExitCode;
    }
}

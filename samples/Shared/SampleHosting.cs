using System.Text;
using Microsoft.Extensions.Configuration;
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

    /// <summary>
    /// Creates the host builder: configuration from <c>appsettings.json</c> (next to the program), environment
    /// variables (<c>Messaging__Workers__Orders__MaxConcurrency=8</c>), then the command-line flags in
    /// <paramref name="flags"/>, which win; console logging on stderr only, so stdout carries just the output.
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(IEnumerable<KeyValuePair<string, string?>> flags)
    {
        // No args: the samples parse their own command line (System.CommandLine) and pass what it set as configuration.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.Configuration.AddInMemoryCollection(flags);
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

/// <summary>The configuration keys the samples' flags set (the sections of <c>appsettings.json</c>).</summary>
internal static class SampleConfiguration
{
    public const string Messaging = "Messaging";
    public const string RabbitMq = "Messaging:RabbitMq";
    public const string Publisher = "Messaging:Publisher";
    public const string Worker = "Messaging:Workers:Orders";
    public const string WorkerName = "Orders";

    /// <summary>The connection's keys for <paramref name="uris"/>: the first as <c>Uri</c>, the rest as <c>Endpoints</c>.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> Endpoints(IReadOnlyList<Uri> uris)
    {
        yield return new($"{RabbitMq}:Uri", uris[0].ToString());
        for (var i = 1; i < uris.Count; i++)
        {
            yield return new($"{RabbitMq}:Endpoints:{i - 1}", uris[i].ToString());
        }
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

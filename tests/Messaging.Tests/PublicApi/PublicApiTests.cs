using System.Reflection;
using System.Text;
using Xunit;

namespace Messaging.Tests.PublicApi;

/// <summary>
/// Approval tests of the shipped assemblies' public surface. The approved surface is checked in as
/// <c>PublicApi/&lt;Assembly&gt;.txt</c>. On a difference the test fails with a diff and writes the actual surface to
/// <c>PublicApi/&lt;Assembly&gt;.received.txt</c> next to it in the source tree: review it, and accept the change by
/// renaming it over the approved file. (<c>*.received.txt</c> files are not meant to be committed.)
/// </summary>
public sealed class PublicApiTests
{
    public static TheoryData<string> Assemblies => new()
    {
        "Messaging.Core",
        "Messaging.Transports.InMemory",
        "Messaging.Transports.RabbitMq",
        "Messaging.Transports.ServiceBus",
        "Messaging.Testing",
    };

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void Public_api_matches_the_approved_file(string assemblyName)
    {
        var assembly = Assembly.Load(new AssemblyName(assemblyName));
        var actual = PublicApiWriter.Write(assembly);
        var approvedPath = Path.Combine(AppContext.BaseDirectory, "PublicApi", assemblyName + ".txt");
        var sourceFolder = SourceFolder();
        var receivedPath = sourceFolder is null ? null : Path.Combine(sourceFolder, assemblyName + ".received.txt");

        var approved = File.Exists(approvedPath) ? Normalize(File.ReadAllText(approvedPath)) : null;
        if (approved == actual)
        {
            if (receivedPath is not null && File.Exists(receivedPath))
            {
                File.Delete(receivedPath);
            }

            return;
        }

        if (receivedPath is not null)
        {
            File.WriteAllText(receivedPath, actual, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        }

        var message = new StringBuilder();
        message.Append("The public API of ").Append(assemblyName).Append(" changed.");
        message.Append(approved is null ? " There is no approved file " + approvedPath + "." : string.Empty).Append('\n');
        message.Append(receivedPath is null
            ? "The solution folder was not found, so no received file was written.\n"
            : $"Review {receivedPath} and accept it by renaming it to {assemblyName}.txt.\n");
        message.Append(Diff(approved ?? string.Empty, actual));
        Assert.Fail(message.ToString());
    }

    [Fact]
    public void Writer_output_is_deterministic()
    {
        var assembly = typeof(MessagingInstrumentation).Assembly;

        Assert.Equal(PublicApiWriter.Write(assembly), PublicApiWriter.Write(assembly));
    }

    [Fact]
    public void Writer_renders_signatures_defaults_constraints_and_constants()
    {
        var core = PublicApiWriter.Write(typeof(MessagingInstrumentation).Assembly);

        // Spot checks of the rendering itself, so a broken writer cannot approve an empty or vague surface.
        Assert.Contains(
            "public MessagingInstrumentation(Messaging.MessagingOptions? options = null, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null, System.TimeProvider? timeProvider = null);",
            core,
            StringComparison.Ordinal);
        Assert.Contains("public Messaging.ProducerScope StartProducer(in Messaging.OutgoingMessage message, Messaging.IHeaderCarrier headers);", core, StringComparison.Ordinal);
        Assert.Contains("public const int DefaultMaxMembers = 64;", core, StringComparison.Ordinal);
        Assert.Contains("public enum Messaging.ParentingMode : int", core, StringComparison.Ordinal);
        Assert.Contains("Link = 1,", core, StringComparison.Ordinal);
        Assert.Contains("public static bool TryGetString(object? value, out string text);", core, StringComparison.Ordinal);
        Assert.Contains("public static Microsoft.Extensions.DependencyInjection.IServiceCollection AddMessaging(this Microsoft.Extensions.DependencyInjection.IServiceCollection services, Microsoft.Extensions.Configuration.IConfiguration configuration, System.Action<Messaging.MessagingOptions>? configure = null);", core, StringComparison.Ordinal);
        Assert.Contains("public string? MessageId { get; init; }", core, StringComparison.Ordinal);
        Assert.Contains("public readonly record struct Messaging.IncomingMessage : System.IEquatable<Messaging.IncomingMessage>", core, StringComparison.Ordinal);
        Assert.Contains("protected abstract System.Threading.Tasks.Task ConsumeAsync(System.Threading.CancellationToken stoppingToken);", core, StringComparison.Ordinal);
        Assert.DoesNotContain("BaggageFilter", core, StringComparison.Ordinal);
        Assert.DoesNotContain("AmbientContext", core, StringComparison.Ordinal);
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>The test project's PublicApi folder in the source tree: walk up to the folder holding Messaging.sln.</summary>
    private static string? SourceFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Messaging.sln")))
            {
                return Path.Combine(directory.FullName, "tests", "Messaging.Tests", "PublicApi");
            }
        }

        return null;
    }

    /// <summary>A line diff (longest common subsequence): "- " approved only, "+ " actual only, with line numbers.</summary>
    private static string Diff(string approved, string actual)
    {
        var a = approved.Split('\n');
        var b = actual.Split('\n');
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        var diff = new StringBuilder();
        var lines = 0;
        int x = 0, y = 0;
        while ((x < a.Length || y < b.Length) && lines < 200)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                x++;
                y++;
            }
            else if (y < b.Length && (x == a.Length || lcs[x, y + 1] >= lcs[x + 1, y]))
            {
                diff.Append("+ ").Append(y + 1).Append(": ").Append(b[y]).Append('\n');
                y++;
                lines++;
            }
            else
            {
                diff.Append("- ").Append(x + 1).Append(": ").Append(a[x]).Append('\n');
                x++;
                lines++;
            }
        }

        if (lines == 200)
        {
            diff.Append("… (diff truncated)\n");
        }

        return diff.ToString();
    }
}

namespace Messaging.ServiceBus.IntegrationTests;

/// <summary>
/// The test assembly as a console program: <c>dotnet Messaging.ServiceBus.IntegrationTests.dll sdk-tracing …</c> runs one
/// scenario in a process of its own, because the SDK reads <c>Azure.Experimental.EnableActivitySource</c> once per process.
/// </summary>
public static class Program
{
    public static Task<int> Main(string[] args) =>
        args is ["sdk-tracing", var output, ..]
            ? SdkTracingScenario.RunAsync(output)
            : Task.FromResult(Usage());

    private static int Usage()
    {
        Console.Error.WriteLine("usage: Messaging.ServiceBus.IntegrationTests sdk-tracing OUTPUT.json");
        return 2;
    }
}

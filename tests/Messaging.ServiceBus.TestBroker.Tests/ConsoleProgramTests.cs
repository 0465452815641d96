using System.Diagnostics;
using Azure.Messaging.ServiceBus;
using Xunit;
using static Messaging.ServiceBus.TestBroker.Tests.TestClients;

namespace Messaging.ServiceBus.TestBroker.Tests;

/// <summary>The broker as a console program: connection string first, entities from the command line, stops when standard input closes.</summary>
public sealed class ConsoleProgramTests
{
    [Fact]
    public async Task The_program_prints_a_working_connection_string_and_exits_when_standard_input_closes()
    {
        using var running = Start("--queue", "declared", "--no-auto-create");
        var program = running.Process;
        var connectionString = await program.StandardOutput.ReadLineAsync().WaitAsync(Wait);

        Assert.NotNull(connectionString);
        Assert.Matches("^Endpoint=sb://localhost:[0-9]+;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=[^;]+;UseDevelopmentEmulator=true$", connectionString);
        await using (var client = new ServiceBusClient(connectionString))
        {
            await using var sender = client.CreateSender("declared");
            await sender.SendMessageAsync(Message("c-1"));
            await using var receiver = client.CreateReceiver("declared");
            var received = await BrokerHarness.ReceiveOneAsync(receiver);
            Assert.Equal("c-1", received.MessageId);
            await receiver.CompleteMessageAsync(received);
        }

        program.StandardInput.Close();
        await program.WaitForExitAsync().WaitAsync(Wait);
        Assert.Equal(0, program.ExitCode);
    }

    [Fact]
    public async Task Bad_arguments_exit_with_status_2_and_say_what_is_wrong()
    {
        using var running = Start("--subscription", "orphan");
        var program = running.Process;
        var error = await program.StandardError.ReadToEndAsync().WaitAsync(Wait);
        await program.WaitForExitAsync().WaitAsync(Wait);

        Assert.Equal(2, program.ExitCode);
        Assert.Contains("--subscription orphan needs a --topic before it.", error, StringComparison.Ordinal);
    }

    private static RunningProgram Start(params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Messaging.ServiceBus.TestBroker.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return new RunningProgram(Process.Start(start) ?? throw new InvalidOperationException("The broker program did not start."));
    }

    /// <summary>Kills the program if a test ends (or fails) while it still runs.</summary>
    private sealed class RunningProgram(Process process) : IDisposable
    {
        public Process Process { get; } = process;

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }

            Process.Dispose();
        }
    }
}

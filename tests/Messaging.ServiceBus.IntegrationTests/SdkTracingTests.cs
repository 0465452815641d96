using System.Diagnostics;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Messaging.ServiceBus.IntegrationTests;

/// <summary>
/// Coexistence with the SDK's own tracing (<c>Azure.Experimental.EnableActivitySource</c>), on and off. The SDK reads the
/// switch once per process, so each state runs the scenario in a process of its own (this assembly as a program).
/// </summary>
public sealed class SdkTracingTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Each_message_has_one_trace_with_exactly_one_consumer_span_of_ours_parented_on_its_producer_span(bool sdkTracing)
    {
        var result = await RunScenarioAsync(sdkTracing);
        Assert.Equal(sdkTracing, result.SwitchOn);
        var ours = result.Spans.Where(s => s.Source == MessagingTelemetry.ActivitySourceName).ToList();
        var sdk = result.Spans.Where(s => s.Source.StartsWith("Azure.", StringComparison.Ordinal)).ToList();
        output.WriteLine($"switch {(sdkTracing ? "on" : "off")}: {ours.Count} spans of ours, {sdk.Count} of the SDK ({string.Join(", ", sdk.Select(s => s.Name).Distinct())}).");

        Assert.Equal(result.Messages, result.Handlers.Count);
        Assert.Equal(result.Messages, result.Handlers.Select(h => h.Index).Distinct().Count());
        foreach (var handler in result.Handlers)
        {
            var trace = handler.ExpectedTraceId;
            var producer = Assert.Single(ours, s => s.TraceId == trace && s.Kind == "Producer");
            var consumer = Assert.Single(ours, s => s.TraceId == trace && s.Kind == "Consumer");
            Assert.Equal(producer.SpanId, consumer.ParentSpanId);
            Assert.Equal([producer.SpanId], consumer.LinkedSpanIds);

            // The handler ran in our span, with exactly its message's baggage; the header is ours.
            Assert.Equal(trace, handler.TraceId);
            Assert.Equal(consumer.SpanId, handler.SpanId);
            Assert.True(handler.BaggageMatches, $"message {handler.Index}: the handler's baggage was not exactly its message's");
            Assert.Equal($"00-{trace}-{producer.SpanId}-01", handler.HeaderTraceParent);

            var sdkConsumers = sdk.Where(s => s.TraceId == trace && s.Kind == "Consumer").ToList();
            if (sdkTracing)
            {
                // The SDK's ProcessMessage span is a sibling of ours under the producer span, never our parent.
                var theirs = Assert.Single(sdkConsumers);
                Assert.Equal("ServiceBusProcessor.ProcessMessage", theirs.Name);
                Assert.Equal(producer.SpanId, theirs.ParentSpanId);
                Assert.NotEqual(theirs.SpanId, consumer.ParentSpanId);
            }
            else
            {
                Assert.Empty(sdkConsumers);
            }
        }

        if (!sdkTracing)
        {
            Assert.Empty(sdk);
        }
    }

    private static async Task<SdkTracingResult> RunScenarioAsync(bool sdkTracing)
    {
        var outputFile = Path.Combine(Path.GetTempPath(), $"sdk-tracing-{Guid.NewGuid():N}.json");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(SdkTracingTests).Assembly.Location);
        start.ArgumentList.Add("sdk-tracing");
        start.ArgumentList.Add(outputFile);
        start.Environment["AZURE_EXPERIMENTAL_ENABLE_ACTIVITY_SOURCE"] = sdkTracing ? "true" : "false";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("The scenario process did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The scenario did not finish within 120 s. Output: {await stdout} {await stderr}");
        }

        try
        {
            Assert.True(process.ExitCode == 0, $"The scenario exited with {process.ExitCode}: {await stdout} {await stderr}");
            return JsonSerializer.Deserialize<SdkTracingResult>(await File.ReadAllTextAsync(outputFile))!;
        }
        finally
        {
            File.Delete(outputFile);
        }
    }
}

using System.Text.Json;
using Azure.Messaging.ServiceBus;
using Messaging.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Messaging.ServiceBus.IntegrationTests;

/// <summary>What one run of the SDK-tracing scenario saw, written as JSON for the test that started the process.</summary>
public sealed record SdkTracingResult(
    bool SwitchOn,
    int Messages,
    IReadOnlyList<SeenSpan> Spans,
    IReadOnlyList<SeenHandler> Handlers);

public sealed record SeenSpan(string Source, string Name, string Kind, string TraceId, string SpanId, string? ParentSpanId, IReadOnlyList<string> LinkedSpanIds);

public sealed record SeenHandler(int Index, string ExpectedTraceId, string? TraceId, string? SpanId, bool BaggageMatches, string? HeaderTraceParent);

/// <summary>
/// Producer and worker in one host on the test broker, with a tracer provider on the library's and the SDK's activity sources.
/// Run in a process of its own (see <see cref="Program"/>): the SDK reads its tracing switch once per process.
/// </summary>
internal static class SdkTracingScenario
{
    public const int Count = 40;

    public static async Task<int> RunAsync(string output)
    {
        using var spans = new ExportedSpans(configure: static b => b.AddSource("Azure.*"));

        await using var harness = await Harness.StartAsync();
        var queue = Harness.NewQueue();
        var host = await harness.StartWorkerAsync(o =>
        {
            o.Queue = queue;
            o.MaxConcurrency = 4;
        });
        var instrumentation = host.Services.GetRequiredService<MessagingInstrumentation>();
        await using var sender = harness.Client.CreateSender(queue);
        for (var i = 0; i < Count; i++)
        {
            await TestData.UnderRootAsync(i, order => sender.SendMessageWithContextAsync(Harness.Message(order), instrumentation));
        }

        await harness.Probe.WaitForAsync(Count, Harness.Wait);
        await harness.Broker.WaitForSettlementsAsync(queue, ServiceBus.TestBroker.SettlementOutcome.Completed, Count, Harness.Wait);
        await host.StopAsync();

        var result = new SdkTracingResult(
            string.Equals(Environment.GetEnvironmentVariable("AZURE_EXPERIMENTAL_ENABLE_ACTIVITY_SOURCE"), "true", StringComparison.OrdinalIgnoreCase),
            Count,
            [.. spans.Exported.Select(a => new SeenSpan(
                a.Source.Name,
                a.OperationName,
                a.Kind.ToString(),
                a.TraceId.ToHexString(),
                a.SpanId.ToHexString(),
                a.ParentSpanId == default ? null : a.ParentSpanId.ToHexString(),
                [.. a.Links.Select(l => l.Context.SpanId.ToHexString())]))],
            [.. harness.Probe.Observations.Select(o => new SeenHandler(
                o.Index,
                o.BodyTraceId,
                o.TraceId,
                o.SpanId,
                o.Baggage.Count == TestData.BaggageFor(o.Index).Count && TestData.BaggageFor(o.Index).All(p => o.Baggage.TryGetValue(p.Key, out var v) && v == p.Value),
                o.HeaderTraceParent))]);
        await File.WriteAllTextAsync(output, JsonSerializer.Serialize(result));
        return 0;
    }
}

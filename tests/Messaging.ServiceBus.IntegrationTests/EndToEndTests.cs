using System.Diagnostics;
using Azure.Messaging.ServiceBus;
using Messaging.ServiceBus.TestBroker;
using Messaging.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using Xunit.Abstractions;

namespace Messaging.ServiceBus.IntegrationTests;

/// <summary>The worker and the send helpers over real AMQP 1.0, through the unmodified SDK, against the test broker.</summary>
public sealed class EndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly ExportedSpans _capture = new();

    public void Dispose() => _capture.Dispose();

    [Theory]
    [InlineData(ParentingMode.Child)]
    [InlineData(ParentingMode.Link)]
    public async Task A_thousand_messages_sent_single_in_lists_and_in_batches_keep_their_own_trace_and_baggage_at_concurrency_8(ParentingMode mode)
    {
        const int Single = 334;
        const int Batched = 333;
        const int Listed = 333;
        const int ListSize = 9;
        const int Total = Single + Batched + Listed;
        await using var harness = await Harness.StartAsync();
        var queue = Harness.NewQueue();
        var host = await harness.StartWorkerAsync(o =>
        {
            o.Queue = queue;
            o.MaxConcurrency = 8;
        }, m => m.Parenting = mode);
        var instrumentation = host.Services.GetRequiredService<MessagingInstrumentation>();
        await using var sender = harness.Client.CreateSender(queue);
        var started = Stopwatch.StartNew();

        // Single messages: each under its own root trace and baggage.
        for (var i = 0; i < Single; i++)
        {
            await TestData.UnderRootAsync(i, order => sender.SendMessageWithContextAsync(Harness.Message(order), instrumentation));
        }

        // A batch: each message gets its creation context (under its own root) when it is added.
        var batch = await sender.CreateMessageBatchAsync();
        var batches = 0;
        for (var i = Single; i < Single + Batched; i++)
        {
            var added = false;
            await TestData.UnderRootAsync(i, order =>
            {
                var message = Harness.Message(order);
                added = batch.TryAddMessageWithContext(message, sender, instrumentation);
                return added ? Task.CompletedTask : throw new InvalidOperationException("A single message does not fit in an empty batch.");
            });
            if (batch.Count == 50 || i == Single + Batched - 1)
            {
                await sender.SendMessagesWithContextAsync(batch, instrumentation);
                batches++;
                batch.Dispose();
                batch = await sender.CreateMessageBatchAsync();
            }
        }

        batch.Dispose();

        // Lists: one call sends several messages; each has its own creation context in the caller's trace and baggage.
        for (var first = Single + Batched; first < Total; first += ListSize)
        {
            var start = first;
            await TestData.UnderRootAsync(start, root =>
            {
                var messages = Enumerable.Range(start, Math.Min(ListSize, Total - start))
                    .Select(i => Harness.Message(new Order(i, root.ExpectedTraceId, root.ExpectedBaggage)))
                    .ToList();
                return sender.SendMessagesWithContextAsync(messages, instrumentation);
            });
        }

        var sent = started.Elapsed;
        await harness.Probe.WaitForAsync(Total, TimeSpan.FromSeconds(120));
        await harness.Broker.WaitForSettlementsAsync(queue, SettlementOutcome.Completed, Total, Harness.Wait);
        var consumed = started.Elapsed;
        await host.StopAsync();

        var observations = harness.Probe.Observations.ToList();
        var duplicates = observations.Count - observations.Select(o => o.Index).Distinct().Count();
        var traceMismatches = observations.Count(o => mode == ParentingMode.Child
            ? o.TraceId != o.BodyTraceId || o.ParentSpanId is null
            : o.TraceId == o.BodyTraceId || o.ParentSpanId is not null);
        var linkMismatches = observations.Count(o => o.Links.Count != 1 || o.Links[0].Context.TraceId.ToHexString() != o.BodyTraceId);
        var baggageMismatches = observations.Count(o => !SameBaggage(o.Baggage, ListedBaggage(o.Index, Single + Batched, ListSize)));
        var ours = _capture.Exported.Where(a => a.Kind == ActivityKind.Consumer && a.OperationName == "process " + queue).ToList();
        var settlements = harness.Broker.GetSettlements(queue);
        output.WriteLine(
            $"{mode}: {observations.Count} handled ({Single} single, {Batched} in {batches} batches, {Listed} in lists of {ListSize}), {duplicates} duplicates, " +
            $"{traceMismatches} trace mismatches, {linkMismatches} link mismatches, {baggageMismatches} baggage mismatches, {ours.Count} consumer spans; " +
            $"sent in {sent.TotalSeconds:0.00} s, all settled after {consumed.TotalSeconds:0.00} s; settlements {settlements.Count} ({settlements.Count(s => s.Outcome == SettlementOutcome.Completed)} completed); " +
            $"others: {string.Join(", ", settlements.Where(s => s.Outcome != SettlementOutcome.Completed).Select(s => $"#{s.SequenceNumber} {s.MessageId} {s.Outcome} (asked {s.Requested}, token {s.LockToken} completed too: {settlements.Any(o => o.LockToken == s.LockToken && o.Outcome == SettlementOutcome.Completed)}, at {s.Time:HH:mm:ss.fff}, management {s.ViaManagement})"))}; " +
            string.Join(", ", settlements.Where(s => settlements.Any(o => o.Outcome != SettlementOutcome.Completed && o.SequenceNumber == s.SequenceNumber)).Select(s => $"#{s.SequenceNumber} {s.Outcome} token {s.LockToken} at {s.Time:HH:mm:ss.fff}")));

        Assert.Equal(Total, observations.Count);
        Assert.Equal(0, duplicates);
        Assert.Equal(0, traceMismatches);
        Assert.Equal(0, linkMismatches);
        Assert.Equal(0, baggageMismatches);
        Assert.Equal(Total, ours.Count);
        Assert.Equal(Total, ours.Select(a => a.SpanId).Distinct().Count());
        Assert.Equal(observations.Select(o => o.SpanId).Order(), ours.Select(a => a.SpanId.ToHexString()).Order());
        Assert.All(ours, a =>
        {
            Assert.Equal("servicebus", a.GetTagItem("messaging.system"));
            Assert.Equal(queue, a.GetTagItem("messaging.destination.name"));
            Assert.Equal("process", a.GetTagItem("messaging.operation.type"));
            Assert.Equal("localhost", a.GetTagItem("server.address"));
            Assert.Equal(1, a.GetTagItem("messaging.servicebus.message.delivery_count"));
            Assert.Equal("complete", a.GetTagItem("messaging.servicebus.disposition_status"));
        });
        SettlementAssert.EachCompletedOnce(settlements, Total);
        Assert.Empty(harness.Broker.PeekMessages(queue));

        // Each single message's consumer span hangs off its PRODUCER span; each batched or listed one off its own creation span.
        var producers = _capture.Exported.Where(a => a.Kind == ActivityKind.Producer && a.GetTagItem("messaging.destination.name") as string == queue).ToList();
        Assert.Equal(Total, producers.Count);
        Assert.Equal(Single, producers.Count(a => a.OperationName == "send " + queue));
        Assert.Equal(Batched + Listed, producers.Count(a => a.OperationName == "create " + queue));
        var producerIds = producers.Select(a => a.SpanId).ToHashSet();
        Assert.All(observations, o => Assert.Contains(o.Links[0].Context.SpanId, producerIds));
        var sends = _capture.Exported.Where(a => a.Kind == ActivityKind.Client && a.OperationName == "send " + queue).ToList();
        Assert.Equal(batches + ((Listed + ListSize - 1) / ListSize), sends.Count);
        Assert.Equal(Batched + Listed, sends.Sum(a => a.Links.Count()));
        Assert.Equal(Batched + Listed, sends.Sum(a => (int)a.GetTagItem("messaging.batch.message_count")!));
    }

    private static Dictionary<string, string> ListedBaggage(int index, int firstListed, int listSize) =>
        TestData.BaggageFor(index < firstListed ? index : firstListed + ((index - firstListed) / listSize * listSize));

    private static bool SameBaggage(IReadOnlyDictionary<string, string> seen, Dictionary<string, string> expected) =>
        seen.Count == expected.Count && expected.All(p => seen.TryGetValue(p.Key, out var v) && v == p.Value);
}

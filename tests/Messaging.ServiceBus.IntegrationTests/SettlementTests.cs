using System.Diagnostics;
using Azure.Messaging.ServiceBus;
using Messaging.ServiceBus.TestBroker;
using Messaging.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using Xunit.Abstractions;

namespace Messaging.ServiceBus.IntegrationTests;

/// <summary>Settlement through the core pipeline, checked against the broker's own settlement records.</summary>
public sealed class SettlementTests(ITestOutputHelper output) : IDisposable
{
    private readonly ExportedSpans _capture = new();

    public void Dispose() => _capture.Dispose();

    [Fact]
    public async Task A_handler_that_always_throws_leaves_its_message_dead_lettered_after_the_configured_attempts_with_its_trace_properties()
    {
        await using var harness = await Harness.StartAsync();
        var queue = Harness.NewQueue();
        harness.Probe.Behaviour = (m, _) => throw new InvalidOperationException($"order {m.Body.Index} cannot be handled");
        var host = await harness.StartWorkerAsync(o =>
        {
            o.Queue = queue;
            o.MaxAttempts = 3;
        });
        var instrumentation = host.Services.GetRequiredService<MessagingInstrumentation>();
        await using var sender = harness.Client.CreateSender(queue);
        await TestData.UnderRootAsync(7, order => sender.SendMessageWithContextAsync(Harness.Message(order), instrumentation));

        await harness.Broker.WaitForSettlementsAsync(queue, SettlementOutcome.DeadLettered, 1, Harness.Wait);
        await host.StopAsync();

        var producer = _capture.Exported.Single(a => a.Kind == ActivityKind.Producer && a.OperationName == "send " + queue);
        var dead = Assert.Single(harness.Broker.PeekDeadLetterMessages(queue));
        Assert.Equal(typeof(InvalidOperationException).FullName, dead.DeadLetterReason);
        Assert.Equal("order 7 cannot be handled", dead.DeadLetterErrorDescription);
        Assert.Equal($"00-{producer.TraceId}-{producer.SpanId}-01", dead.ApplicationProperties["traceparent"]);
        Assert.Equal("cohort=0,tenant.id=tenant%207+x", dead.ApplicationProperties["baggage"]);
        Assert.Equal("m-7", dead.MessageId);
        Assert.Equal([1, 2, 3], harness.Probe.Observations.Select(o => o.Attempt).Order());
        Assert.All(harness.Probe.Observations, o => Assert.Equal(producer.TraceId.ToHexString(), o.TraceId));
        Assert.Equal([SettlementOutcome.DeadLettered], harness.Broker.GetSettlements(queue).Select(s => s.Outcome));
        Assert.Empty(harness.Broker.PeekMessages(queue));

        var attempts = _capture.Exported.Where(a => a.Kind == ActivityKind.Consumer && a.OperationName == "process " + queue).ToList();
        Assert.Equal(3, attempts.Count);
        Assert.All(attempts, a =>
        {
            Assert.Equal(ActivityStatusCode.Error, a.Status);
            Assert.Equal(typeof(InvalidOperationException).FullName, a.GetTagItem("error.type"));
        });
        Assert.Equal(["dead_letter"], attempts.Select(a => a.GetTagItem("messaging.servicebus.disposition_status")).OfType<string>());
    }

    [Fact]
    public async Task An_abandoned_message_comes_back_with_a_higher_delivery_count_and_the_parenting_policy_sees_it_redelivered()
    {
        await using var harness = await Harness.StartAsync();
        var queue = Harness.NewQueue();
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var seen = new List<(int DeliveryCount, bool Redelivered)>();
        harness.Probe.Behaviour = async (m, ct) =>
        {
            lock (seen)
            {
                seen.Add((m.Message.DeliveryCount ?? 0, m.Redelivered));
            }

            if (!m.Redelivered)
            {
                // Still handling when the host stops: after the shutdown timeout the worker abandons the message.
                first.TrySetResult();
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            }
        };
        var policy = (IncomingMessage m) => m.Redelivered ? ParentingMode.Link : ParentingMode.Child;
        var host = await harness.StartWorkerAsync(o => o.Queue = queue, m => m.ParentingPolicy = policy, shutdownTimeout: TimeSpan.FromMilliseconds(300));
        var instrumentation = host.Services.GetRequiredService<MessagingInstrumentation>();
        await using var sender = harness.Client.CreateSender(queue);
        await TestData.UnderRootAsync(1, order => sender.SendMessageWithContextAsync(Harness.Message(order), instrumentation));
        await first.Task.WaitAsync(Harness.Wait);
        await host.StopAsync();
        await harness.Broker.WaitForSettlementsAsync(queue, SettlementOutcome.Abandoned, 1, Harness.Wait);
        Assert.Equal(1, Assert.Single(harness.Broker.PeekMessages(queue)).DeliveryCount);

        var again = await harness.StartWorkerAsync(o => o.Queue = queue, m => m.ParentingPolicy = policy);
        await harness.Broker.WaitForSettlementsAsync(queue, SettlementOutcome.Completed, 1, Harness.Wait);
        await again.StopAsync();

        Assert.Equal([(1, false), (2, true)], seen);
        Assert.Equal([SettlementOutcome.Abandoned, SettlementOutcome.Completed], harness.Broker.GetSettlements(queue).Select(s => s.Outcome));
        var spans = _capture.Exported.Where(a => a.Kind == ActivityKind.Consumer && a.OperationName == "process " + queue).ToList();
        Assert.Equal(2, spans.Count);
        var producer = _capture.Exported.Single(a => a.Kind == ActivityKind.Producer && a.OperationName == "send " + queue);
        var abandoned = spans.Single(a => (int)a.GetTagItem("messaging.servicebus.message.delivery_count")! == 1);
        Assert.Equal("abandon", abandoned.GetTagItem("messaging.servicebus.disposition_status"));
        Assert.Equal(producer.SpanId, abandoned.ParentSpanId); // Child on the first delivery
        var redelivered = spans.Single(a => (int)a.GetTagItem("messaging.servicebus.message.delivery_count")! == 2);
        Assert.Equal(default, redelivered.ParentSpanId); // the policy chose Link for the redelivery
        Assert.Equal(producer.SpanId, Assert.Single(redelivered.Links).Context.SpanId);
        Assert.Equal("complete", redelivered.GetTagItem("messaging.servicebus.disposition_status"));
    }

    [Fact]
    public async Task A_graceful_stop_in_the_middle_settles_no_message_twice_and_loses_none()
    {
        const int Count = 300;
        await using var harness = await Harness.StartAsync();
        var queue = Harness.NewQueue();
        harness.Probe.Behaviour = async (_, _) => await Task.Yield();
        await using var sender = harness.Client.CreateSender(queue);
        await sender.SendMessagesAsync(Enumerable.Range(0, Count).Select(i => Harness.Message(new Order(i, string.Empty, []))));

        var host = await harness.StartWorkerAsync(o =>
        {
            o.Queue = queue;
            o.MaxConcurrency = 8;
            o.PrefetchCount = 16;
        });
        await harness.Probe.WaitForAsync(Count / 4, Harness.Wait);
        var stopping = Stopwatch.StartNew();
        await host.StopAsync();
        var stopTime = stopping.Elapsed;
        var beforeRestart = harness.Broker.CountSettlements(queue, SettlementOutcome.Completed);

        var again = await harness.StartWorkerAsync(o =>
        {
            o.Queue = queue;
            o.MaxConcurrency = 8;
        });
        await harness.Broker.WaitForSettlementsAsync(queue, SettlementOutcome.Completed, Count, Harness.Wait);
        await again.StopAsync();

        var settlements = harness.Broker.GetSettlements(queue);
        var handled = harness.Probe.Observations.Select(o => o.Index).ToList();
        output.WriteLine(
            $"{beforeRestart} completed before the stop ({stopTime.TotalMilliseconds:0} ms), {Count - beforeRestart} after the restart; " +
            $"{handled.Count} handler runs for {handled.Distinct().Count()} messages; released {settlements.Count(s => s.Outcome == SettlementOutcome.Released)}, " +
            $"refused {settlements.Count(s => s.Outcome == SettlementOutcome.LockLost)}.");
        Assert.InRange(beforeRestart, Count / 4, Count - 1);
        SettlementAssert.EachCompletedOnce(settlements, Count);
        Assert.Equal(Count, handled.Count);
        Assert.Equal(Count, handled.Distinct().Count());
        Assert.Empty(harness.Broker.PeekMessages(queue));
    }

    [Fact]
    public async Task A_lost_lock_cancels_the_handler_and_the_message_is_not_settled_but_delivered_again()
    {
        await using var harness = await Harness.StartAsync(new ServiceBusTestBrokerOptions { LockDuration = TimeSpan.FromSeconds(2) });
        var queue = Harness.NewQueue();
        var cancelled = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Probe.Behaviour = async (m, ct) =>
        {
            if (m.Message.DeliveryCount == 1)
            {
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, ct);
                }
                catch (OperationCanceledException)
                {
                    cancelled.TrySetResult(m.Body.Index);
                    throw;
                }
            }
        };
        var host = await harness.StartWorkerAsync(o =>
        {
            o.Queue = queue;
            o.MaxAutoLockRenewalDuration = TimeSpan.Zero; // no renewal: the lock runs out while the handler waits
        });
        await using var sender = harness.Client.CreateSender(queue);
        await sender.SendMessageWithContextAsync(Harness.Message(new Order(3, string.Empty, [])), host.Services.GetRequiredService<MessagingInstrumentation>());

        Assert.Equal(3, await cancelled.Task.WaitAsync(Harness.Wait));
        await harness.Broker.WaitForSettlementsAsync(queue, SettlementOutcome.Completed, 1, Harness.Wait);
        await host.StopAsync();

        // The revoked delivery was never settled (no refused settlement), the second one was completed.
        Assert.Equal([SettlementOutcome.Completed], harness.Broker.GetSettlements(queue).Select(s => s.Outcome));
        Assert.Equal(2, harness.Probe.Observations.Count);
        var spans = _capture.Exported.Where(a => a.Kind == ActivityKind.Consumer && a.OperationName == "process " + queue).ToList();
        Assert.Equal("revoked", spans.Single(a => (int)a.GetTagItem("messaging.servicebus.message.delivery_count")! == 1).GetTagItem("error.type"));
        Assert.Equal("complete", spans.Single(a => (int)a.GetTagItem("messaging.servicebus.message.delivery_count")! == 2).GetTagItem("messaging.servicebus.disposition_status"));
    }
}

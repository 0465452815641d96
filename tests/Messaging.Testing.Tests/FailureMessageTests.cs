using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace Messaging.Testing.Tests;

/// <summary>When an expectation does not hold, the exception says what was expected and what was seen instead.</summary>
public sealed class FailureMessageTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(250);

    [Fact]
    public async Task A_wait_that_times_out_lists_the_messages_handled_being_handled_and_published()
    {
        var queue = TestHosts.Queue("seen");
        var secondAttempt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new OrderHandler
        {
            Handle = async (m, ct) =>
            {
                if (m.Body.Item != "stuck")
                {
                    return;
                }

                if (m.Attempt == 1)
                {
                    throw new InvalidOperationException("first try fails");
                }

                secondAttempt.TrySetResult();
                await release.Task.WaitAsync(ct);
            },
        };
        using var host = TestHosts.Build(queue, handler, o => o.MaxAttempts = 3);
        var harness = await host.StartMessagingTestHarnessAsync();
        await TestHosts.PublishAsync(host, queue, new Order(1, "tea"), "ok-1");
        await TestHosts.PublishAsync(host, queue, new Order(2, "stuck"), "stuck-2");
        await harness.Consumed.WaitForMessageIdAsync("ok-1");
        await secondAttempt.Task.WaitAsync(harness.Timeout);

        var ex = await Assert.ThrowsAsync<MessagingTestHarnessException>(() => harness.Consumed.WaitForMessageIdAsync("missing-9", Short));
        release.TrySetResult();

        Assert.Equal(
            $"""
            Timed out after 0.25 s waiting for message 'missing-9' to be handled.
            Handled (1):
              - message 'ok-1' on '{queue}' (worker 'OrderWorker'): acked after 1 attempt
            Being handled (1):
              - message 'stuck-2' on '{queue}' (worker 'OrderWorker'): not settled yet, attempt 1 failed with System.InvalidOperationException: first try fails
            Published (2):
              - message 'ok-1' to '{queue}' (inmemory), context {Context(harness, "ok-1")}, baggage {"{}"}
              - message 'stuck-2' to '{queue}' (inmemory), context {Context(harness, "stuck-2")}, baggage {"{}"}
            """,
            ex.Message);
        (await harness.Consumed.WaitForMessageIdAsync("stuck-2")).ShouldBeAcked();
    }

    [Fact]
    public async Task NextAsync_that_times_out_names_the_messages_it_already_returned()
    {
        var queue = TestHosts.Queue("next-timeout");
        using var host = TestHosts.Build(queue, new OrderHandler());
        var harness = await host.StartMessagingTestHarnessAsync();
        await TestHosts.PublishAsync(host, queue, new Order(1, "tea"), "only-1");

        await harness.Consumed.NextAsync();
        var ex = await Assert.ThrowsAsync<MessagingTestHarnessException>(() => harness.Consumed.NextAsync(1, Short));

        Assert.StartsWith("Timed out after 0.25 s waiting for the next message to be handled.\nHandled (1):\n", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"message 'only-1' on '{queue}' (worker 'OrderWorker'): acked after 1 attempt", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_outcome_assertion_names_the_outcome_seen()
    {
        var (host, harness, queue) = await StartWithOneMessageAsync(ParentingMode.Child);
        using var _ = host;
        var handled = await harness.Consumed.WaitForMessageIdAsync("m-1");

        var deadLettered = Assert.Throws<MessagingTestHarnessException>(() => handled.ShouldBeDeadLettered<TimeoutException>());
        var requeued = Assert.Throws<MessagingTestHarnessException>(() => handled.ShouldBeRequeued());

        Assert.StartsWith(
            $"Expected message 'm-1' on '{queue}' to be dead-lettered with reason 'System.TimeoutException'.\nSeen: message 'm-1' on '{queue}' (worker 'OrderWorker', inmemory): acked after 1 attempt; span 'process {queue}' in trace {handled.Span!.TraceId.ToHexString()}, parent {handled.Span.ParentSpanId.ToHexString()}, links: trace {handled.ProducerContext.TraceId.ToHexString()} span {handled.ProducerContext.SpanId.ToHexString()}; ",
            deadLettered.Message,
            StringComparison.Ordinal);
        Assert.StartsWith($"Expected message 'm-1' on '{queue}' to be requeued.\nSeen: message 'm-1' on '{queue}' (worker 'OrderWorker', inmemory): acked after 1 attempt;", requeued.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_link_mode_the_trace_assertion_fails_naming_the_new_root_while_the_link_assertion_holds()
    {
        var (host, harness, queue) = await StartWithOneMessageAsync(ParentingMode.Link);
        using var _ = host;
        var handled = await harness.Consumed.WaitForMessageIdAsync("m-1");
        var published = await harness.Published.WaitForMessageIdAsync("m-1");

        handled.ShouldBeLinkedTo(published).ShouldBeLinkedTo(published.ProducerContext);
        var ex = Assert.Throws<MessagingTestHarnessException>(() => handled.ShouldContinueTraceOf(published));

        var producer = published.ProducerContext;
        var span = handled.Span!;
        Assert.NotEqual(producer.TraceId, span.TraceId);
        Assert.StartsWith(
            $"Expected message 'm-1' on '{queue}' to continue the producer's trace: a CONSUMER span in trace {producer.TraceId.ToHexString()} with parent {producer.SpanId.ToHexString()}.\n"
            + $"Seen: message 'm-1' on '{queue}' (worker 'OrderWorker', inmemory): acked after 1 attempt; span 'process {queue}' in trace {span.TraceId.ToHexString()}, no parent (a root), "
            + $"links: trace {producer.TraceId.ToHexString()} span {producer.SpanId.ToHexString()}; producer context that arrived: trace {producer.TraceId.ToHexString()} span {producer.SpanId.ToHexString()}, parenting Link;",
            ex.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_link_or_baggage_assertion_names_the_links_and_baggage_seen()
    {
        var (host, harness, queue) = await StartWithOneMessageAsync(ParentingMode.Child, new Dictionary<string, string> { ["tenant.id"] = "acme" });
        using var _ = host;
        var handled = await harness.Consumed.WaitForMessageIdAsync("m-1");
        var other = new System.Diagnostics.ActivityContext(
            System.Diagnostics.ActivityTraceId.CreateRandom(), System.Diagnostics.ActivitySpanId.CreateRandom(), System.Diagnostics.ActivityTraceFlags.Recorded);

        var link = Assert.Throws<MessagingTestHarnessException>(() => handled.ShouldBeLinkedTo(other));
        var exact = Assert.Throws<MessagingTestHarnessException>(() => handled.ShouldHaveBaggage(new Dictionary<string, string> { ["tenant.id"] = "acme", ["plan"] = "gold" }));
        var member = Assert.Throws<MessagingTestHarnessException>(() => handled.ShouldHaveBaggageMember("tenant.id", "other"));

        Assert.StartsWith($"Expected message 'm-1' on '{queue}' to have a span link to trace {other.TraceId.ToHexString()} span {other.SpanId.ToHexString()}.\n", link.Message, StringComparison.Ordinal);
        Assert.Contains($"links: trace {handled.ProducerContext.TraceId.ToHexString()} span {handled.ProducerContext.SpanId.ToHexString()};", link.Message, StringComparison.Ordinal);
        Assert.StartsWith($"Expected message 'm-1' on '{queue}' to have the baggage {{plan=gold, tenant.id=acme}}.\n", exact.Message, StringComparison.Ordinal);
        Assert.EndsWith("; baggage {tenant.id=acme}.", exact.Message, StringComparison.Ordinal);
        Assert.StartsWith($"Expected message 'm-1' on '{queue}' to have the baggage member tenant.id=other.\n", member.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_recorded_span_a_trace_assertion_says_why_there_is_none()
    {
        var queue = TestHosts.Queue("untraced");
        using var host = TestHosts.Build(queue, new OrderHandler(), services: s => s.AddMessaging(o => o.DisableTracing = true));
        var harness = await host.StartMessagingTestHarnessAsync();
        await TestHosts.PublishAsync(host, queue, new Order(1, "tea"), "m-1");
        var handled = await harness.Consumed.WaitForMessageIdAsync("m-1");
        var context = new System.Diagnostics.ActivityContext(
            System.Diagnostics.ActivityTraceId.CreateRandom(), System.Diagnostics.ActivitySpanId.CreateRandom(), System.Diagnostics.ActivityTraceFlags.Recorded);

        var ex = Assert.Throws<MessagingTestHarnessException>(() => handled.ShouldContinueTraceOf(context));

        Assert.Null(handled.Span);
        Assert.StartsWith(
            $"Expected message 'm-1' on '{queue}' to continue the producer's trace, but no CONSUMER span was recorded for it. The harness listens to the 'Messaging' activity source, so the host turned tracing off (MessagingOptions.DisableTracing) or its sampler dropped the span.\n",
            ex.Message,
            StringComparison.Ordinal);
    }

    private static string Context(MessagingTestHarness harness, string messageId)
    {
        var published = harness.Published.All.Single(p => p.MessageId == messageId);
        return $"trace {published.ProducerContext.TraceId.ToHexString()} span {published.ProducerContext.SpanId.ToHexString()}";
    }

    private static async Task<(IHost Host, MessagingTestHarness Harness, string Queue)> StartWithOneMessageAsync(ParentingMode parenting, IReadOnlyDictionary<string, string>? baggage = null)
    {
        var queue = TestHosts.Queue("assert");
        var host = TestHosts.Build(queue, new OrderHandler(), o => o.Parenting = parenting);
        var harness = await host.StartMessagingTestHarnessAsync();
        await TestHosts.PublishAsync(host, queue, new Order(1, "tea"), "m-1", baggage);
        return (host, harness, queue);
    }
}

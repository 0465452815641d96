using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Messaging.Testing.Tests;

public sealed class ConsumedTests
{
    private static readonly Dictionary<string, string> TenantBaggage = new() { ["tenant.id"] = "acme", ["plan"] = "gold" };

    [Fact]
    public async Task A_handled_message_has_its_outcome_span_and_baggage_and_continues_the_producers_trace()
    {
        var queue = TestHosts.Queue("orders");
        var seen = new OrderHandler();
        using var host = TestHosts.Build(queue, seen);
        var harness = await host.StartMessagingTestHarnessAsync();

        await TestHosts.PublishAsync(host, queue, new Order(7, "tea"), "m-7", TenantBaggage);
        var handled = await harness.Consumed.WaitForMessageIdAsync("m-7");
        var published = await harness.Published.WaitForMessageIdAsync("m-7");

        handled.ShouldBeAcked()
            .ShouldContinueTraceOf(published)
            .ShouldBeLinkedTo(published)
            .ShouldHaveBaggage(TenantBaggage)
            .ShouldHaveBaggageMember("tenant.id", "acme");
        Assert.Equal(ConsumeOutcome.Acked, handled.Outcome);
        Assert.Equal(1, handled.Attempts);
        Assert.Equal(queue, handled.Destination);
        Assert.Equal(nameof(OrderWorker), handled.Worker);
        Assert.Equal(typeof(Order), handled.MessageType);
        Assert.Equal(new Order(7, "tea"), handled.GetBody<Order>());
        Assert.Equal(ParentingMode.Child, handled.Parenting);
        Assert.NotNull(handled.Span);
        Assert.Equal(ActivityKind.Consumer, handled.Span.Kind);
        Assert.Equal($"process {queue}", handled.Span.DisplayName);
        Assert.Equal(published.ProducerContext.TraceId, handled.Span.TraceId);
        Assert.Equal(published.ProducerContext.SpanId, handled.Span.ParentSpanId);
        Assert.Equal(published.ProducerContext.TraceId, handled.ProducerContext.TraceId);
        Assert.StartsWith("00-" + published.ProducerContext.TraceId.ToHexString(), handled.Headers["traceparent"], StringComparison.Ordinal);
        Assert.Equal(ActivityKind.Producer, published.Span?.Kind);
        Assert.Equal(queue, published.Destination);
        Assert.Equal(TenantBaggage, published.Baggage);
    }

    [Fact]
    public async Task Spans_of_both_sides_are_exported_to_memory_and_settlements_counted_in_the_metrics()
    {
        var queue = TestHosts.Queue("exported");
        using var host = TestHosts.Build(queue, new OrderHandler());
        var harness = await host.StartMessagingTestHarnessAsync();

        await TestHosts.PublishAsync(host, queue, new Order(1, "tea"), "m-1");
        var handled = await harness.Consumed.WaitForMessageIdAsync("m-1");

        var spans = harness.ExportedSpans;
        Assert.Contains(spans, s => s.SpanId == handled.Span!.SpanId && s.Kind == ActivityKind.Consumer);
        Assert.Contains(spans, s => s.SpanId == handled.ProducerContext.SpanId && s.Kind == ActivityKind.Producer);
        Assert.Equal(1, harness.GetMetricValue(
            "messaging.consumer.settled.messages",
            new("messaging.destination.name", queue),
            new("messaging.settlement", "ack")));
        Assert.Equal(0, harness.GetMetricValue(
            "messaging.consumer.settled.messages",
            new("messaging.destination.name", queue),
            new("messaging.settlement", "dead_letter")));
        Assert.Equal(1, harness.GetMetricValue("messaging.process.duration", new KeyValuePair<string, object?>("messaging.destination.name", queue)));
    }

    [Fact]
    public async Task A_message_whose_handler_keeps_failing_is_dead_lettered_with_the_exception_type_as_reason()
    {
        var queue = TestHosts.Queue("failing");
        var handler = new OrderHandler { Handle = static (m, _) => throw new InvalidOperationException($"no stock for {m.Body.Item}") };
        using var host = TestHosts.Build(queue, handler, o => o.MaxAttempts = 3);
        var harness = await host.StartMessagingTestHarnessAsync();

        await TestHosts.PublishAsync(host, queue, new Order(2, "bagel"), "m-2");
        var handled = await harness.Consumed.WaitForBodyAsync<Order>(o => o.Item == "bagel");

        handled.ShouldBeDeadLettered<InvalidOperationException>()
            .ShouldBeDeadLettered("System.InvalidOperationException");
        Assert.Equal(ConsumeOutcome.DeadLettered, handled.Outcome);
        Assert.Equal(3, handled.Attempts);
        Assert.Equal(3, handled.Spans.Count);
        Assert.All(handled.Spans, s => Assert.Equal(ActivityStatusCode.Error, s.Status));
        Assert.Equal("no stock for bagel", Assert.IsType<InvalidOperationException>(handled.Exception).Message);
        Assert.Equal(1, harness.GetMetricValue(
            "messaging.consumer.settled.messages",
            new("messaging.destination.name", queue),
            new("messaging.settlement", "dead_letter")));
    }

    [Fact]
    public async Task NextAsync_returns_each_settled_message_once_in_order_and_AnyAsync_answers_by_type_and_body()
    {
        var queue = TestHosts.Queue("next");
        using var host = TestHosts.Build(queue, new OrderHandler(), o => o.MaxConcurrency = 1);
        var harness = await host.StartMessagingTestHarnessAsync();

        for (var i = 1; i <= 3; i++)
        {
            await TestHosts.PublishAsync(host, queue, new Order(i, "tea"), $"n-{i}");
        }

        var first = await harness.Consumed.NextAsync(2);
        var third = await harness.Consumed.NextAsync();

        Assert.Equal(["n-1", "n-2"], first.Select(m => m.MessageId));
        Assert.Equal("n-3", Assert.Single(third).MessageId);
        Assert.Equal(3, harness.Consumed.Count);
        Assert.True(await harness.Consumed.AnyAsync<Order>(o => o.Number == 3));
        Assert.True(await harness.Consumed.AnyAsync(m => m.MessageId == "n-2"));
        Assert.False(await harness.Consumed.AnyAsync<Order>(o => o.Number == 4, TimeSpan.FromMilliseconds(100)));
        Assert.False(await harness.Consumed.AnyAsync<string>(timeout: TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public async Task A_publish_from_a_handler_is_seen_as_published_in_the_consumers_trace()
    {
        var queue = TestHosts.Queue("forward");
        var onward = queue + "-shipping";
        var handler = new OrderHandler();
        using var host = TestHosts.Build(queue, handler);
        handler.Handle = (m, ct) => TestHosts.PublishAsync(host, onward, m.Body, "ship-" + m.MessageId);
        var harness = await host.StartMessagingTestHarnessAsync();

        await TestHosts.PublishAsync(host, queue, new Order(3, "croissant"), "m-3", TenantBaggage);
        var handled = await harness.Consumed.WaitForMessageIdAsync("m-3");
        var forwarded = await harness.Published.WaitForAsync(p => p.Destination == onward);

        Assert.Equal("ship-m-3", forwarded.MessageId);
        Assert.Equal(handled.Span!.TraceId, forwarded.ProducerContext.TraceId);
        Assert.Equal(handled.Span.SpanId, forwarded.Span!.ParentSpanId);
        Assert.Equal(2, harness.Published.Count);
    }

    [Fact]
    public async Task Each_host_sees_only_its_own_messages()
    {
        var queue = TestHosts.Queue("isolated");
        using var one = TestHosts.Build(queue, new OrderHandler());
        using var two = TestHosts.Build(queue, new OrderHandler());
        var first = await one.StartMessagingTestHarnessAsync();
        var second = await two.StartMessagingTestHarnessAsync();

        await TestHosts.PublishAsync(one, queue, new Order(1, "tea"), "one-1");
        await TestHosts.PublishAsync(two, queue, new Order(2, "tea"), "two-1");
        await first.Consumed.WaitForMessageIdAsync("one-1");
        await second.Consumed.WaitForMessageIdAsync("two-1");

        Assert.Equal(["one-1"], first.Consumed.All.Select(m => m.MessageId));
        Assert.Equal(["two-1"], second.Consumed.All.Select(m => m.MessageId));
        Assert.Equal(["one-1"], first.Published.All.Select(m => m.MessageId));
    }

    [Fact]
    public async Task The_default_timeout_runs_on_the_harness_clock()
    {
        var clock = new FakeTimeProvider();
        var queue = TestHosts.Queue("clock");
        using var host = TestHosts.Build(queue, new OrderHandler(), harness: o =>
        {
            o.TimeProvider = clock;
            o.Timeout = TimeSpan.FromSeconds(30);
        });
        var harness = await host.StartMessagingTestHarnessAsync();

        var waiting = harness.Consumed.WaitForMessageIdAsync("never");
        Assert.False(waiting.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(30));
        var ex = await Assert.ThrowsAsync<MessagingTestHarnessException>(() => waiting);

        Assert.Equal("Timed out after 30 s waiting for message 'never' to be handled.\nHandled: none.\nBeing handled: none.\nPublished: none.", ex.Message);
    }

    [Fact]
    public async Task The_harness_refuses_a_host_whose_engine_it_cannot_observe()
    {
        var queue = TestHosts.Queue("own-engine");
        using var host = TestHosts.Build(queue, new OrderHandler(), services: s => s.AddSingleton(new MessagingInstrumentation()));

        var ex = await Assert.ThrowsAsync<MessagingTestHarnessException>(() => host.StartMessagingTestHarnessAsync());

        Assert.Contains("its MessagingInstrumentation was not built by services.AddMessaging(...)", ex.Message, StringComparison.Ordinal);
        await host.StopAsync();
    }
}

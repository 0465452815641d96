using System.Text;
using Messaging.Transports.InMemory;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Messaging.Tests.InMemory;

public sealed class InMemoryBrokerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Messages_are_delivered_in_order_with_their_properties_and_a_timestamp_from_the_clock()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var broker = new InMemoryBroker(time);
        var properties = new InMemoryMessageProperties { MessageId = "m-1", CorrelationId = "c-1", ContentType = "text/plain", Headers = new Dictionary<string, object?> { ["h"] = "v" } };
        await broker.PublishAsync("q", Body("one"), properties);
        time.Advance(TimeSpan.FromSeconds(1));
        await broker.PublishAsync("q", Body("two"));

        var first = await broker.ReceiveAsync("q", CancellationToken.None).AsTask().WaitAsync(Timeout);
        var second = await broker.ReceiveAsync("q", CancellationToken.None).AsTask().WaitAsync(Timeout);

        Assert.Equal(("one", "m-1", "c-1", "text/plain"), (Text(first), first.MessageId, first.CorrelationId, first.ContentType));
        Assert.Equal(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), first.Timestamp);
        Assert.Equal("v", Encoding.UTF8.GetString((byte[])first.Headers["h"]!)); // strings arrive as UTF-8 bytes, as over AMQP
        Assert.Equal("two", Text(second));
        Assert.Equal(time.GetUtcNow(), second.Timestamp);
        Assert.False(first.Redelivered);
        Assert.Equal(1, first.DeliveryCount);
        Assert.Equal(2, broker.GetUnackedCount("q"));
        Assert.Equal(0, broker.GetReadyCount("q"));
    }

    [Fact]
    public async Task Ack_removes_the_message_and_a_second_settlement_changes_nothing()
    {
        var broker = new InMemoryBroker();
        await broker.PublishAsync("q", Body("x"));
        var delivery = await broker.ReceiveAsync("q", CancellationToken.None).AsTask().WaitAsync(Timeout);

        broker.Ack(delivery);
        broker.Reject(delivery, requeue: true);
        broker.Ack(delivery);

        Assert.Equal((0, 0), (broker.GetReadyCount("q"), broker.GetUnackedCount("q")));
        Assert.Null(broker.Get("q"));
    }

    [Fact]
    public async Task A_requeued_message_comes_back_first_flagged_redelivered_with_its_delivery_count()
    {
        var broker = new InMemoryBroker();
        await broker.PublishAsync("q", Body("a"));
        await broker.PublishAsync("q", Body("b"));
        var a = await broker.ReceiveAsync("q", CancellationToken.None).AsTask().WaitAsync(Timeout);

        broker.Reject(a, requeue: true);
        var again = await broker.ReceiveAsync("q", CancellationToken.None).AsTask().WaitAsync(Timeout);

        Assert.Equal("a", Text(again));
        Assert.True(again.Redelivered);
        Assert.Equal(2, again.DeliveryCount);
        Assert.NotEqual(a.DeliveryTag, again.DeliveryTag);
    }

    [Fact]
    public async Task A_rejected_message_goes_to_the_dead_letter_queue_with_its_headers_and_the_reason()
    {
        var broker = new InMemoryBroker();
        broker.DeclareQueue("q", "q.dlq");
        await broker.PublishAsync("q", Body("poison"), new InMemoryMessageProperties { MessageId = "p", Headers = new Dictionary<string, object?> { ["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" } });
        var delivery = await broker.ReceiveAsync("q", CancellationToken.None).AsTask().WaitAsync(Timeout);

        broker.Reject(delivery, requeue: false, "System.InvalidOperationException");
        var dead = broker.Get("q.dlq");

        Assert.NotNull(dead);
        Assert.Equal(("poison", "p"), (Text(dead), dead.MessageId));
        Assert.Equal("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", Header(dead, "traceparent"));
        Assert.Equal("System.InvalidOperationException", Header(dead, "x-first-death-reason"));
        Assert.Equal("q", Header(dead, "x-first-death-queue"));
        Assert.Equal(0, broker.GetReadyCount("q"));
    }

    [Fact]
    public async Task Without_a_dead_letter_queue_a_rejected_message_is_discarded()
    {
        var broker = new InMemoryBroker();
        broker.DeclareQueue("q");
        await broker.PublishAsync("q", Body("x"));
        var delivery = await broker.ReceiveAsync("q", CancellationToken.None).AsTask().WaitAsync(Timeout);

        broker.Reject(delivery, requeue: false);

        Assert.Equal((0, 0), (broker.GetReadyCount("q"), broker.GetUnackedCount("q")));
    }

    [Fact]
    public async Task Competing_consumers_each_get_every_message_once()
    {
        var broker = new InMemoryBroker();
        const int count = 200;
        var got = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var done = new CancellationTokenSource();
        var receivers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var d = await broker.ReceiveAsync("q", done.Token);
                    got.Add(Text(d));
                    broker.Ack(d);
                    if (got.Count == count)
                    {
                        await done.CancelAsync();
                    }
                }
            }
            catch (OperationCanceledException) when (done.IsCancellationRequested)
            {
            }
        })).ToList();
        for (var i = 0; i < count; i++)
        {
            await broker.PublishAsync("q", Body(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        await Task.WhenAll(receivers).WaitAsync(Timeout);

        Assert.Equal(count, got.Count);
        Assert.Equal(count, got.Distinct().Count());
        Assert.Equal((0, 0), (broker.GetReadyCount("q"), broker.GetUnackedCount("q")));
    }

    [Fact]
    public async Task A_cancelled_receive_takes_no_message()
    {
        var broker = new InMemoryBroker();
        using var cts = new CancellationTokenSource();
        var waiting = broker.ReceiveAsync("q", cts.Token).AsTask();

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Timeout));
        await broker.PublishAsync("q", Body("kept"));

        Assert.Equal(1, broker.GetReadyCount("q"));
        Assert.Equal("kept", Text(broker.Get("q")!));
    }

    [Fact]
    public async Task Bad_arguments_are_refused()
    {
        var broker = new InMemoryBroker();

        Assert.Equal("queue", (await Assert.ThrowsAsync<ArgumentException>(() => broker.PublishAsync(string.Empty, Body("x")).AsTask())).ParamName);
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => broker.DeclareQueue(string.Empty)).ParamName);
        Assert.Equal("deadLetterQueue", Assert.Throws<ArgumentException>(() => broker.DeclareQueue("q", string.Empty)).ParamName);
        Assert.Equal("delivery", Assert.Throws<ArgumentNullException>(() => broker.Ack(null!)).ParamName);
        Assert.Equal("delivery", Assert.Throws<ArgumentNullException>(() => broker.Reject(null!, requeue: true)).ParamName);
        Assert.Equal("queue", Assert.Throws<ArgumentException>(() => broker.Get(string.Empty)).ParamName);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => broker.PublishAsync("q", Body("x"), cancellationToken: cancelled.Token).AsTask());
        Assert.Equal(0, broker.GetReadyCount("q"));
    }

    private static ReadOnlyMemory<byte> Body(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(InMemoryDelivery delivery) => Encoding.UTF8.GetString(delivery.Body.Span);

    private static string? Header(InMemoryDelivery delivery, string name) =>
        delivery.Headers.TryGetValue(name, out var value) && HeaderValues.TryGetString(value, out var text) ? text : null;
}

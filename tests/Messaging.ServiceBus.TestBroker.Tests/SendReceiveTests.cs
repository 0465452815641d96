using Azure.Messaging.ServiceBus;
using Xunit;
using static Messaging.ServiceBus.TestBroker.Tests.TestClients;

namespace Messaging.ServiceBus.TestBroker.Tests;

public sealed class SendReceiveTests
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    [Fact]
    public async Task A_sent_message_is_received_with_its_properties_and_completed()
    {
        await using var harness = await BrokerHarness.StartAsync();
        var broker = harness.Broker;
        await using var sender = harness.Client.CreateSender("orders");
        var message = new ServiceBusMessage(BinaryData.FromString("hello")) { MessageId = "m-1", Subject = "greeting", CorrelationId = "c-1", ContentType = "text/plain" };
        message.ApplicationProperties["traceparent"] = TraceParent;
        await sender.SendMessageAsync(message);

        var receiver = harness.Receiver("orders");
        var received = await BrokerHarness.ReceiveOneAsync(receiver);
        Assert.Equal("hello", received.Body.ToString());
        Assert.Equal("m-1", received.MessageId);
        Assert.Equal("greeting", received.Subject);
        Assert.Equal("c-1", received.CorrelationId);
        Assert.Equal("text/plain", received.ContentType);
        Assert.Equal(TraceParent, received.ApplicationProperties["traceparent"]);
        Assert.Equal(1, received.DeliveryCount);
        Assert.Equal(1, received.SequenceNumber);
        Assert.Equal(ServiceBusMessageState.Active, received.State);
        Assert.True(received.LockedUntil > received.EnqueuedTime, $"locked until {received.LockedUntil}, enqueued {received.EnqueuedTime}");
        var locked = Assert.Single(broker.PeekMessages("orders"));
        Assert.Equal(BrokerMessageState.Locked, locked.State);
        Assert.Equal(received.LockTokenGuid(), locked.LockToken);

        await receiver.CompleteMessageAsync(received);

        Assert.Empty(broker.PeekMessages("orders"));
        var settlement = Assert.Single(broker.Settlements);
        Assert.Equal(SettlementOutcome.Completed, settlement.Outcome);
        Assert.Equal("m-1", settlement.MessageId);
        Assert.False(settlement.ViaManagement);
    }

    [Fact]
    public async Task String_and_other_application_properties_round_trip()
    {
        await using var harness = await BrokerHarness.StartAsync();
        var broker = harness.Broker;
        await using var sender = harness.Client.CreateSender("props");
        var message = Message("p-1");
        message.ApplicationProperties["traceparent"] = TraceParent;
        message.ApplicationProperties["tracestate"] = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
        message.ApplicationProperties["baggage"] = "userId=alice,serverNode=DF%2028,isProduction=false";
        message.ApplicationProperties["Diagnostic-Id"] = TraceParent;
        message.ApplicationProperties["empty"] = "";
        message.ApplicationProperties["unicode"] = "grüße ✓";
        message.ApplicationProperties["count"] = 42;
        message.ApplicationProperties["big"] = 1L << 40;
        message.ApplicationProperties["flag"] = true;
        await sender.SendMessageAsync(message);

        var receiver = harness.Receiver("props");
        var received = await BrokerHarness.ReceiveOneAsync(receiver);
        Assert.Equal(TraceParent, received.ApplicationProperties["traceparent"]);
        Assert.Equal("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", received.ApplicationProperties["tracestate"]);
        Assert.Equal("userId=alice,serverNode=DF%2028,isProduction=false", received.ApplicationProperties["baggage"]);
        Assert.Equal(TraceParent, received.ApplicationProperties["Diagnostic-Id"]);
        Assert.Equal("", received.ApplicationProperties["empty"]);
        Assert.Equal("grüße ✓", received.ApplicationProperties["unicode"]);
        Assert.Equal(42, received.ApplicationProperties["count"]);
        Assert.Equal(1L << 40, received.ApplicationProperties["big"]);
        Assert.Equal(true, received.ApplicationProperties["flag"]);
        Assert.Equal(TraceParent, Assert.Single(broker.PeekMessages("props")).ApplicationProperties["traceparent"]);
    }

    [Fact]
    public async Task A_batch_arrives_as_separate_messages_in_order()
    {
        await using var harness = await BrokerHarness.StartAsync();
        var broker = harness.Broker;
        await using var sender = harness.Client.CreateSender("batch");
        using var batch = await sender.CreateMessageBatchAsync();
        for (var i = 0; i < 5; i++)
        {
            Assert.True(batch.TryAddMessage(Message($"b-{i}", $"body-{i}")));
        }

        await sender.SendMessagesAsync(batch);
        await sender.SendMessagesAsync([Message("l-0"), Message("l-1")]);

        Assert.Equal(256 * 1024, batch.MaxSizeInBytes);
        var receiver = harness.Receiver("batch");
        var received = await ReceiveAsync(receiver, 7);

        Assert.Equal(["b-0", "b-1", "b-2", "b-3", "b-4", "l-0", "l-1"], received.Select(m => m.MessageId));
        Assert.Equal([1L, 2, 3, 4, 5, 6, 7], received.Select(m => m.SequenceNumber));
        Assert.Equal("body-3", received[3].Body.ToString());
    }

    [Fact]
    public async Task A_message_larger_than_the_max_message_size_is_refused_by_the_client()
    {
        await using var harness = await BrokerHarness.StartAsync(new ServiceBusTestBrokerOptions { MaxMessageSizeInBytes = 4096 });
        var broker = harness.Broker;
        await using var sender = harness.Client.CreateSender("small");

        var error = await Assert.ThrowsAsync<ServiceBusException>(() => sender.SendMessageAsync(new ServiceBusMessage(new byte[8192])));

        Assert.Equal(ServiceBusFailureReason.MessageSizeExceeded, error.Reason);
        Assert.Empty(broker.PeekMessages("small"));
    }

    [Fact]
    public async Task Receive_and_delete_removes_the_message_without_a_settlement()
    {
        await using var harness = await BrokerHarness.StartAsync();
        var broker = harness.Broker;
        await harness.SendAsync("rad", Message("r-1"));

        var receiver = harness.Receiver("rad", new ServiceBusReceiverOptions { ReceiveMode = ServiceBusReceiveMode.ReceiveAndDelete });
        var received = await receiver.ReceiveMessageAsync(Wait);

        Assert.Equal("r-1", received?.MessageId);
        Assert.Empty(broker.PeekMessages("rad"));
        Assert.Empty(broker.Settlements);
    }

    [Fact]
    public async Task Peeking_through_the_client_locks_nothing_and_pages_by_sequence_number()
    {
        await using var harness = await BrokerHarness.StartAsync();
        var broker = harness.Broker;
        await harness.SendAsync("peek", Message("k-1"), Message("k-2"), Message("k-3"));

        var receiver = harness.Receiver("peek");
        var first = await receiver.PeekMessagesAsync(2);
        var next = await receiver.PeekMessagesAsync(5);
        var none = await receiver.PeekMessagesAsync(5);

        Assert.Equal(["k-1", "k-2"], first.Select(m => m.MessageId));
        Assert.Equal(["k-3"], next.Select(m => m.MessageId));
        Assert.Empty(none);
        Assert.Equal(0, first[0].DeliveryCount);
        Assert.All(broker.PeekMessages("peek"), m => Assert.Equal(BrokerMessageState.Active, m.State));
    }
}

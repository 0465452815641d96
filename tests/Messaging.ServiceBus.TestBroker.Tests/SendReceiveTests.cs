using Azure.Messaging.ServiceBus;
using Xunit;

namespace Messaging.ServiceBus.TestBroker.Tests;

public sealed class SendReceiveTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_sent_message_is_received_with_its_properties_and_completed()
    {
        await using var broker = await ServiceBusTestBroker.StartAsync();
        await using var client = new ServiceBusClient(broker.ConnectionString);
        await using var sender = client.CreateSender("orders");
        var message = new ServiceBusMessage(BinaryData.FromString("hello")) { MessageId = "m-1", Subject = "greeting" };
        message.ApplicationProperties["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        await sender.SendMessageAsync(message);

        await using var receiver = client.CreateReceiver("orders");
        var received = await receiver.ReceiveMessageAsync(Wait);

        Assert.NotNull(received);
        Assert.Equal("hello", received.Body.ToString());
        Assert.Equal("m-1", received.MessageId);
        Assert.Equal("greeting", received.Subject);
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", received.ApplicationProperties["traceparent"]);
        Assert.Equal(1, received.DeliveryCount);
        Assert.Equal(1, received.SequenceNumber);
        Assert.NotEqual(Guid.Empty.ToString(), received.LockToken);

        await receiver.CompleteMessageAsync(received);

        Assert.Empty(broker.PeekMessages("orders"));
        var settlement = Assert.Single(broker.Settlements);
        Assert.Equal(SettlementOutcome.Completed, settlement.Outcome);
        Assert.Equal("m-1", settlement.MessageId);
    }
}

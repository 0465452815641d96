using Azure.Messaging.ServiceBus;
using Xunit;
using static Messaging.ServiceBus.TestBroker.Tests.TestClients;

namespace Messaging.ServiceBus.TestBroker.Tests;

public sealed class TopicTests
{
    [Fact]
    public async Task A_message_sent_to_a_topic_reaches_each_subscription_and_is_settled_separately()
    {
        var options = new ServiceBusTestBrokerOptions();
        options.Topics["events"] = ["billing", "audit"];
        await using var harness = await BrokerHarness.StartAsync(options);
        var broker = harness.Broker;
        var message = Message("ev-1", "order placed");
        message.ApplicationProperties["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        await harness.SendAsync("events", message);

        var billing = await BrokerHarness.ReceiveOneAsync(harness.Receiver("events", "billing"));
        var auditReceiver = harness.Receiver("events", "audit");
        var audit = await BrokerHarness.ReceiveOneAsync(auditReceiver);
        await auditReceiver.DeadLetterMessageAsync(audit, "AuditRejected", "not for audit");

        Assert.Equal("ev-1", billing.MessageId);
        Assert.Equal("ev-1", audit.MessageId);
        Assert.Equal("order placed", billing.Body.ToString());
        Assert.Equal(billing.SequenceNumber, audit.SequenceNumber);
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", audit.ApplicationProperties["traceparent"]);
        Assert.Equal(BrokerMessageState.Locked, Assert.Single(broker.PeekMessages("events/Subscriptions/billing")).State);
        Assert.Empty(broker.PeekMessages("events/Subscriptions/audit"));
        Assert.Empty(broker.PeekDeadLetterMessages("events/Subscriptions/billing"));

        var deadLetters = harness.Receiver("events", "audit", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        Assert.Equal("events/Subscriptions/audit/$DeadLetterQueue", deadLetters.EntityPath);
        var dead = await BrokerHarness.ReceiveOneAsync(deadLetters);
        Assert.Equal("AuditRejected", dead.DeadLetterReason);
        Assert.Equal("not for audit", dead.DeadLetterErrorDescription);
    }

    [Fact]
    public async Task A_subscription_created_on_demand_receives_only_what_is_sent_after_it_exists()
    {
        await using var harness = await BrokerHarness.StartAsync();
        harness.Broker.CreateTopic("late");
        await harness.SendAsync("late", Message("before"));
        harness.Broker.CreateSubscription("late", "joiner");
        await harness.SendAsync("late", Message("after"));

        var received = await BrokerHarness.ReceiveOneAsync(harness.Receiver("late", "joiner"));

        Assert.Equal("after", received.MessageId);
        Assert.Equal(2, received.SequenceNumber);
    }

    [Fact]
    public async Task Receiving_from_the_topic_itself_is_refused()
    {
        await using var harness = await BrokerHarness.StartAsync();
        harness.Broker.CreateTopic("direct");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => harness.Receiver("direct").ReceiveMessageAsync(Wait));

        Assert.Contains("direct/Subscriptions/<name>", error.Message, StringComparison.Ordinal);
    }
}

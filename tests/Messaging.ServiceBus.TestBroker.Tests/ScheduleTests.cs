using Azure.Messaging.ServiceBus;
using Xunit;
using static Messaging.ServiceBus.TestBroker.Tests.TestClients;

namespace Messaging.ServiceBus.TestBroker.Tests;

public sealed class ScheduleTests
{
    [Fact]
    public async Task A_scheduled_message_becomes_receivable_at_its_time()
    {
        var clock = Clock();
        await using var harness = await BrokerHarness.StartAsync(new ServiceBusTestBrokerOptions { TimeProvider = clock });
        var broker = harness.Broker;
        await using var sender = harness.Client.CreateSender("later");
        var at = clock.GetUtcNow().AddMinutes(5);

        var sequenceNumber = await sender.ScheduleMessageAsync(Message("s-1"), at);

        var scheduled = Assert.Single(broker.PeekMessages("later"));
        Assert.Equal(BrokerMessageState.Scheduled, scheduled.State);
        Assert.Equal(sequenceNumber, scheduled.SequenceNumber);
        Assert.Equal(at, scheduled.ScheduledEnqueueTime);
        var receiver = harness.Receiver("later");
        var peeked = Assert.Single(await receiver.PeekMessagesAsync(5));
        Assert.Equal(ServiceBusMessageState.Scheduled, peeked.State);
        Assert.Null(await receiver.ReceiveMessageAsync(TimeSpan.FromMilliseconds(300)));

        clock.Advance(TimeSpan.FromMinutes(5));
        var received = await BrokerHarness.ReceiveOneAsync(receiver);

        Assert.Equal("s-1", received.MessageId);
        Assert.Equal(sequenceNumber, received.SequenceNumber);
        Assert.Equal(at, received.ScheduledEnqueueTime);
        Assert.Equal(at, received.EnqueuedTime);
    }

    [Fact]
    public async Task A_message_sent_with_a_scheduled_enqueue_time_waits_for_it()
    {
        var clock = Clock();
        await using var harness = await BrokerHarness.StartAsync(new ServiceBusTestBrokerOptions { TimeProvider = clock });
        var message = Message("s-2");
        message.ScheduledEnqueueTime = clock.GetUtcNow().AddSeconds(90);

        await harness.SendAsync("later", message);

        Assert.Equal(BrokerMessageState.Scheduled, Assert.Single(harness.Broker.PeekMessages("later")).State);
        clock.Advance(TimeSpan.FromSeconds(90));
        Assert.Equal(BrokerMessageState.Active, Assert.Single(harness.Broker.PeekMessages("later")).State);
        Assert.Equal("s-2", (await BrokerHarness.ReceiveOneAsync(harness.Receiver("later"))).MessageId);
    }

    [Fact]
    public async Task A_cancelled_scheduled_message_never_arrives_and_cancelling_it_again_is_not_found()
    {
        var clock = Clock();
        await using var harness = await BrokerHarness.StartAsync(new ServiceBusTestBrokerOptions { TimeProvider = clock });
        await using var sender = harness.Client.CreateSender("cancel");
        var keep = await sender.ScheduleMessageAsync(Message("keep"), clock.GetUtcNow().AddMinutes(1));
        var drop = await sender.ScheduleMessageAsync(Message("drop"), clock.GetUtcNow().AddMinutes(1));

        await sender.CancelScheduledMessageAsync(drop);
        var again = await Assert.ThrowsAsync<ServiceBusException>(() => sender.CancelScheduledMessageAsync(drop));

        Assert.Equal(ServiceBusFailureReason.MessageNotFound, again.Reason);
        Assert.Equal(keep, Assert.Single(harness.Broker.PeekMessages("cancel")).SequenceNumber);
        clock.Advance(TimeSpan.FromMinutes(1));
        var receiver = harness.Receiver("cancel");
        Assert.Equal("keep", (await BrokerHarness.ReceiveOneAsync(receiver)).MessageId);
        Assert.Null(await receiver.ReceiveMessageAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task A_message_scheduled_on_a_topic_reaches_its_subscriptions_at_its_time()
    {
        var clock = Clock();
        var options = new ServiceBusTestBrokerOptions { TimeProvider = clock };
        options.Topics["news"] = ["reader"];
        await using var harness = await BrokerHarness.StartAsync(options);
        await using var sender = harness.Client.CreateSender("news");

        await sender.ScheduleMessageAsync(Message("n-1"), clock.GetUtcNow().AddMinutes(2));

        Assert.Equal(BrokerMessageState.Scheduled, Assert.Single(harness.Broker.PeekMessages("news/Subscriptions/reader")).State);
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("n-1", (await BrokerHarness.ReceiveOneAsync(harness.Receiver("news", "reader"))).MessageId);
    }
}

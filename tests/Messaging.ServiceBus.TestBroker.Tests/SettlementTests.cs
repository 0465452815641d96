using Azure.Messaging.ServiceBus;
using Xunit;
using static Messaging.ServiceBus.TestBroker.Tests.TestClients;

namespace Messaging.ServiceBus.TestBroker.Tests;

public sealed class SettlementTests
{
    [Fact]
    public async Task Abandon_makes_the_message_available_again_with_a_higher_delivery_count_and_modified_properties()
    {
        await using var harness = await BrokerHarness.StartAsync();
        var broker = harness.Broker;
        await harness.SendAsync("abandon", Message("a-1"));
        var receiver = harness.Receiver("abandon");

        var first = await BrokerHarness.ReceiveOneAsync(receiver);
        await receiver.AbandonMessageAsync(first, new Dictionary<string, object> { ["attempt"] = "first" });
        var peeked = Assert.Single(broker.PeekMessages("abandon"));
        var second = await receiver.ReceiveMessageAsync(Wait);

        Assert.Equal(1, peeked.DeliveryCount);
        Assert.Equal("first", peeked.ApplicationProperties["attempt"]);
        Assert.NotNull(second);
        Assert.Equal("a-1", second.MessageId);
        Assert.Equal(1, first.DeliveryCount);
        Assert.Equal(2, second.DeliveryCount);
        Assert.Equal("first", second.ApplicationProperties["attempt"]);
        Assert.NotEqual(first.LockToken, second.LockToken);
        Assert.Equal(1, broker.CountSettlements("abandon", SettlementOutcome.Abandoned));
    }

    [Fact]
    public async Task Dead_letter_moves_the_message_with_reason_and_description_to_the_dead_letter_queue()
    {
        await using var harness = await BrokerHarness.StartAsync();
        var broker = harness.Broker;
        await harness.SendAsync("dlq", Message("d-1", "poison"));
        var receiver = harness.Receiver("dlq");
        var received = await BrokerHarness.ReceiveOneAsync(receiver);

        await receiver.DeadLetterMessageAsync(received, "InvalidPayload", "the body is not an order");

        Assert.Empty(broker.PeekMessages("dlq"));
        var dead = Assert.Single(broker.PeekDeadLetterMessages("dlq"));
        Assert.Equal("d-1", dead.MessageId);
        Assert.Equal("InvalidPayload", dead.DeadLetterReason);
        Assert.Equal("the body is not an order", dead.DeadLetterErrorDescription);
        Assert.Equal(received.SequenceNumber, dead.SequenceNumber);

        var deadLetterReceiver = harness.Receiver("dlq", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        var fromDeadLetter = await BrokerHarness.ReceiveOneAsync(deadLetterReceiver);
        Assert.Equal("d-1", fromDeadLetter.MessageId);
        Assert.Equal("poison", fromDeadLetter.Body.ToString());
        Assert.Equal("InvalidPayload", fromDeadLetter.DeadLetterReason);
        Assert.Equal("the body is not an order", fromDeadLetter.DeadLetterErrorDescription);
        await deadLetterReceiver.CompleteMessageAsync(fromDeadLetter);

        Assert.Empty(broker.PeekMessages("dlq/$deadletterqueue"));
        Assert.Equal([SettlementOutcome.DeadLettered, SettlementOutcome.Completed], broker.Settlements.Select(s => s.Outcome));
        Assert.Equal(["dlq", "dlq/$deadletterqueue"], broker.Settlements.Select(s => s.EntityPath));
    }

    [Fact]
    public async Task Settling_a_message_twice_is_refused_with_lock_lost_and_recorded_once_as_completed()
    {
        await using var harness = await BrokerHarness.StartAsync();
        var broker = harness.Broker;
        await harness.SendAsync("twice", Message("t-1"));
        var receiver = harness.Receiver("twice");
        var received = await BrokerHarness.ReceiveOneAsync(receiver);

        await receiver.CompleteMessageAsync(received);
        var error = await Assert.ThrowsAsync<ServiceBusException>(() => receiver.CompleteMessageAsync(received));

        Assert.Equal(ServiceBusFailureReason.MessageLockLost, error.Reason);
        Assert.Equal(1, broker.CountSettlements("twice", SettlementOutcome.Completed));
        var refused = Assert.Single(broker.GetSettlements("twice"), s => s.Outcome == SettlementOutcome.LockLost);
        Assert.Equal(SettlementOutcome.Completed, refused.Requested);
        Assert.Equal(received.LockTokenGuid(), refused.LockToken);
    }

    [Fact]
    public async Task A_deferred_message_is_received_by_sequence_number_and_completed_through_management()
    {
        await using var harness = await BrokerHarness.StartAsync();
        var broker = harness.Broker;
        await harness.SendAsync("defer", Message("f-1"), Message("f-2"));
        var receiver = harness.Receiver("defer");
        var first = await BrokerHarness.ReceiveOneAsync(receiver);

        await receiver.DeferMessageAsync(first);
        var next = await receiver.ReceiveMessageAsync(Wait);
        Assert.Equal("f-2", next?.MessageId);
        Assert.Equal(BrokerMessageState.Deferred, broker.PeekMessages("defer")[0].State);

        var deferred = await receiver.ReceiveDeferredMessageAsync(first.SequenceNumber);
        Assert.Equal("f-1", deferred.MessageId);
        Assert.Equal(ServiceBusMessageState.Deferred, deferred.State);
        await receiver.CompleteMessageAsync(deferred);

        Assert.Equal("f-2", Assert.Single(broker.PeekMessages("defer")).MessageId);
        var completed = Assert.Single(broker.GetSettlements("defer"), s => s.Outcome == SettlementOutcome.Completed);
        Assert.True(completed.ViaManagement);
        Assert.Equal(first.SequenceNumber, completed.SequenceNumber);
        var missing = await Assert.ThrowsAsync<ServiceBusException>(() => receiver.ReceiveDeferredMessageAsync(next!.SequenceNumber));
        Assert.Equal(ServiceBusFailureReason.MessageNotFound, missing.Reason);
    }

    [Fact]
    public async Task A_message_abandoned_max_delivery_count_times_is_dead_lettered()
    {
        await using var harness = await BrokerHarness.StartAsync(new ServiceBusTestBrokerOptions { MaxDeliveryCount = 2 });
        var broker = harness.Broker;
        await harness.SendAsync("max", Message("x-1"));
        var receiver = harness.Receiver("max");

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var received = await receiver.ReceiveMessageAsync(Wait);
            Assert.Equal(attempt, received?.DeliveryCount);
            await receiver.AbandonMessageAsync(received);
        }

        Assert.Empty(broker.PeekMessages("max"));
        var dead = Assert.Single(broker.PeekDeadLetterMessages("max"));
        Assert.Equal("MaxDeliveryCountExceeded", dead.DeadLetterReason);
        Assert.Equal(2, dead.DeliveryCount);
    }

    [Fact]
    public async Task An_expired_lock_redelivers_the_message_and_the_old_lock_cannot_settle_it()
    {
        var clock = Clock();
        await using var harness = await BrokerHarness.StartAsync(new ServiceBusTestBrokerOptions { TimeProvider = clock });
        var broker = harness.Broker;
        await harness.SendAsync("expiry", Message("e-1"));
        var receiver = harness.Receiver("expiry");
        var first = await BrokerHarness.ReceiveOneAsync(receiver);
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(30), first.LockedUntil);

        clock.Advance(TimeSpan.FromSeconds(31));
        var again = await BrokerHarness.ReceiveOneAsync(receiver);
        Assert.Equal("e-1", again.MessageId);
        Assert.Equal(2, again.DeliveryCount);
        var error = await Assert.ThrowsAsync<ServiceBusException>(() => receiver.CompleteMessageAsync(first));
        Assert.Equal(ServiceBusFailureReason.MessageLockLost, error.Reason);
        await receiver.CompleteMessageAsync(again);
        Assert.Equal([SettlementOutcome.LockLost, SettlementOutcome.Completed], ApplicationSettlements(broker.Settlements).Select(s => s.Outcome));
        Assert.Empty(broker.PeekMessages("expiry"));
    }

    [Fact]
    public async Task Renewing_a_lock_keeps_the_message_locked_past_the_first_expiry()
    {
        var clock = Clock();
        await using var harness = await BrokerHarness.StartAsync(new ServiceBusTestBrokerOptions { TimeProvider = clock, LockDuration = TimeSpan.FromSeconds(10) });
        var broker = harness.Broker;
        await harness.SendAsync("renew", Message("n-1"));
        var receiver = harness.Receiver("renew");
        var received = await BrokerHarness.ReceiveOneAsync(receiver);

        clock.Advance(TimeSpan.FromSeconds(8));
        await receiver.RenewMessageLockAsync(received);
        var renewedUntil = received.LockedUntil;
        clock.Advance(TimeSpan.FromSeconds(8));

        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromSeconds(2), renewedUntil);
        var locked = Assert.Single(broker.PeekMessages("renew"));
        Assert.Equal(BrokerMessageState.Locked, locked.State);
        Assert.Equal(0, locked.DeliveryCount);
        await receiver.CompleteMessageAsync(received);
        Assert.Equal(SettlementOutcome.Completed, Assert.Single(broker.Settlements).Outcome);
    }

    [Fact]
    public async Task Renewing_an_expired_lock_fails_with_lock_lost()
    {
        var clock = Clock();
        await using var harness = await BrokerHarness.StartAsync(new ServiceBusTestBrokerOptions { TimeProvider = clock });
        var broker = harness.Broker;
        await harness.SendAsync("renew-late", Message("n-2"));
        var receiver = harness.Receiver("renew-late");
        var received = await BrokerHarness.ReceiveOneAsync(receiver);

        clock.Advance(TimeSpan.FromSeconds(45));
        var error = await Assert.ThrowsAsync<ServiceBusException>(() => receiver.RenewMessageLockAsync(received));

        Assert.Equal(ServiceBusFailureReason.MessageLockLost, error.Reason);
        Assert.Equal(BrokerMessageState.Active, Assert.Single(broker.PeekMessages("renew-late")).State);
    }

    [Fact]
    public async Task Another_receiver_settles_by_lock_token_through_management_and_an_expired_lock_is_lost_there_too()
    {
        var clock = Clock();
        await using var harness = await BrokerHarness.StartAsync(new ServiceBusTestBrokerOptions { TimeProvider = clock });
        var broker = harness.Broker;
        await harness.SendAsync("handover", Message("h-1"), Message("h-2"));
        var first = harness.Receiver("handover");
        var received = await ReceiveAsync(first, 2);
        var second = harness.Receiver("handover");

        await second.CompleteMessageAsync(received[0]);
        clock.Advance(TimeSpan.FromSeconds(31));
        var error = await Assert.ThrowsAsync<ServiceBusException>(() => second.AbandonMessageAsync(received[1]));

        Assert.Equal(ServiceBusFailureReason.MessageLockLost, error.Reason);
        var settlements = ApplicationSettlements(broker.GetSettlements("handover"));
        Assert.Equal([SettlementOutcome.Completed, SettlementOutcome.LockLost], settlements.Select(s => s.Outcome));
        Assert.All(settlements, s => Assert.True(s.ViaManagement));
        Assert.Equal(SettlementOutcome.Abandoned, settlements[1].Requested);
        var left = Assert.Single(broker.PeekMessages("handover"));
        Assert.Equal("h-2", left.MessageId);
        Assert.Equal(1, left.DeliveryCount);
    }
}

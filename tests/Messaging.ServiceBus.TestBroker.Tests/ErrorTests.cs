using Azure.Messaging.ServiceBus;
using Xunit;
using static Messaging.ServiceBus.TestBroker.Tests.TestClients;

namespace Messaging.ServiceBus.TestBroker.Tests;

/// <summary>What the broker does not do, it refuses at once with an error the client maps: nothing hangs.</summary>
public sealed class ErrorTests
{
    [Fact]
    public async Task A_session_receiver_is_refused_as_not_supported()
    {
        await using var harness = await BrokerHarness.StartAsync();

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => harness.Client.AcceptNextSessionAsync("sessions").WaitAsync(Wait));

        Assert.Contains("Sessions are not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_signed_with_another_key_is_unauthorized()
    {
        await using var broker = await ServiceBusTestBroker.StartAsync();
        var wrongKey = broker.ConnectionString.Replace($"SharedAccessKey={broker.Options.SharedAccessKey}", "SharedAccessKey=not-the-key", StringComparison.Ordinal);
        await using var client = new ServiceBusClient(wrongKey, new ServiceBusClientOptions { RetryOptions = new ServiceBusRetryOptions { MaxRetries = 0 } });
        await using var sender = client.CreateSender("secured");

        var error = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => sender.SendMessageAsync(Message("u-1")).WaitAsync(Wait));

        Assert.Contains("signature does not match", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => broker.PeekMessages("secured"));
    }

    [Fact]
    public async Task Without_creation_on_demand_an_unknown_queue_is_not_found()
    {
        var options = new ServiceBusTestBrokerOptions { CreateEntitiesOnDemand = false };
        options.Queues.Add("known");
        await using var harness = await BrokerHarness.StartAsync(options);

        await harness.SendAsync("known", Message("k-1"));
        var error = await Assert.ThrowsAsync<ServiceBusException>(() => harness.SendAsync("unknown", Message("k-2")).WaitAsync(Wait));

        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, error.Reason);
        Assert.Single(harness.Broker.PeekMessages("known"));
    }

    [Fact]
    public async Task Sending_to_a_dead_letter_queue_is_refused()
    {
        await using var harness = await BrokerHarness.StartAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => harness.SendAsync("orders/$deadletterqueue", Message("x")).WaitAsync(Wait));

        Assert.Contains("cannot be sent to", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unsupported_management_operation_answers_not_supported()
    {
        var options = new ServiceBusTestBrokerOptions();
        options.Topics["ruled"] = ["all"];
        await using var harness = await BrokerHarness.StartAsync(options);
        await using var rules = harness.Client.CreateRuleManager("ruled", "all");

        var error = await Assert.ThrowsAsync<NotSupportedException>(async () => await rules.GetRulesAsync().ToListAsync().AsTask().WaitAsync(Wait));

        Assert.Contains("Subscription rules are not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspecting_an_entity_the_broker_does_not_have_names_it()
    {
        await using var broker = await ServiceBusTestBroker.StartAsync();
        broker.CreateTopic("t");

        Assert.Contains("'missing'", Assert.Throws<ArgumentException>(() => broker.PeekMessages("missing")).Message, StringComparison.Ordinal);
        Assert.Contains("name a subscription", Assert.Throws<ArgumentException>(() => broker.PeekMessages("t")).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => broker.CreateQueue("t"));
        Assert.Throws<ArgumentException>(() => broker.CreateQueue("bad$name"));
    }
}

using Azure.Messaging.ServiceBus;
using Messaging.Transports.ServiceBus;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace Messaging.Tests.ServiceBus;

/// <summary>Every public entry point of the Service Bus transport rejects invalid arguments with the right exception and name.</summary>
public sealed class ServiceBusArgumentValidationTests
{
    private static readonly ServiceBusMessage Message = new("body");

    [Fact]
    public async Task Send_helpers_reject_null_arguments()
    {
        await using var client = new ServiceBusClient("Endpoint=sb://localhost:1;SharedAccessKeyName=test;SharedAccessKey=test;UseDevelopmentEmulator=true");
        var sender = client.CreateSender("q");
        using var batch = ServiceBusModelFactory.ServiceBusMessageBatch(1024, new List<ServiceBusMessage>());

        await AssertNull("sender", () => ServiceBusSenderExtensions.SendMessageWithContextAsync(null!, Message));
        await AssertNull("message", () => sender.SendMessageWithContextAsync(null!));
        await AssertNull("sender", () => ServiceBusSenderExtensions.SendMessagesWithContextAsync(null!, [Message]));
        await AssertNull("messages", () => sender.SendMessagesWithContextAsync((IEnumerable<ServiceBusMessage>)null!));
        await AssertNull("sender", () => ServiceBusSenderExtensions.SendMessagesWithContextAsync(null!, batch));
        await AssertNull("batch", () => sender.SendMessagesWithContextAsync((ServiceBusMessageBatch)null!));
        await AssertNull("sender", () => ServiceBusSenderExtensions.ScheduleMessageWithContextAsync(null!, Message, DateTimeOffset.UtcNow));
        await AssertNull("message", () => sender.ScheduleMessageWithContextAsync(null!, DateTimeOffset.UtcNow));
        await AssertNull("sender", () => ServiceBusSenderExtensions.ScheduleMessagesWithContextAsync(null!, [Message], DateTimeOffset.UtcNow));
        await AssertNull("messages", () => sender.ScheduleMessagesWithContextAsync(null!, DateTimeOffset.UtcNow));
        var withNull = await Assert.ThrowsAsync<ArgumentException>(() => sender.SendMessagesWithContextAsync([Message, null!]));
        Assert.Equal("messages", withNull.ParamName);

        Assert.Equal("batch", Assert.Throws<ArgumentNullException>(() => ServiceBusSenderExtensions.TryAddMessageWithContext(null!, Message, sender)).ParamName);
        Assert.Equal("message", Assert.Throws<ArgumentNullException>(() => batch.TryAddMessageWithContext(null!, sender)).ParamName);
        Assert.Equal("sender", Assert.Throws<ArgumentNullException>(() => batch.TryAddMessageWithContext(Message, null!)).ParamName);
    }

    [Fact]
    public void Registrations_reject_null_arguments()
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder().Build();
        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() => ServiceBusServiceCollectionExtensions.AddServiceBusConnection(null!)).ParamName);
        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() => ServiceBusServiceCollectionExtensions.AddServiceBusConnection(null!, configuration)).ParamName);
        Assert.Equal("configuration", Assert.Throws<ArgumentNullException>(() => services.AddServiceBusConnection((IConfiguration)null!)).ParamName);
        Assert.Equal("configure", Assert.Throws<ArgumentNullException>(() => services.AddServiceBusConsumerWorker<ServiceBusSessionWorkerTests.SessionWorker>((Action<ServiceBusConsumerOptions>)null!)).ParamName);
        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() => ServiceBusServiceCollectionExtensions.AddServiceBusConsumerWorker<ServiceBusSessionWorkerTests.SessionWorker>(null!, "w", null)).ParamName);
        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() => ServiceBusServiceCollectionExtensions.AddServiceBusPublisher(null!)).ParamName);
        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() => ServiceBusServiceCollectionExtensions.AddServiceBusPublisher(null!, configuration)).ParamName);
        Assert.Equal("configuration", Assert.Throws<ArgumentNullException>(() => services.AddServiceBusPublisher((IConfiguration)null!)).ParamName);
        Assert.Equal("message", Assert.Throws<ArgumentNullException>(() => ServiceBusMessageContextExtensions.GetServiceBusMessage<int>(null!)).ParamName);
    }

    [Fact]
    public async Task The_publisher_rejects_an_empty_entity_and_a_null_message()
    {
        var provider = new ServiceBusClientProvider(new ServiceCollection().BuildServiceProvider(), Options.Create(new ServiceBusConnectionOptions()));
        await using var publisher = new ServiceBusPublisher(provider, MessagingInstrumentation.Default, Options.Create(new ServiceBusPublisherOptions()));
        Assert.Equal("entityPath", (await Assert.ThrowsAsync<ArgumentException>(() => publisher.SendAsync(" ", Message))).ParamName);
        Assert.Equal("message", (await Assert.ThrowsAsync<ArgumentNullException>(() => publisher.SendAsync("q", null!))).ParamName);
        Assert.Equal("entityPath", (await Assert.ThrowsAsync<ArgumentNullException>(() => publisher.ScheduleAsync(null!, Message, DateTimeOffset.UtcNow))).ParamName);
        Assert.Equal("message", (await Assert.ThrowsAsync<ArgumentNullException>(() => publisher.ScheduleAsync("q", null!, DateTimeOffset.UtcNow))).ParamName);

        // No client registered and none configured: the first use says what to do.
        var none = await Assert.ThrowsAsync<InvalidOperationException>(() => publisher.SendAsync("q", new ServiceBusMessage("x")));
        Assert.Contains("No Service Bus client", none.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, Action<ServiceBusConsumerOptions>> InvalidConsumerOptions => new()
    {
        { "Subscription", o => o.Subscription = " " },
        { "MaxAutoLockRenewalDuration", o => o.MaxAutoLockRenewalDuration = TimeSpan.FromSeconds(-2) },
        { "MaxConcurrentCallsPerSession", o => o.MaxConcurrentCallsPerSession = 0 },
        { "SessionIdleTimeout", o => o.SessionIdleTimeout = TimeSpan.Zero },
    };

    [Theory]
    [MemberData(nameof(InvalidConsumerOptions))]
    public void ServiceBusConsumerOptions_Validate_rejects_each_invalid_property(string property, Action<ServiceBusConsumerOptions> breakIt)
    {
        var options = new ServiceBusConsumerOptions { Queue = "q" };
        options.Validate();
        breakIt(options);
        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.StartsWith($"Invalid ConsumerWorkerOptions: {property} ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ServiceBusConsumerOptions_accepts_an_infinite_lock_renewal_and_names_the_subscription_path()
    {
        var options = new ServiceBusConsumerOptions { Queue = "events", Subscription = "audit", MaxAutoLockRenewalDuration = Timeout.InfiniteTimeSpan };
        options.Validate();
        Assert.Equal("events/Subscriptions/audit", options.EntityPath);
    }

    public static TheoryData<string, Action<ServiceBusConnectionOptions>> InvalidConnectionOptions => new()
    {
        { "Set either ConnectionString", o => (o.ConnectionString, o.FullyQualifiedNamespace) = ("Endpoint=sb://x/", "x.servicebus.windows.net") },
        { "FullyQualifiedNamespace", o => o.FullyQualifiedNamespace = "sb://x.servicebus.windows.net/" },
        { "ClientServiceKey", o => o.ClientServiceKey = " " },
    };

    [Theory]
    [MemberData(nameof(InvalidConnectionOptions))]
    public void ServiceBusConnectionOptions_Validate_rejects_each_invalid_property(string start, Action<ServiceBusConnectionOptions> breakIt)
    {
        var options = new ServiceBusConnectionOptions();
        options.Validate();
        breakIt(options);
        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.StartsWith($"Invalid ServiceBusConnectionOptions: {start}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ServiceBusPublisherOptions_Validate_rejects_a_null_serializer()
    {
        var ex = Assert.Throws<ArgumentException>(new ServiceBusPublisherOptions { Serializer = null! }.Validate);
        Assert.StartsWith("Invalid ServiceBusPublisherOptions: Serializer ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dead_letter_description_is_bounded()
    {
        Assert.Null(ServiceBusDelivery.Describe(null));
        Assert.Equal("short", ServiceBusDelivery.Describe(new InvalidOperationException("short")));
        var bounded = ServiceBusDelivery.Describe(new InvalidOperationException(new string('x', 5000)))!;
        Assert.Equal(ServiceBusDelivery.MaxDescriptionLength, bounded.Length);
        Assert.EndsWith("…", bounded, StringComparison.Ordinal);
    }

    private static async Task AssertNull(string name, Func<Task> call) =>
        Assert.Equal(name, (await Assert.ThrowsAsync<ArgumentNullException>(call)).ParamName);
}

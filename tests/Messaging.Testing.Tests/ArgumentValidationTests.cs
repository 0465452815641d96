using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Messaging.Testing.Tests;

public sealed class ArgumentValidationTests
{
    [Fact]
    public async Task Registration_and_lookup_validate_their_arguments()
    {
        Assert.Throws<ArgumentNullException>(() => MessagingTestHarnessExtensions.AddMessagingTestHarness(null!));
        Assert.Throws<ArgumentNullException>(() => MessagingTestHarnessExtensions.GetMessagingTestHarness(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => MessagingTestHarnessExtensions.StartMessagingTestHarnessAsync(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ServiceCollection().AddMessagingTestHarness(o => o.Timeout = TimeSpan.Zero));
        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddMessagingTestHarness(o => o.TimeProvider = null!));
        var ex = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().BuildServiceProvider().GetMessagingTestHarness());
        Assert.Equal("The messaging test harness is not registered: call services.AddMessagingTestHarness() on the host's builder before building it.", ex.Message);
    }

    [Fact]
    public void Adding_the_harness_twice_keeps_one_and_applies_the_later_configuration()
    {
        var services = new ServiceCollection();
        services.AddMessagingTestHarness(o => o.Timeout = TimeSpan.FromSeconds(5));
        services.AddMessagingTestHarness(o => o.Timeout = TimeSpan.FromSeconds(7));

        using var provider = services.BuildServiceProvider();

        Assert.Single(services, d => d.ServiceType == typeof(MessagingTestHarness));
        Assert.Equal(TimeSpan.FromSeconds(7), provider.GetMessagingTestHarness().Timeout);
    }

    [Fact]
    public async Task Waits_and_assertions_validate_their_arguments()
    {
        var queue = TestHosts.Queue("arguments");
        using var host = TestHosts.Build(queue, new OrderHandler());
        var harness = await host.StartMessagingTestHarnessAsync();
        await TestHosts.PublishAsync(host, queue, new Order(1, "tea"), "m-1");
        var handled = await harness.Consumed.WaitForMessageIdAsync("m-1");

        await Assert.ThrowsAsync<ArgumentException>(() => harness.Consumed.WaitForMessageIdAsync(""));
        await Assert.ThrowsAsync<ArgumentNullException>(() => harness.Consumed.WaitForAsync(null!));
        await Assert.ThrowsAsync<ArgumentNullException>(() => harness.Consumed.WaitForBodyAsync<Order>(null!));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => harness.Consumed.NextAsync(0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => harness.Consumed.WaitForMessageIdAsync("m-1", TimeSpan.Zero));
        await Assert.ThrowsAsync<ArgumentException>(() => harness.Published.WaitForMessageIdAsync(""));
        await Assert.ThrowsAsync<ArgumentNullException>(() => harness.Published.WaitForAsync(null!));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => harness.WaitForWorkersAsync(TimeSpan.FromSeconds(-1)));
        Assert.Throws<ArgumentException>(() => harness.GetMetricValue(""));
        Assert.Throws<ArgumentNullException>(() => harness.GetMetricValue("messaging.process.duration", null!));
        Assert.Throws<ArgumentNullException>(() => handled.ShouldContinueTraceOf((PublishedMessage)null!));
        Assert.Throws<ArgumentNullException>(() => handled.ShouldBeLinkedTo((PublishedMessage)null!));
        Assert.Throws<ArgumentException>(() => handled.ShouldContinueTraceOf(default(ActivityContext)));
        Assert.Throws<ArgumentException>(() => handled.ShouldBeLinkedTo(default(PublishResult)));
        Assert.Throws<ArgumentNullException>(() => handled.ShouldHaveBaggage(null!));
        Assert.Throws<ArgumentException>(() => handled.ShouldHaveBaggageMember("", "v"));
        Assert.Throws<ArgumentNullException>(() => handled.ShouldHaveBaggageMember("k", null!));
    }
}

using Messaging.Transports.ServiceBus;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace Messaging.Tests.ServiceBus;

public sealed class ServiceBusConfigurationBindingTests
{
    [Fact]
    public void The_connection_options_and_the_client_options_in_them_bind_from_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ServiceBus:FullyQualifiedNamespace"] = "contoso.servicebus.windows.net",
            ["ServiceBus:ClientOptions:Identifier"] = "orders-app",
            ["ServiceBus:ClientOptions:RetryOptions:MaxRetries"] = "7",
        }).Build();
        var services = new ServiceCollection();
        services.AddServiceBusConnection(configuration.GetSection("ServiceBus"));

        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<ServiceBusConnectionOptions>>().Value;

        Assert.Equal("contoso.servicebus.windows.net", options.FullyQualifiedNamespace);
        Assert.Equal("orders-app", options.ClientOptions.Identifier);
        Assert.Equal(7, options.ClientOptions.RetryOptions.MaxRetries);
    }
}

using Azure.Messaging.ServiceBus;
using static Messaging.ServiceBus.TestBroker.Tests.TestClients;

namespace Messaging.ServiceBus.TestBroker.Tests;

/// <summary>A broker and a client on it; receivers made here are closed with it.</summary>
internal sealed class BrokerHarness : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    private BrokerHarness(ServiceBusTestBroker broker)
    {
        Broker = broker;
        Client = TestClients.Client(broker);
    }

    public ServiceBusTestBroker Broker { get; }

    public ServiceBusClient Client { get; }

    public static async Task<BrokerHarness> StartAsync(ServiceBusTestBrokerOptions? options = null) =>
        new(await ServiceBusTestBroker.StartAsync(options: options));

    public async Task SendAsync(string entity, params ServiceBusMessage[] messages)
    {
        await using var sender = Client.CreateSender(entity);
        await sender.SendMessagesAsync(messages);
    }

    public ServiceBusReceiver Receiver(string entity, ServiceBusReceiverOptions? options = null) =>
        Own(Client.CreateReceiver(entity, options ?? new ServiceBusReceiverOptions()));

    public ServiceBusReceiver Receiver(string topic, string subscription, ServiceBusReceiverOptions? options = null) =>
        Own(Client.CreateReceiver(topic, subscription, options ?? new ServiceBusReceiverOptions()));

    public static async Task<ServiceBusReceivedMessage> ReceiveOneAsync(ServiceBusReceiver receiver) =>
        await receiver.ReceiveMessageAsync(Wait) ?? throw new TimeoutException($"No message arrived from '{receiver.EntityPath}' within {Wait}.");

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }

        await Client.DisposeAsync();
        await Broker.DisposeAsync();
    }

    private T Own<T>(T disposable)
        where T : IAsyncDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }
}

using System.Collections.Concurrent;
using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Options;

namespace Messaging.Transports.ServiceBus;

/// <summary>The <see cref="IServiceBusPublisher"/>: a sender per entity, created on first use and kept until the application stops.</summary>
internal sealed class ServiceBusPublisher(ServiceBusClientProvider clients, MessagingInstrumentation instrumentation, IOptions<ServiceBusPublisherOptions> options)
    : IServiceBusPublisher, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<ServiceBusSender>> _senders = new(StringComparer.Ordinal);
    private readonly ServiceBusPublisherOptions _options = options.Value;
    private volatile bool _disposed;

    public Task<PublishResult> SendMessageAsync<T>(string entityPath, T message, CancellationToken cancellationToken = default)
    {
        var body = _options.Serializer.Serialize(message);
        var outgoing = new ServiceBusMessage(body) { ContentType = _options.Serializer.ContentType };
        return SendAsync(entityPath, outgoing, cancellationToken);
    }

    public async Task<PublishResult> SendAsync(string entityPath, ServiceBusMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(entityPath);
        ArgumentNullException.ThrowIfNull(message);
        var messageId = message.MessageId ??= Guid.NewGuid().ToString("N");
        var context = await ServiceBusSend.SendAsync(Sender(entityPath), message, instrumentation, cancellationToken).ConfigureAwait(false);
        return new PublishResult(messageId, context, 1);
    }

    public Task<long> ScheduleAsync(string entityPath, ServiceBusMessage message, DateTimeOffset scheduledEnqueueTime, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(entityPath);
        ArgumentNullException.ThrowIfNull(message);
        message.MessageId ??= Guid.NewGuid().ToString("N");
        return ServiceBusSend.ScheduleAsync(Sender(entityPath), message, scheduledEnqueueTime, instrumentation, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        foreach (var sender in _senders.Values)
        {
            if (sender.IsValueCreated)
            {
                await sender.Value.DisposeAsync().ConfigureAwait(false);
            }
        }

        _senders.Clear();
    }

    private ServiceBusSender Sender(string entityPath)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _senders.GetOrAdd(entityPath, path => new Lazy<ServiceBusSender>(() => clients.GetClient().CreateSender(path))).Value;
    }
}

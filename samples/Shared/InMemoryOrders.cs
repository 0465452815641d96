using Messaging.Transports.InMemory;

namespace Messaging.Samples;

/// <summary>Publishing orders to the in-process broker with the library's helper.</summary>
internal static class InMemoryOrders
{
    public static async Task<IEnumerable<KeyValuePair<string, string?>>> PublishAsync(
        InMemoryBroker broker, string queue, Order order, string messageId, MessagingInstrumentation instrumentation, CancellationToken cancellationToken)
    {
        var properties = new InMemoryMessageProperties { MessageId = messageId };
        await broker.PublishMessageWithContextAsync(queue, order, properties, instrumentation, serializer: null, cancellationToken).ConfigureAwait(false);

        // The helper created the headers and injected the context into them: these are the headers as sent.
        return (properties.Headers ?? new Dictionary<string, object?>())
            .Select(h => new KeyValuePair<string, string?>(h.Key, HeaderValues.TryGetString(h.Value, out var text) ? text : null))
            .ToList();
    }
}

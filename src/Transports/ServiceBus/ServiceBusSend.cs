using System.Diagnostics;
using System.Runtime.CompilerServices;
using Azure.Messaging.ServiceBus;

namespace Messaging.Transports.ServiceBus;

/// <summary>
/// The one producer path of the transport (the sender helpers and the publisher): every message gets its own
/// context, stale trace properties never survive, and the SDK never stamps a context of its own over ours (it only
/// stamps <c>Diagnostic-Id</c> when neither <c>Diagnostic-Id</c> nor <c>traceparent</c> is present).
/// </summary>
internal static class ServiceBusSend
{
    private const string Send = "send";
    private const string Schedule = "schedule";
    private const string Create = "create";

    // The creation contexts of the messages added to a batch with context, for the send span's links.
    private static readonly ConditionalWeakTable<ServiceBusMessageBatch, List<ActivityContext>> BatchContexts = new();

    public static async Task<ActivityContext> SendAsync(ServiceBusSender sender, ServiceBusMessage message, MessagingInstrumentation instrumentation, CancellationToken cancellationToken)
    {
        using var scope = instrumentation.StartProducer(ServiceBusSemantics.Outgoing(sender, message, Send), ServiceBusPropagation.Prepare(message.ApplicationProperties));
        try
        {
            await sender.SendMessageAsync(message, cancellationToken).ConfigureAwait(false);
            return scope.Context;
        }
        catch (Exception ex)
        {
            scope.RecordException(ex);
            throw;
        }
    }

    public static async Task<ActivityContext[]> SendAsync(ServiceBusSender sender, IEnumerable<ServiceBusMessage> messages, MessagingInstrumentation instrumentation, CancellationToken cancellationToken)
    {
        var list = Materialize(messages);
        var contexts = CreateAll(sender, list, instrumentation);
        using var scope = instrumentation.StartBatchSend(ServiceBusSemantics.OutgoingBatch(sender, Send), contexts);
        try
        {
            await sender.SendMessagesAsync(list, cancellationToken).ConfigureAwait(false);
            return contexts;
        }
        catch (Exception ex)
        {
            scope.RecordException(ex);
            throw;
        }
    }

    public static bool TryAdd(ServiceBusMessageBatch batch, ServiceBusMessage message, ServiceBusSender sender, MessagingInstrumentation instrumentation)
    {
        ActivityContext context;
        using (var create = instrumentation.StartCreate(ServiceBusSemantics.Outgoing(sender, message, Create), ServiceBusPropagation.Prepare(message.ApplicationProperties)))
        {
            context = create.Context;
        }

        if (!batch.TryAddMessage(message))
        {
            return false;
        }

        var contexts = BatchContexts.GetOrCreateValue(batch);
        lock (contexts)
        {
            // Messages added without context before this one get no link; their places are kept so the count is the batch's.
            while (contexts.Count < batch.Count - 1)
            {
                contexts.Add(default);
            }

            contexts.Add(context);
        }

        return true;
    }

    public static async Task SendAsync(ServiceBusSender sender, ServiceBusMessageBatch batch, MessagingInstrumentation instrumentation, CancellationToken cancellationToken)
    {
        ActivityContext[] contexts;
        if (BatchContexts.TryGetValue(batch, out var added))
        {
            lock (added)
            {
                contexts = [.. added];
            }
        }
        else
        {
            contexts = [];
        }

        if (contexts.Length < batch.Count)
        {
            Array.Resize(ref contexts, batch.Count);
        }

        using var scope = instrumentation.StartBatchSend(ServiceBusSemantics.OutgoingBatch(sender, Send), contexts);
        try
        {
            await sender.SendMessagesAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            scope.RecordException(ex);
            throw;
        }
    }

    public static async Task<long> ScheduleAsync(ServiceBusSender sender, ServiceBusMessage message, DateTimeOffset scheduledEnqueueTime, MessagingInstrumentation instrumentation, CancellationToken cancellationToken)
    {
        using var scope = instrumentation.StartProducer(ServiceBusSemantics.Outgoing(sender, message, Schedule), ServiceBusPropagation.Prepare(message.ApplicationProperties));
        try
        {
            return await sender.ScheduleMessageAsync(message, scheduledEnqueueTime, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            scope.RecordException(ex);
            throw;
        }
    }

    public static async Task<IReadOnlyList<long>> ScheduleAsync(ServiceBusSender sender, IEnumerable<ServiceBusMessage> messages, DateTimeOffset scheduledEnqueueTime, MessagingInstrumentation instrumentation, CancellationToken cancellationToken)
    {
        var list = Materialize(messages);
        var contexts = CreateAll(sender, list, instrumentation);
        using var scope = instrumentation.StartBatchSend(ServiceBusSemantics.OutgoingBatch(sender, Schedule), contexts);
        try
        {
            return await sender.ScheduleMessagesAsync(list, scheduledEnqueueTime, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            scope.RecordException(ex);
            throw;
        }
    }

    private static List<ServiceBusMessage> Materialize(IEnumerable<ServiceBusMessage> messages)
    {
        var list = messages.ToList();
        if (list.Contains(null!))
        {
            throw new ArgumentException("The messages must not contain null.", nameof(messages));
        }

        return list;
    }

    private static ActivityContext[] CreateAll(ServiceBusSender sender, List<ServiceBusMessage> messages, MessagingInstrumentation instrumentation)
    {
        var contexts = new ActivityContext[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            using var create = instrumentation.StartCreate(ServiceBusSemantics.Outgoing(sender, message, Create), ServiceBusPropagation.Prepare(message.ApplicationProperties));
            contexts[i] = create.Context;
        }

        return contexts;
    }
}

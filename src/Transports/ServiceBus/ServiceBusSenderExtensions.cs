using Messaging;
using Messaging.Transports.ServiceBus;

namespace Azure.Messaging.ServiceBus;

/// <summary>
/// Send helpers on <see cref="ServiceBusSender"/> that carry the current trace context and baggage in each message's
/// application properties (<c>traceparent</c>, <c>tracestate</c>, <c>baggage</c>, as strings), also when the span is
/// not sampled or nothing listens. Trace properties a message already has — for example copied by
/// <c>new ServiceBusMessage(received)</c> when forwarding, including <c>Diagnostic-Id</c> and
/// <c>Correlation-Context</c> — are replaced by the current context, never kept. A single message is sent under a
/// PRODUCER span <c>send {entity}</c>; several messages each get their own creation context (a PRODUCER span
/// <c>create {entity}</c>) and are sent under one CLIENT span <c>send {entity}</c> linked to all of them, with
/// <c>messaging.batch.message_count</c>.
/// </summary>
public static class ServiceBusSenderExtensions
{
    /// <summary>Sends <paramref name="message"/> with the current context under a PRODUCER span <c>send {entity}</c>.</summary>
    /// <param name="sender">The sender.</param>
    /// <param name="message">The message; its trace properties are replaced.</param>
    /// <param name="instrumentation">The propagation engine; <see cref="MessagingInstrumentation.Default"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the service accepted the message.</returns>
    public static Task SendMessageWithContextAsync(this ServiceBusSender sender, ServiceBusMessage message, MessagingInstrumentation? instrumentation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(message);
        return ServiceBusSend.SendAsync(sender, message, instrumentation ?? MessagingInstrumentation.Default, cancellationToken);
    }

    /// <summary>
    /// Sends <paramref name="messages"/> in one call, each with its own creation context (a PRODUCER span
    /// <c>create {entity}</c> injected into it), under a CLIENT span <c>send {entity}</c> linked to every message.
    /// </summary>
    /// <param name="sender">The sender.</param>
    /// <param name="messages">The messages; their trace properties are replaced.</param>
    /// <param name="instrumentation">The propagation engine; <see cref="MessagingInstrumentation.Default"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the service accepted the messages.</returns>
    public static Task SendMessagesWithContextAsync(this ServiceBusSender sender, IEnumerable<ServiceBusMessage> messages, MessagingInstrumentation? instrumentation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(messages);
        return ServiceBusSend.SendAsync(sender, messages, instrumentation ?? MessagingInstrumentation.Default, cancellationToken);
    }

    /// <summary>
    /// Sends a batch built with <see cref="TryAddMessageWithContext"/> under a CLIENT span <c>send {entity}</c> linked
    /// to the creation context of each of its messages. A message added with the SDK's own <c>TryAddMessage</c> is
    /// sent as it is (a batch's messages cannot be changed once added) and gets no link.
    /// </summary>
    /// <param name="sender">The sender.</param>
    /// <param name="batch">The batch.</param>
    /// <param name="instrumentation">The propagation engine; <see cref="MessagingInstrumentation.Default"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the service accepted the batch.</returns>
    public static Task SendMessagesWithContextAsync(this ServiceBusSender sender, ServiceBusMessageBatch batch, MessagingInstrumentation? instrumentation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(batch);
        return ServiceBusSend.SendAsync(sender, batch, instrumentation ?? MessagingInstrumentation.Default, cancellationToken);
    }

    /// <summary>
    /// Gives <paramref name="message"/> its creation context (a PRODUCER span <c>create {entity}</c>, injected into its
    /// application properties) and adds it to <paramref name="batch"/>: a batch's messages cannot be changed once added,
    /// so the context has to be there first. Send the batch with
    /// <see cref="SendMessagesWithContextAsync(ServiceBusSender, ServiceBusMessageBatch, MessagingInstrumentation?, CancellationToken)"/>.
    /// </summary>
    /// <param name="batch">The batch, created by <paramref name="sender"/>.</param>
    /// <param name="message">The message; its trace properties are replaced.</param>
    /// <param name="sender">The sender the batch is for (its entity names the span).</param>
    /// <param name="instrumentation">The propagation engine; <see cref="MessagingInstrumentation.Default"/> when <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when the message was added; <see langword="false"/> when it does not fit (add it to the next batch: it then gets a new creation context).</returns>
    public static bool TryAddMessageWithContext(this ServiceBusMessageBatch batch, ServiceBusMessage message, ServiceBusSender sender, MessagingInstrumentation? instrumentation = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(sender);
        return ServiceBusSend.TryAdd(batch, message, sender, instrumentation ?? MessagingInstrumentation.Default);
    }

    /// <summary>Schedules <paramref name="message"/> with the current context under a PRODUCER span <c>send {entity}</c> (operation <c>schedule</c>).</summary>
    /// <param name="sender">The sender.</param>
    /// <param name="message">The message; its trace properties are replaced.</param>
    /// <param name="scheduledEnqueueTime">When the message becomes available.</param>
    /// <param name="instrumentation">The propagation engine; <see cref="MessagingInstrumentation.Default"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The sequence number of the scheduled message (to cancel it).</returns>
    public static Task<long> ScheduleMessageWithContextAsync(this ServiceBusSender sender, ServiceBusMessage message, DateTimeOffset scheduledEnqueueTime, MessagingInstrumentation? instrumentation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(message);
        return ServiceBusSend.ScheduleAsync(sender, message, scheduledEnqueueTime, instrumentation ?? MessagingInstrumentation.Default, cancellationToken);
    }

    /// <summary>Schedules <paramref name="messages"/>, each with its own creation context, under one CLIENT span linked to them (operation <c>schedule</c>).</summary>
    /// <param name="sender">The sender.</param>
    /// <param name="messages">The messages; their trace properties are replaced.</param>
    /// <param name="scheduledEnqueueTime">When the messages become available.</param>
    /// <param name="instrumentation">The propagation engine; <see cref="MessagingInstrumentation.Default"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The sequence numbers of the scheduled messages, in order.</returns>
    public static Task<IReadOnlyList<long>> ScheduleMessagesWithContextAsync(this ServiceBusSender sender, IEnumerable<ServiceBusMessage> messages, DateTimeOffset scheduledEnqueueTime, MessagingInstrumentation? instrumentation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(messages);
        return ServiceBusSend.ScheduleAsync(sender, messages, scheduledEnqueueTime, instrumentation ?? MessagingInstrumentation.Default, cancellationToken);
    }
}

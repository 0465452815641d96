using Azure.Messaging.ServiceBus;

namespace Messaging.Transports.ServiceBus;

/// <summary>
/// The application's Service Bus publisher, from DI (<c>AddServiceBusPublisher</c>): one cached
/// <see cref="ServiceBusSender"/> per entity on the application's <see cref="ServiceBusClient"/>. Each send starts a
/// PRODUCER span and carries the current trace context and baggage; it completes when the service accepted the
/// message. Transient failures are retried by the SDK (<see cref="ServiceBusClientOptions.RetryOptions"/>), with the
/// same message id.
/// </summary>
public interface IServiceBusPublisher
{
    /// <summary>Sends <paramref name="message"/> to <paramref name="entityPath"/> with context; a message id is assigned when none is set.</summary>
    /// <param name="entityPath">The queue or topic.</param>
    /// <param name="message">The message; its trace properties are replaced.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>The message id and the producer context (<see cref="PublishResult.Attempts"/> is 1: the SDK's own retries are not visible).</returns>
    Task<PublishResult> SendAsync(string entityPath, ServiceBusMessage message, CancellationToken cancellationToken = default);

    /// <summary>Serialises <paramref name="message"/> with <see cref="ServiceBusPublisherOptions.Serializer"/> and sends it; see <see cref="SendAsync"/>.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="entityPath">The queue or topic.</param>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>The message id and the producer context.</returns>
    Task<PublishResult> SendMessageAsync<T>(string entityPath, T message, CancellationToken cancellationToken = default);

    /// <summary>Schedules <paramref name="message"/> for <paramref name="scheduledEnqueueTime"/> with context.</summary>
    /// <param name="entityPath">The queue or topic.</param>
    /// <param name="message">The message; its trace properties are replaced.</param>
    /// <param name="scheduledEnqueueTime">When the message becomes available.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The sequence number of the scheduled message.</returns>
    Task<long> ScheduleAsync(string entityPath, ServiceBusMessage message, DateTimeOffset scheduledEnqueueTime, CancellationToken cancellationToken = default);
}

/// <summary>Options of the application's <see cref="IServiceBusPublisher"/>; validated when the host starts.</summary>
public sealed class ServiceBusPublisherOptions
{
    /// <summary>Gets or sets the serializer of <see cref="IServiceBusPublisher.SendMessageAsync{T}"/>. Default: <see cref="JsonMessageSerializer.Default"/>.</summary>
    public IMessageSerializer Serializer { get; set; } = JsonMessageSerializer.Default;

    /// <summary>Validates the options.</summary>
    /// <exception cref="ArgumentException">One or more options are invalid; the message lists every problem.</exception>
    public void Validate() => OptionsErrors.ThrowIfAny(this, Validate);

    internal void Validate(ICollection<string> errors)
    {
        if (Serializer is null)
        {
            errors.Add($"{nameof(Serializer)} must not be null.");
        }
    }
}

using Azure.Messaging.ServiceBus;

namespace Messaging.Transports.ServiceBus;

/// <summary>
/// The session-aware <see cref="ServiceBusConsumerWorker{TMessage}"/>: a <see cref="ServiceBusSessionProcessor"/> on a
/// session-enabled queue or subscription. <see cref="ConsumerWorkerOptions.MaxConcurrency"/> is
/// <c>MaxConcurrentSessions</c>; <see cref="ServiceBusConsumerOptions.MaxConcurrentCallsPerSession"/> (default 1, in
/// order), <see cref="ServiceBusConsumerOptions.SessionIdleTimeout"/> and <see cref="ServiceBusConsumerOptions.SessionIds"/>
/// configure the rest. Settlement, tracing and health are the same as the plain worker's; a lost session lock
/// cancels the handlers of that session, and their messages are not settled.
/// </summary>
/// <typeparam name="TMessage">The body type.</typeparam>
public abstract class ServiceBusSessionConsumerWorker<TMessage> : ServiceBusConsumerWorker<TMessage>
{
    /// <summary>Creates the worker.</summary>
    /// <param name="context">The worker's name, options, client and services, supplied by its registration.</param>
    protected ServiceBusSessionConsumerWorker(ServiceBusWorkerContext context)
        : base(context)
    {
    }

    private protected sealed override ProcessorHandle CreateProcessor(ServiceBusClient client)
    {
        var options = Options;
        var processorOptions = new ServiceBusSessionProcessorOptions
        {
            AutoCompleteMessages = false,
            ReceiveMode = ServiceBusReceiveMode.PeekLock,
            MaxConcurrentSessions = options.MaxConcurrency,
            MaxConcurrentCallsPerSession = options.MaxConcurrentCallsPerSession,
            PrefetchCount = options.PrefetchCount,
            MaxAutoLockRenewalDuration = options.MaxAutoLockRenewalDuration,
            Identifier = Name,
        };
        if (options.SessionIdleTimeout is { } idle)
        {
            processorOptions.SessionIdleTimeout = idle;
        }

        foreach (var id in options.SessionIds)
        {
            processorOptions.SessionIds.Add(id);
        }

        var processor = options.Subscription is { Length: > 0 } subscription
            ? client.CreateSessionProcessor(options.Queue, subscription, processorOptions)
            : client.CreateSessionProcessor(options.Queue, processorOptions);
        return new ProcessorHandle.Sessions(processor, this);
    }
}

using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Logging;

namespace Messaging.Transports.ServiceBus;

/// <summary>
/// A <see cref="ConsumerWorker{TMessage}"/> on a <see cref="ServiceBusProcessor"/> for a queue or a topic subscription,
/// on the application's <see cref="ServiceBusClient"/>. The processor receives, renews locks and runs up to
/// <see cref="ConsumerWorkerOptions.MaxConcurrency"/> handlers at once; the core pipeline handles each message and
/// settles it exactly once: handled → complete; failed <see cref="ConsumerWorkerOptions.MaxAttempts"/> times (or an
/// undeserialisable body) → dead-letter with the exception type as reason and its message as description; the worker
/// stopping before the handler finished → abandon (delivery count + 1). When the processor reports a message's lock
/// lost, the handler's cancellation token fires and the message is not settled (the service delivers it again).
/// Inherit it, take a <see cref="ServiceBusWorkerContext"/> in the constructor and pass it on, override
/// <c>HandleAsync</c>, and register the worker with <c>AddServiceBusConsumerWorker</c>.
/// </summary>
/// <remarks>
/// Tracing: the worker's CONSUMER span <c>process {entity}</c> is the handler's <see cref="System.Diagnostics.Activity.Current"/>
/// and is parented on (or, in Link mode, linked to) the message's context, whether or not the SDK's own activity source
/// (<c>Azure.Experimental.EnableActivitySource</c>) is on: when it is, the SDK's <c>ServiceBusProcessor.ProcessMessage</c>
/// span is a sibling of ours in the producer's trace, never our parent.
/// </remarks>
/// <typeparam name="TMessage">The body type.</typeparam>
public abstract class ServiceBusConsumerWorker<TMessage> : ConsumerWorker<TMessage>, IServiceBusConsumerWorker, IServiceBusWorkerCallbacks
{
    private readonly ServiceBusClientProvider _clients;
    private volatile bool _receiveFailed;

    /// <summary>Creates the worker.</summary>
    /// <param name="context">The worker's name, options, client and services, supplied by its registration.</param>
    protected ServiceBusConsumerWorker(ServiceBusWorkerContext context)
        : base(context ?? throw new ArgumentNullException(nameof(context)))
    {
        Options = context.Options;
        _clients = context.Clients;
    }

    /// <summary>Gets the worker's options.</summary>
    protected new ServiceBusConsumerOptions Options { get; }

    /// <inheritdoc />
    private protected sealed override async Task ConsumeAsync(CancellationToken stoppingToken)
    {
        var client = _clients.GetClient();
        var processor = CreateProcessor(client);
        await using (processor.ConfigureAwait(false))
        {
            await processor.StartAsync(stoppingToken).ConfigureAwait(false);
            ReportSubscribed();
            ServiceBusLog.Subscribed(Logger, Name, Options.EntityPath, Options.MaxConcurrency, Options.PrefetchCount);
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (stoppingToken.Register(static s => ((TaskCompletionSource)s!).TrySetResult(), stopped))
            {
                await stopped.Task.ConfigureAwait(false);
            }

            // Stop receiving: the processor waits for the handlers in flight, which settle their messages (after the
            // host's shutdown timeout the core cancels them and they abandon theirs).
            await processor.StopAsync().ConfigureAwait(false);
            await WaitForInFlightAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Creates the processor the worker runs; the session-aware variant creates a session processor.</summary>
    private protected virtual ProcessorHandle CreateProcessor(ServiceBusClient client)
    {
        var options = Options;
        var processorOptions = new ServiceBusProcessorOptions
        {
            AutoCompleteMessages = false,
            ReceiveMode = ServiceBusReceiveMode.PeekLock,
            MaxConcurrentCalls = options.MaxConcurrency,
            PrefetchCount = options.PrefetchCount,
            MaxAutoLockRenewalDuration = options.MaxAutoLockRenewalDuration,
            Identifier = Name,
        };
        var processor = options.Subscription is { Length: > 0 } subscription
            ? client.CreateProcessor(options.Queue, subscription, processorOptions)
            : client.CreateProcessor(options.Queue, processorOptions);
        return new ProcessorHandle.Plain(processor, this);
    }

    /// <summary>Runs one message through the core pipeline; never throws into the SDK.</summary>
    async Task IServiceBusWorkerCallbacks.OnMessageAsync(ServiceBusDelivery delivery)
    {
        if (_receiveFailed)
        {
            _receiveFailed = false;
            ReportSubscribed();
        }

        using (delivery)
        {
            await ProcessAsync(delivery).ConfigureAwait(false);
        }
    }

    /// <summary>A processor error: logged; a failure to receive makes the health check Unhealthy until a message arrives again.</summary>
    Task IServiceBusWorkerCallbacks.OnErrorAsync(ProcessErrorEventArgs args)
    {
        try
        {
            if (args.ErrorSource is ServiceBusErrorSource.Receive or ServiceBusErrorSource.AcceptSession)
            {
                _receiveFailed = true;
                ReportNotSubscribed(
                    $"The processor of '{Options.EntityPath}' cannot receive ({args.ErrorSource}: {args.Exception.GetType().Name}: {args.Exception.Message}); it keeps trying.",
                    args.Exception);
            }

            ServiceBusLog.ProcessorError(Logger, args.Exception, Name, args.ErrorSource.ToString(), args.EntityPath);
        }
#pragma warning disable CA1031 // Raised by the SDK's processor: nothing may escape into it.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        return Task.CompletedTask;
    }

    void IServiceBusWorkerCallbacks.OnCallbackFailed(Exception exception) => ServiceBusLog.CallbackFailed(Logger, exception, Name, Options.EntityPath);
}

/// <summary>
/// Marks the workers <c>AddServiceBusConsumerWorker</c> accepts: those inheriting
/// <see cref="ServiceBusConsumerWorker{TMessage}"/> or <see cref="ServiceBusSessionConsumerWorker{TMessage}"/>.
/// </summary>
public interface IServiceBusConsumerWorker
{
    /// <summary>Gets the worker's name.</summary>
    string Name { get; }
}

/// <summary>The Service Bus workers' log messages (source-generated).</summary>
internal static partial class ServiceBusLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Consumer worker '{Worker}' processing '{EntityPath}' (concurrency {Concurrency}, prefetch {Prefetch}).")]
    public static partial void Subscribed(ILogger logger, string worker, string entityPath, int concurrency, int prefetch);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "Consumer worker '{Worker}': the processor of '{EntityPath}' reported an error ({ErrorSource}).")]
    public static partial void ProcessorError(ILogger logger, Exception exception, string worker, string errorSource, string entityPath);

    [LoggerMessage(EventId = 302, Level = LogLevel.Error, Message = "Consumer worker '{Worker}': a message of '{EntityPath}' could not be handed to the pipeline; it is delivered again when its lock expires.")]
    public static partial void CallbackFailed(ILogger logger, Exception exception, string worker, string entityPath);
}

using Azure.Messaging.ServiceBus;

namespace Messaging.Transports.ServiceBus;

/// <summary>What a processor calls back into its worker.</summary>
internal interface IServiceBusWorkerCallbacks
{
    Task OnMessageAsync(ServiceBusDelivery delivery);

    Task OnErrorAsync(ProcessErrorEventArgs args);

    void OnCallbackFailed(Exception exception);
}

/// <summary>A worker's processor, plain or session-aware, wired to the worker's callbacks.</summary>
internal abstract class ProcessorHandle : IAsyncDisposable
{
    public abstract Task StartAsync(CancellationToken cancellationToken);

    public abstract Task StopAsync();

    public abstract ValueTask DisposeAsync();

    /// <summary>
    /// Hands one message to the worker, with the lock-lost notification watched while it is processed; nothing escapes
    /// into the SDK's callback (an unsettled message comes again when its lock expires).
    /// </summary>
    private static async Task DeliverAsync(IServiceBusWorkerCallbacks worker, Func<ServiceBusDelivery> create, Func<ServiceBusDelivery, Action> watchLockLost)
    {
        try
        {
            var delivery = create();
            var unwatch = watchLockLost(delivery);
            try
            {
                await worker.OnMessageAsync(delivery).ConfigureAwait(false);
            }
            finally
            {
                unwatch();
            }
        }
#pragma warning disable CA1031 // Nothing may escape into the SDK's callback.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            worker.OnCallbackFailed(ex);
        }
    }

    /// <summary>A <see cref="ServiceBusProcessor"/>.</summary>
    internal sealed class Plain : ProcessorHandle
    {
        private readonly ServiceBusProcessor _processor;

        public Plain(ServiceBusProcessor processor, IServiceBusWorkerCallbacks worker)
        {
            _processor = processor;
            processor.ProcessMessageAsync += args => DeliverAsync(worker, () => new ServiceBusDelivery.Processor(args), delivery =>
            {
                Task OnLockLost(MessageLockLostEventArgs lost) => delivery.OnLockLostAsync();
                args.MessageLockLostAsync += OnLockLost;
                return () => args.MessageLockLostAsync -= OnLockLost;
            });
            processor.ProcessErrorAsync += worker.OnErrorAsync;
        }

        public override Task StartAsync(CancellationToken cancellationToken) => _processor.StartProcessingAsync(cancellationToken);

        public override Task StopAsync() => _processor.StopProcessingAsync(CancellationToken.None);

        public override ValueTask DisposeAsync() => _processor.DisposeAsync();
    }

    /// <summary>A <see cref="ServiceBusSessionProcessor"/>: a lost session lock revokes the messages of that session.</summary>
    internal sealed class Sessions : ProcessorHandle
    {
        private readonly ServiceBusSessionProcessor _processor;

        public Sessions(ServiceBusSessionProcessor processor, IServiceBusWorkerCallbacks worker)
        {
            _processor = processor;
            processor.ProcessMessageAsync += args => DeliverAsync(worker, () => new ServiceBusDelivery.Session(args), delivery =>
            {
                Task OnLockLost(SessionLockLostEventArgs lost) => delivery.OnLockLostAsync();
                args.SessionLockLostAsync += OnLockLost;
                return () => args.SessionLockLostAsync -= OnLockLost;
            });
            processor.ProcessErrorAsync += worker.OnErrorAsync;
        }

        public override Task StartAsync(CancellationToken cancellationToken) => _processor.StartProcessingAsync(cancellationToken);

        public override Task StopAsync() => _processor.StopProcessingAsync(CancellationToken.None);

        public override ValueTask DisposeAsync() => _processor.DisposeAsync();
    }
}

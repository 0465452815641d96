using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Messaging;

/// <summary>
/// The broker-agnostic hosted consumer: transports subclass it (through <see cref="ConsumerWorker{TMessage}"/>) to
/// feed received messages into <see cref="ProcessAsync(ReceivedMessage)"/>, which runs the consumer pipeline —
/// extract → trust → parenting → CONSUMER span → attach → handler → settle → detach — with retries, dead-lettering
/// and graceful shutdown.
/// </summary>
public abstract class ConsumerWorker : BackgroundService
{
    private readonly InFlightTracker _inFlight = new();
    private readonly CancellationTokenSource _handlerCancellation = new();
    private readonly ConsumerSettings _consumer;
    private readonly IServiceScopeFactory? _scopeFactory;
    private readonly bool _metrics;
    private readonly IMessagingObserver? _observer;

    // Whether the application registers any logging provider (see RunAttemptsAsync's log scope).
    private readonly bool _loggingProviders;
    private volatile WorkerHealth _health = new(false, "The worker has not started.", null);

    /// <summary>Creates a worker from what its registration supplies.</summary>
    /// <param name="context">The worker's name, options, propagation engine and services.</param>
    protected ConsumerWorker(ConsumerWorkerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Name = context.Name;
        Options = context.Options;
        Instrumentation = context.Instrumentation;
        Services = context.Services;
        TimeProvider = context.TimeProvider;
        Logger = context.LoggerFactory.CreateLogger(GetType());
        _scopeFactory = context.Services.GetService<IServiceScopeFactory>();
        _metrics = Instrumentation.Metrics;
        _observer = Instrumentation.Observer;
        _loggingProviders = context.Services.GetService<IEnumerable<ILoggerProvider>>()?.Any() ?? true;
        var defaults = Instrumentation.DefaultConsumer;
        _consumer = new ConsumerSettings(
            Options.Trust ?? defaults.Trust,
            Options.Parenting ?? defaults.Parenting,
            Options.ParentingPolicy ?? defaults.ParentingPolicy);
    }

    /// <summary>Gets the worker's name: its options name and health check name.</summary>
    public string Name { get; }

    /// <summary>Gets the validated options.</summary>
    protected ConsumerWorkerOptions Options { get; }

    /// <summary>Gets the application's propagation engine.</summary>
    protected MessagingInstrumentation Instrumentation { get; }

    /// <summary>Gets the application's services.</summary>
    protected IServiceProvider Services { get; }

    /// <summary>Gets the worker's logger.</summary>
    protected ILogger Logger { get; }

    /// <summary>Gets the clock.</summary>
    protected TimeProvider TimeProvider { get; }

    internal WorkerHealth Health => _health;

    /// <summary>Stops receiving, lets in-flight handlers finish until <paramref name="cancellationToken"/> fires
    /// (the host's shutdown timeout), then cancels them; unfinished messages are returned to the queue, not acked.</summary>
    /// <param name="cancellationToken">Signals that the shutdown timeout elapsed.</param>
    /// <returns>A task that completes when the worker stopped.</returns>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Returns when the receive loop finished (in-flight handlers done) or when the shutdown timeout fired.
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (ExecuteTask is { IsCompleted: false } running)
        {
            // Timed out: cancel the handlers and give them a moment to return their messages to the queue.
            await _handlerCancellation.CancelAsync().ConfigureAwait(false);
            await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(2), TimeProvider, CancellationToken.None)).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _handlerCancellation.Dispose();
        base.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Reports that the worker is subscribed and receiving: its health check reports Healthy.</summary>
    private protected void ReportSubscribed() => _health = new WorkerHealth(true, $"Subscribed to '{Options.Queue}'.", null);

    /// <summary>Reports that the worker is not receiving (connecting, reconnecting, stopped): its health check reports Unhealthy.</summary>
    /// <param name="reason">Why, in a sentence.</param>
    /// <param name="exception">The failure behind it, if any.</param>
    private protected void ReportNotSubscribed(string reason, Exception? exception = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        _health = new WorkerHealth(false, reason, exception);
    }

    /// <summary>
    /// The transport's receive loop: subscribe to <see cref="ConsumerWorkerOptions.Queue"/>, hand each message to
    /// <see cref="ProcessAsync(ReceivedMessage)"/> with at most <see cref="ConsumerWorkerOptions.MaxConcurrency"/> at a
    /// time, and when <paramref name="stoppingToken"/> fires stop receiving, <c>await</c>
    /// <see cref="WaitForInFlightAsync"/>, then release the subscription. It runs with a clean ambient context.
    /// </summary>
    /// <param name="stoppingToken">Fires when the host stops.</param>
    /// <returns>A task that completes when receiving stopped.</returns>
    private protected abstract Task ConsumeAsync(CancellationToken stoppingToken);

    /// <summary>Gets the factory of the attempts' DI scopes, or <see langword="null"/> when the services have none.</summary>
    internal IServiceScopeFactory? ScopeFactory => _scopeFactory;

    /// <summary>Gets the application's services (what an attempt gets without a scope factory).</summary>
    internal IServiceProvider RootServices => Services;

    /// <summary>Gets how many attempts a message gets before it is dead-lettered.</summary>
    internal int MaxAttempts => Options.MaxAttempts;

    /// <summary>
    /// Deserialises the body and creates the attempt's message context: implemented by <see cref="ConsumerWorker{TMessage}"/>.
    /// </summary>
    /// <param name="message">The received message.</param>
    /// <param name="attempt">The attempt number.</param>
    /// <param name="scope">The consumer scope of this attempt.</param>
    /// <returns>The attempt's context.</returns>
    /// <exception cref="UndeserializableMessageException">The body cannot be deserialised.</exception>
    private protected abstract IAttemptContext CreateAttempt(ReceivedMessage message, int attempt, ConsumerScope scope);

    /// <summary>Handles one message, typed: implemented by <see cref="ConsumerWorker{TMessage}"/>.</summary>
    /// <param name="attempt">The attempt's context, from <see cref="CreateAttempt"/>.</param>
    /// <param name="cancellationToken">Fires when the worker must abandon the message.</param>
    /// <returns>A task that completes when the handler finished.</returns>
    private protected abstract Task InvokeHandlerAsync(IAttemptContext attempt, CancellationToken cancellationToken);

    /// <summary>
    /// Runs the consumer pipeline for one message and settles it exactly once: ack on success; after
    /// <see cref="ConsumerWorkerOptions.MaxAttempts"/> failures, or at once for an undeserialisable body, dead-letter;
    /// requeue when the worker stops before the handler finished. Never throws.
    /// </summary>
    /// <param name="message">The received message.</param>
    /// <returns>A task that completes when the message is settled.</returns>
    private protected Task ProcessAsync(ReceivedMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);

        // A quick handler and a synchronous settle complete without allocating a task per message.
        var processing = ProcessCoreAsync(message);
        return processing.IsCompletedSuccessfully ? Task.CompletedTask : processing.AsTask();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))] // once per message: reuse the state machine box
    private async ValueTask ProcessCoreAsync(ReceivedMessage message)
    {
        _inFlight.Enter();
        try
        {
            var (outcome, reason, error) = await RunAttemptsAsync(message).ConfigureAwait(false);
            await SettleAsync(message, outcome, reason, error).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Nothing may escape into the transport's callback.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            WorkerLog.PipelineFailed(Logger, ex, Name);
        }
        finally
        {
            _inFlight.Exit();
        }
    }

    /// <summary>Waits until no message is being processed.</summary>
    /// <returns>A task that completes when the worker is idle.</returns>
    private protected Task WaitForInFlightAsync() => _inFlight.WaitIdleAsync();

    /// <inheritdoc />
    protected sealed override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Start the loops with a clean ambient context: whatever Activity or baggage was current when the host
        // started must not become the parent or baggage of any message (the consumer-dispatch leak).
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(() => RunAsync(stoppingToken), CancellationToken.None);
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        AmbientContext.Clear();
        ReportNotSubscribed($"Connecting to '{Options.Queue}'.");
        WorkerLog.Started(Logger, Name, Options.Queue, Options.MaxConcurrency);
        try
        {
            await ConsumeAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            ReportNotSubscribed("The receive loop failed.", ex);
            WorkerLog.TransportFailed(Logger, ex, Name);
            throw;
        }
        finally
        {
            await _inFlight.WaitIdleAsync().ConfigureAwait(false);
            if (stoppingToken.IsCancellationRequested)
            {
                ReportNotSubscribed("The worker stopped.");
            }

            WorkerLog.Stopped(Logger, Name);
        }
    }

    private ValueTask<(Outcome Outcome, string Reason, Exception? Error)> RunAttemptsAsync(ReceivedMessage message)
    {
        var revoked = message.Revoked;
        return revoked.CanBeCanceled
            ? RunRevocableAttemptsAsync(message, revoked)
            : RunAttemptsAsync(message, _handlerCancellation.Token, revoked);
    }

    private async ValueTask<(Outcome Outcome, string Reason, Exception? Error)> RunRevocableAttemptsAsync(ReceivedMessage message, CancellationToken revoked)
    {
        // The transport can lose the message (a lock that expired): the handler is cancelled then, as on shutdown.
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_handlerCancellation.Token, revoked);
        return await RunAttemptsAsync(message, linked.Token, revoked).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // once per message: reuse the state machine box
    private async ValueTask<(Outcome Outcome, string Reason, Exception? Error)> RunAttemptsAsync(ReceivedMessage message, CancellationToken cancellation, CancellationToken revoked)
    {
        var options = Options;
        var first = Math.Max(1, message.FirstAttempt);
        if (first > options.MaxAttempts)
        {
            // Earlier deliveries used every attempt without a settlement (the process died, the channel was lost, the
            // worker stopped): a message that takes its consumer down with it must not loop forever.
            WorkerLog.AttemptsUsedUp(Logger, Name, message.Message.MessageId, first - 1, options.MaxAttempts);
            return (Outcome.DeadLetter, "attempts-exhausted", null);
        }

        for (var attempt = first; ; attempt++)
        {
            if (revoked.IsCancellationRequested)
            {
                return (Outcome.Revoked, "revoked", null);
            }

            if (cancellation.IsCancellationRequested)
            {
                return (Outcome.Requeue, "shutdown", null);
            }

            using var scope = Instrumentation.StartConsumer(message.Message, _consumer);
            // No logging provider and this logger disabled at every level: no logger of any category writes the scope
            // (the handler's loggers may differ from the worker's only through a provider's filters), yet
            // Microsoft.Extensions.Logging would allocate one. Saves 48 B/msg (e2e quiet, 2026-12).
            using var logScope = options.LogScope && (_loggingProviders || Logger.IsEnabled(LogLevel.Critical))
                ? Logger.BeginScope(new MessageLogScope(scope, message.Message, Instrumentation.BaggageTelemetry))
                : null;
            IAttemptContext? context = null;
            Exception? failure = null;
            try
            {
                context = CreateAttempt(message, attempt, scope);
                await InvokeHandlerAsync(context, cancellation).ConfigureAwait(false);
                if (revoked.IsCancellationRequested)
                {
                    // Finished, but the broker took the message back meanwhile: settling it would fail, and it comes again.
                    scope.RecordError("revoked");
                    return (Outcome.Revoked, "revoked", null);
                }

                scope.RecordSettlement(Outcome.Ack);
                return (Outcome.Ack, string.Empty, null);
            }
            catch (OperationCanceledException ex) when (revoked.IsCancellationRequested)
            {
                failure = ex;
                scope.RecordError("revoked");
                return (Outcome.Revoked, "revoked", null);
            }
            catch (OperationCanceledException ex) when (cancellation.IsCancellationRequested)
            {
                failure = ex;
                scope.RecordError("shutdown");
                scope.RecordSettlement(Outcome.Requeue);
                return (Outcome.Requeue, "shutdown", null);
            }
            catch (UndeserializableMessageException ex)
            {
                var error = ex.InnerException ?? ex;
                failure = error;
                scope.RecordException(error);
                scope.RecordSettlement(Outcome.DeadLetter);
                WorkerLog.Undeserializable(Logger, error, Name, message.Message.MessageId);
                return (Outcome.DeadLetter, error.GetType().FullName!, error);
            }
#pragma warning disable CA1031 // A throwing handler is retried, then dead-lettered; it never kills the worker.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failure = ex;
                scope.RecordException(ex);
                WorkerLog.HandlerFailed(Logger, ex, Name, message.Message.MessageId, attempt, options.MaxAttempts);
                if (attempt >= options.MaxAttempts)
                {
                    scope.RecordSettlement(Outcome.DeadLetter);
                    return (Outcome.DeadLetter, ex.GetType().FullName!, ex);
                }
            }
            finally
            {
                _observer?.AttemptFinished(this, message, attempt, scope, failure);
                if (context is not null)
                {
                    await context.DisposeServicesAsync().ConfigureAwait(false);
                }
            }

            if (options.RetryDelay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(options.RetryDelay, TimeProvider, cancellation).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return revoked.IsCancellationRequested ? (Outcome.Revoked, "revoked", null) : (Outcome.Requeue, "shutdown", null);
                }
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))] // once per message: reuse the state machine box
    private async ValueTask SettleAsync(ReceivedMessage message, Outcome outcome, string reason, Exception? error)
    {
        try
        {
            switch (outcome)
            {
                case Outcome.Ack:
                    await message.AckAsync(CancellationToken.None).ConfigureAwait(false);
                    break;
                case Outcome.DeadLetter:
                    await message.DeadLetterAsync(reason, error, CancellationToken.None).ConfigureAwait(false);
                    WorkerLog.DeadLettered(Logger, Name, message.Message.MessageId, reason);
                    break;
                case Outcome.Revoked:
                    // The broker took the message back (its lock was lost) and delivers it again: never settle it twice.
                    WorkerLog.Revoked(Logger, Name, message.Message.MessageId);
                    break;
                default:
                    await message.RequeueAsync(CancellationToken.None).ConfigureAwait(false);
                    break;
            }

            if (_metrics)
            {
                WorkerInstruments.Record(message.Message, outcome);
            }

            _observer?.Settled(this, message, Options.Serializer, outcome, reason, null);
        }
#pragma warning disable CA1031 // The broker redelivers an unsettled message; log, never throw into the transport.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            WorkerLog.SettleFailed(Logger, ex, Name, message.Message.MessageId, outcome.ToString());
            _observer?.Settled(this, message, Options.Serializer, outcome, reason, ex);
        }
    }

    internal enum Outcome
    {
        Ack,
        DeadLetter,
        Requeue,

        /// <summary>The broker took the message back before it was settled (a lost lock): not settled.</summary>
        Revoked,
    }
}

/// <summary>
/// The hosted consumer users inherit: override <see cref="HandleAsync"/>. Per message, <see cref="Activity.Current"/>
/// is that message's CONSUMER span and <c>Baggage.Current</c> that message's baggage — nothing of any other message.
/// </summary>
/// <typeparam name="TMessage">The body type, deserialised with <see cref="ConsumerWorkerOptions.Serializer"/>.</typeparam>
public abstract class ConsumerWorker<TMessage> : ConsumerWorker
{
    /// <summary>Creates a worker from what its registration supplies.</summary>
    /// <param name="context">The worker's name, options, propagation engine and services.</param>
    protected ConsumerWorker(ConsumerWorkerContext context)
        : base(context)
    {
    }

    /// <summary>Handles one message. Throw to fail the attempt: the message is retried, then dead-lettered.</summary>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Fires when the host's shutdown timeout elapsed; the message then returns to the queue.</param>
    /// <returns>A task that completes when the message was handled.</returns>
    protected abstract Task HandleAsync(MessageContext<TMessage> message, CancellationToken cancellationToken);

    private protected sealed override IAttemptContext CreateAttempt(ReceivedMessage message, int attempt, ConsumerScope scope)
    {
        TMessage body;
        try
        {
            body = Options.Serializer.Deserialize<TMessage>(message.Body);
        }
        catch (Exception ex)
        {
            throw new UndeserializableMessageException(ex);
        }

        return new MessageContext<TMessage>(body, message, attempt, scope, this);
    }

    private protected sealed override Task InvokeHandlerAsync(IAttemptContext attempt, CancellationToken cancellationToken) =>
        HandleAsync((MessageContext<TMessage>)attempt, cancellationToken);
}

/// <summary>A worker's health as its health check reports it.</summary>
internal sealed record WorkerHealth(bool Subscribed, string Description, Exception? Exception);

using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;

namespace Messaging;

/// <summary>One message as a handler sees it: typed body, headers, metadata and this attempt's telemetry.</summary>
/// <typeparam name="TMessage">The body type.</typeparam>
public sealed class MessageContext<TMessage> : IAttemptContext
{
    private readonly ConsumerWorker _worker;
    private IServiceScope? _services;

    internal MessageContext(TMessage body, ReceivedMessage received, int attempt, ConsumerScope scope, ConsumerWorker worker)
    {
        Body = body;
        Received = received;
        Attempt = attempt;
        Scope = scope;
        _worker = worker;
    }

    /// <summary>Gets the deserialised body.</summary>
    public TMessage Body { get; }

    /// <summary>Gets the message's headers (read them; changing them affects nothing downstream).</summary>
    public IHeaderCarrier Headers => Received.Message.Headers;

    /// <summary>Gets the message's metadata (id, destination, redelivered flag, enqueue time, …).</summary>
    public IncomingMessage Message => Received.Message;

    /// <summary>Gets the message id, when the producer set one.</summary>
    public string? MessageId => Received.Message.MessageId;

    /// <summary>Gets the queue the message was consumed from.</summary>
    public string Destination => Received.Message.Destination;

    /// <summary>Gets a value indicating whether the broker delivered the message before.</summary>
    public bool Redelivered => Received.Message.Redelivered;

    /// <summary>Gets when the message was enqueued, when the transport knows.</summary>
    public DateTimeOffset? EnqueuedAt => Received.Message.EnqueuedAt;

    /// <summary>Gets the raw body.</summary>
    public ReadOnlyMemory<byte> RawBody => Received.Body;

    /// <summary>Gets this attempt's number, from 1 to <see cref="MaxAttempts"/>.</summary>
    public int Attempt { get; }

    /// <summary>Gets how many attempts the message gets before it is dead-lettered.</summary>
    public int MaxAttempts => _worker.MaxAttempts;

    /// <summary>Gets the CONSUMER span of this attempt (also <see cref="Activity.Current"/>), or <see langword="null"/> when not recorded.</summary>
    public Activity? Activity => Scope.Activity;

    /// <summary>Gets this message's baggage (also <see cref="OpenTelemetry.Baggage.Current"/>).</summary>
    public Baggage Baggage => Scope.Baggage;

    /// <summary>Gets the services of this attempt's own dependency-injection scope (created on first use, disposed after the attempt).</summary>
    public IServiceProvider Services =>
        _worker.ScopeFactory is { } factory ? (_services ??= factory.CreateScope()).ServiceProvider : _worker.RootServices;

    internal ReceivedMessage Received { get; }

    internal ConsumerScope Scope { get; }

    /// <inheritdoc />
    ValueTask IAttemptContext.DisposeServicesAsync()
    {
        switch (_services)
        {
            case null:
                return default;
            case IAsyncDisposable asynchronous:
                return asynchronous.DisposeAsync();
            default:
                _services.Dispose();
                return default;
        }
    }
}

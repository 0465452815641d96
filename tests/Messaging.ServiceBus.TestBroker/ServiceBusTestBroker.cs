using System.Net;
using System.Net.Sockets;
using Messaging.ServiceBus.TestBroker.Internal;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Sasl;

namespace Messaging.ServiceBus.TestBroker;

/// <summary>
/// An in-process Azure Service Bus broker speaking AMQP 1.0 on a loopback port. The unmodified
/// Azure.Messaging.ServiceBus client connects to it with <see cref="ConnectionString"/> (plain TCP, through
/// the client's development-emulator mode) and sends, schedules, receives, settles, renews locks and peeks as
/// against the service. Queues, topics with subscriptions and dead-letter queues are kept in memory.
/// </summary>
/// <example>
/// <code>
/// await using var broker = await ServiceBusTestBroker.StartAsync();
/// await using var client = new ServiceBusClient(broker.ConnectionString);
/// </code>
/// </example>
public sealed class ServiceBusTestBroker : IAsyncDisposable
{
    private const int MaxPortAttempts = 10;

    private readonly BrokerContext _context;
    private readonly BrokerRuntime _runtime;
    private AmqpConnectionListener? _listener;
    private int _disposed;

    /// <summary>Creates a broker that is not listening yet; see <see cref="StartAsync(int, ServiceBusTestBrokerOptions?, CancellationToken)"/>.</summary>
    private ServiceBusTestBroker(ServiceBusTestBrokerOptions options)
    {
        options.Validate();
        _context = new BrokerContext(options);
        _runtime = new BrokerRuntime(_context);
        foreach (var queue in options.Queues)
        {
            _runtime.CreateQueue(queue);
        }

        foreach (var (topic, subscriptions) in options.Topics)
        {
            _runtime.CreateTopic(topic);
            foreach (var subscription in subscriptions)
            {
                _runtime.CreateSubscription(topic, subscription);
            }
        }
    }

    /// <summary>The loopback port the broker listens on.</summary>
    public int Port { get; private set; }

    /// <summary>
    /// <c>Endpoint=sb://localhost:PORT;SharedAccessKeyName=…;SharedAccessKey=…;UseDevelopmentEmulator=true</c>:
    /// what a <c>ServiceBusClient</c> needs to connect.
    /// </summary>
    public string ConnectionString =>
        $"Endpoint=sb://localhost:{Port};SharedAccessKeyName={_context.Options.SharedAccessKeyName};SharedAccessKey={_context.Options.SharedAccessKey};UseDevelopmentEmulator=true";

    /// <summary>The settings the broker runs with.</summary>
    public ServiceBusTestBrokerOptions Options => _context.Options;

    /// <summary>
    /// Starts a broker listening on 127.0.0.1 only. With <paramref name="port"/> 0 (the default) it picks a free port.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The port is outside 0–65535.</exception>
    /// <exception cref="SocketException">The port is taken (or no free port could be bound).</exception>
    public static Task<ServiceBusTestBroker> StartAsync(int port = 0, ServiceBusTestBrokerOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        cancellationToken.ThrowIfCancellationRequested();
        var broker = new ServiceBusTestBroker(options ?? new ServiceBusTestBrokerOptions());
        broker.Listen(port);
        return Task.FromResult(broker);
    }

    /// <summary>Creates a queue (nothing happens if it exists).</summary>
    public void CreateQueue(string name) => _runtime.CreateQueue(name);

    /// <summary>Creates a topic (nothing happens if it exists).</summary>
    public void CreateTopic(string name) => _runtime.CreateTopic(name);

    /// <summary>Creates a subscription, and its topic if needed (nothing happens if it exists). It receives every message sent to the topic from then on.</summary>
    public void CreateSubscription(string topic, string subscription) => _runtime.CreateSubscription(topic, subscription);

    /// <summary>
    /// Every message an entity holds, in sequence-number order, whatever its state (active, locked, deferred,
    /// scheduled). <paramref name="entityPath"/> is <c>queue</c>, <c>topic/Subscriptions/name</c>, or either followed by
    /// <c>/$deadletterqueue</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The broker has no such entity.</exception>
    public IReadOnlyList<BrokerMessageSnapshot> PeekMessages(string entityPath) => _runtime.FindStore(entityPath).Snapshot();

    /// <summary>The messages of the entity's dead-letter queue (<c>entityPath/$deadletterqueue</c>).</summary>
    /// <exception cref="ArgumentException">The broker has no such entity, or it is a dead-letter queue already.</exception>
    public IReadOnlyList<BrokerMessageSnapshot> PeekDeadLetterMessages(string entityPath)
    {
        var store = _runtime.FindStore(entityPath);
        return (store.DeadLetterQueue ?? throw new ArgumentException($"'{entityPath}' is a dead-letter queue.", nameof(entityPath))).Snapshot();
    }

    /// <summary>How many messages an entity holds in the given state.</summary>
    public int CountMessages(string entityPath, BrokerMessageState state) =>
        PeekMessages(entityPath).Count(message => message.State == state);

    /// <summary>Every settlement (and refused settlement) so far, in the order the broker processed them.</summary>
    public IReadOnlyList<SettlementRecord> Settlements => _context.Settlements();

    /// <summary>The settlements of one entity (its dead-letter queue is another entity).</summary>
    public IReadOnlyList<SettlementRecord> GetSettlements(string entityPath)
    {
        var path = _runtime.FindStore(entityPath).Path;
        return _context.Settlements().Where(record => string.Equals(record.EntityPath, path, StringComparison.OrdinalIgnoreCase)).ToList();
    }

    /// <summary>How many settlements of an entity had the outcome.</summary>
    public int CountSettlements(string entityPath, SettlementOutcome outcome) =>
        GetSettlements(entityPath).Count(record => record.Outcome == outcome);

    /// <summary>
    /// Waits until the settlement record satisfies <paramref name="condition"/> (checked now and after each
    /// settlement). On time-out the exception lists what was settled.
    /// </summary>
    /// <exception cref="TimeoutException">The condition did not hold within <paramref name="timeout"/>.</exception>
    public async Task WaitForSettlementsAsync(Func<IReadOnlyList<SettlementRecord>, bool> condition, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        try
        {
            await _context.WhenSettlements(condition, cancellationToken).WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException exception)
        {
            var seen = _context.Settlements();
            var lines = seen.Count == 0 ? "none" : string.Join("; ", seen.Select(record => $"{record.EntityPath} #{record.SequenceNumber} {record.Outcome}"));
            throw new TimeoutException($"The settlements did not reach the expected state within {timeout}. Settled so far: {lines}.", exception);
        }
    }

    /// <summary>Waits until <paramref name="count"/> settlements of the entity had the outcome.</summary>
    /// <exception cref="TimeoutException">They did not within <paramref name="timeout"/>.</exception>
    public Task WaitForSettlementsAsync(string entityPath, SettlementOutcome outcome, int count, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var path = _runtime.FindStore(entityPath).Path;
        return WaitForSettlementsAsync(
            records => records.Count(record => record.Outcome == outcome && string.Equals(record.EntityPath, path, StringComparison.OrdinalIgnoreCase)) >= count,
            timeout,
            cancellationToken);
    }

    /// <summary>Stops listening, closes every connection and stops the broker's timers.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _listener?.Close();
            _runtime.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private static int FreeLoopbackPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private void Listen(int port)
    {
        for (var attempt = 1; ; attempt++)
        {
            var candidate = port == 0 ? FreeLoopbackPort() : port;
            var settings = new AmqpSettings { RuntimeProvider = _runtime };
            var sasl = new SaslTransportProvider();
            sasl.Versions.Add(new AmqpVersion(1, 0, 0));
            sasl.AddHandler(new SaslAnonymousHandler("MSSBCBS"));
            settings.TransportProviders.Add(sasl);
            var connectionSettings = new AmqpConnectionSettings
            {
                ContainerId = $"servicebus-test-broker-{candidate}",
                MaxFrameSize = 64 * 1024,
                IdleTimeOut = 4 * 60 * 1000,
            };

            // An IP address, not "localhost": the library binds every interface for "localhost".
            var listener = new AmqpConnectionListener([$"amqp://127.0.0.1:{candidate}"], settings, connectionSettings);
            try
            {
                listener.Open();
                _listener = listener;
                Port = candidate;
                _context.Log($"Listening on 127.0.0.1:{candidate}.");
                return;
            }
            catch (SocketException exception) when (port == 0 && attempt < MaxPortAttempts && exception.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                listener.Close();
            }
        }
    }
}

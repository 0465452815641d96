using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Messaging.ServiceBus;
using Messaging.Tests.Support;
using Messaging.Transports.ServiceBus;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace Messaging.Tests.ServiceBus;

/// <summary>
/// The session-aware worker on the SDK's session processor, driven through the SDK's own test seams (a client that
/// hands out a processor subclass, a session receiver subclass that records settlements): the test broker has no sessions.
/// </summary>
public sealed class ServiceBusSessionWorkerTests : IDisposable
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    private readonly ExportedSpans _capture = new();

    public void Dispose() => _capture.Dispose();

    [Fact]
    public async Task A_session_message_is_handled_in_its_context_and_completed_with_the_options_mapped_onto_the_processor()
    {
        var client = new FakeClient();
        using var host = await StartAsync(client, o =>
        {
            o.Queue = "sessions";
            o.MaxConcurrency = 3;
            o.MaxConcurrentCallsPerSession = 2;
            o.PrefetchCount = 5;
            o.SessionIds.Add("s-1");
            o.SessionIdleTimeout = TimeSpan.FromSeconds(7);
        });
        var seen = new TaskCompletionSource<Observation>(TaskCreationOptions.RunContinuationsAsynchronously);
        Probe(host).Behaviour = (m, _) =>
        {
            seen.TrySetResult(new Observation(0, string.Empty, Activity.Current?.TraceId.ToHexString(), null, Activity.Current?.ParentSpanId.ToHexString(), [], new Dictionary<string, string>(OpenTelemetry.Baggage.Current.GetBaggage()), m.Attempt, m.Redelivered, null, null));
            return Task.CompletedTask;
        };

        var receiver = new FakeSessionReceiver();
        var message = Message(deliveryCount: 2);
        await client.Processor.DeliverAsync(new ProcessSessionMessageEventArgs(message, receiver, CancellationToken.None));
        await host.StopAsync();

        var options = client.Options!;
        Assert.False(options.AutoCompleteMessages);
        Assert.Equal(3, options.MaxConcurrentSessions);
        Assert.Equal(2, options.MaxConcurrentCallsPerSession);
        Assert.Equal(5, options.PrefetchCount);
        Assert.Equal(["s-1"], options.SessionIds);
        Assert.Equal(TimeSpan.FromSeconds(7), options.SessionIdleTimeout);
        var observation = await seen.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", observation.TraceId);
        Assert.Equal("b7ad6b7169203331", observation.ParentSpanId);
        Assert.Equal("acme", observation.Baggage["tenant.id"]);
        Assert.True(observation.Redelivered);
        Assert.Equal(["complete " + message.MessageId], receiver.Settlements);
        var span = Assert.Single(_capture.Exported, a => a.OperationName == "process sessions" && a.GetTagItem("messaging.message.id") as string == message.MessageId);
        Assert.Equal(2, span.GetTagItem("messaging.servicebus.message.delivery_count"));
        Assert.Equal("complete", span.GetTagItem("messaging.servicebus.disposition_status"));
    }

    [Fact]
    public async Task A_lost_session_lock_cancels_the_handler_and_settles_nothing()
    {
        var client = new FakeClient();
        using var host = await StartAsync(client, o => o.Queue = "sessions");
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Probe(host).Behaviour = async (_, ct) =>
        {
            started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            }
            catch (OperationCanceledException)
            {
                cancelled.TrySetResult();
                throw;
            }
        };

        var receiver = new FakeSessionReceiver();
        var message = Message(deliveryCount: 1);
        var args = new LockLosingArgs(message, receiver);
        var delivery = client.Processor.DeliverAsync(args);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await args.LoseLockAsync(message);
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await delivery.WaitAsync(TimeSpan.FromSeconds(10));
        await host.StopAsync();

        Assert.Empty(receiver.Settlements);
        Assert.Equal("revoked", Assert.Single(_capture.Exported, a => a.OperationName == "process sessions" && a.GetTagItem("messaging.message.id") as string == message.MessageId).GetTagItem("error.type"));
    }

    private static Probe Probe(IHost host) => host.Services.GetRequiredService<Probe>();

    private static ServiceBusReceivedMessage Message(int deliveryCount) => ServiceBusModelFactory.ServiceBusReceivedMessage(
        body: BinaryData.FromObjectAsJson(new Order(1, string.Empty, [])),
        messageId: "m-" + Guid.NewGuid().ToString("N"),
        sessionId: "s-1",
        properties: new Dictionary<string, object> { ["traceparent"] = TraceParent, ["baggage"] = "tenant.id=acme" },
        deliveryCount: deliveryCount,
        lockTokenGuid: Guid.NewGuid());

    private static async Task<IHost> StartAsync(FakeClient client, Action<ServiceBusConsumerOptions> configure)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<ServiceBusClient>(client);
        builder.Services.AddSingleton(new Probe());
        builder.Services.AddServiceBusConsumerWorker<SessionWorker>(configure);
        var host = builder.Build();
        await host.StartAsync();
        var processor = await client.Created.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the worker runs on the thread pool
        await processor.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        return host;
    }

    public sealed class SessionWorker(ServiceBusWorkerContext context, Probe probe) : ServiceBusSessionConsumerWorker<Order>(context)
    {
        protected override Task HandleAsync(MessageContext<Order> message, CancellationToken cancellationToken) => probe.OnMessageAsync(message, cancellationToken);
    }

    /// <summary>A real client (it connects only when used) that hands out the test's processor.</summary>
    private sealed class FakeClient() : ServiceBusClient("Endpoint=sb://localhost:1;SharedAccessKeyName=test;SharedAccessKey=test;UseDevelopmentEmulator=true")
    {
        public FakeSessionProcessor Processor { get; private set; } = null!;

        public TaskCompletionSource<FakeSessionProcessor> Created { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ServiceBusSessionProcessorOptions? Options { get; private set; }

        public override ServiceBusSessionProcessor CreateSessionProcessor(string queueName, ServiceBusSessionProcessorOptions? options = null)
        {
            Options = options;
            Processor = new FakeSessionProcessor(this, queueName, options!);
            Created.TrySetResult(Processor);
            return Processor;
        }
    }

    /// <summary>The SDK's processor with receiving replaced: the test delivers the messages.</summary>
    private sealed class FakeSessionProcessor(ServiceBusClient client, string queueName, ServiceBusSessionProcessorOptions options)
        : ServiceBusSessionProcessor(client, queueName, options)
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override Task StartProcessingAsync(CancellationToken cancellationToken = default)
        {
            Started.TrySetResult();
            return Task.CompletedTask;
        }

        public override Task StopProcessingAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task DeliverAsync(ProcessSessionMessageEventArgs args) => OnProcessSessionMessageAsync(args);
    }

    private sealed class FakeSessionReceiver : ServiceBusSessionReceiver
    {
        public ConcurrentQueue<string> Settlements { get; } = new();

        public override string EntityPath => "sessions";

        public override string FullyQualifiedNamespace => "ns.servicebus.windows.net";

        public override Task CompleteMessageAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default) =>
            Record("complete", message);

        public override Task AbandonMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = null, CancellationToken cancellationToken = default) =>
            Record("abandon", message);

        public override Task DeadLetterMessageAsync(ServiceBusReceivedMessage message, string deadLetterReason, string? deadLetterErrorDescription = null, CancellationToken cancellationToken = default) =>
            Record("dead-letter", message);

        private Task Record(string outcome, ServiceBusReceivedMessage message)
        {
            Settlements.Enqueue(outcome + " " + message.MessageId);
            return Task.CompletedTask;
        }
    }

    private sealed class LockLosingArgs(ServiceBusReceivedMessage message, ServiceBusSessionReceiver receiver)
        : ProcessSessionMessageEventArgs(message, receiver, CancellationToken.None)
    {
        public Task LoseLockAsync(ServiceBusReceivedMessage message) =>
            OnSessionLockLostAsync(new SessionLockLostEventArgs(message, DateTimeOffset.UtcNow, new ServiceBusException("lost", ServiceBusFailureReason.SessionLockLost)));
    }
}

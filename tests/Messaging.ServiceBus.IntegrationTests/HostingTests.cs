using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Messaging.ServiceBus;
using Messaging.ServiceBus.TestBroker;
using Messaging.Tests.Support;
using Messaging.Transports.ServiceBus;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Xunit;

namespace Messaging.ServiceBus.IntegrationTests;

/// <summary>Hosts built the way applications build them: publisher, topic subscriptions, forwarding, health.</summary>
public sealed class HostingTests : IDisposable
{
    private readonly ExportedSpans _capture = new();

    public void Dispose() => _capture.Dispose();

    [Fact]
    public async Task The_publisher_sends_to_a_topic_and_a_worker_on_its_subscription_continues_the_trace_on_the_registered_client()
    {
        await using var harness = await Harness.StartAsync();
        const string Topic = "events";
        harness.Broker.CreateSubscription(Topic, "audit");
        await using var registered = new ServiceBusClient(harness.Broker.ConnectionString);
        var host = await harness.StartWorkerAsync(
            o =>
            {
                o.Queue = Topic;
                o.Subscription = "audit";
            },
            services: s =>
            {
                s.AddSingleton(registered); // as Aspire's AddAzureServiceBusClient registers it
                s.AddServiceBusPublisher();
            });
        await WaitHealthyAsync(host, nameof(OrderWorker));
        var publisher = host.Services.GetRequiredService<IServiceBusPublisher>();
        var results = new ConcurrentQueue<(PublishResult Result, Order Order)>();
        for (var i = 0; i < 3; i++)
        {
            await TestData.UnderRootAsync(i, async order => results.Enqueue((await publisher.SendMessageAsync(Topic, order), order)));
        }

        await harness.Probe.WaitForAsync(3, Harness.Wait);
        await harness.Broker.WaitForSettlementsAsync(Topic + "/Subscriptions/audit", SettlementOutcome.Completed, 3, Harness.Wait);
        await host.StopAsync();

        foreach (var (result, order) in results)
        {
            Assert.Equal(order.ExpectedTraceId, result.ProducerContext.TraceId.ToHexString());
            Assert.Equal(1, result.Attempts);
            var seen = harness.Probe.Observations.Single(o => o.Index == order.Index);
            Assert.Equal(order.ExpectedTraceId, seen.TraceId);
            Assert.Equal(result.ProducerContext.SpanId.ToHexString(), seen.ParentSpanId);
            Assert.Equal(order.ExpectedBaggage, seen.Baggage);
        }

        Assert.Equal(3, results.Select(r => r.Result.MessageId).Distinct().Count());
        var spans = _capture.Exported.Where(a => a.Kind == ActivityKind.Consumer && a.OperationName == "process " + Topic).ToList();
        Assert.Equal(3, spans.Count);
        Assert.All(spans, a => Assert.Equal("audit", a.GetTagItem("messaging.destination.subscription.name")));
    }

    [Fact]
    public async Task A_received_message_forwarded_from_a_handler_carries_the_handler_context_not_the_original_one()
    {
        await using var harness = await Harness.StartAsync();
        var queue = Harness.NewQueue();
        var next = queue + "-next";
        harness.Broker.CreateQueue(next);
        await using var forward = harness.Client.CreateSender(next);
        MessagingInstrumentation? instrumentation = null;
        var handler = new TaskCompletionSource<(string TraceId, string SpanId)>(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Probe.Behaviour = async (m, ct) =>
        {
            var copy = new ServiceBusMessage(m.GetServiceBusMessage()!); // copies traceparent, Diagnostic-Id, baggage …
            await forward.SendMessageWithContextAsync(copy, instrumentation, ct);
            handler.TrySetResult((Activity.Current!.TraceId.ToHexString(), Activity.Current.SpanId.ToHexString()));
        };
        var host = await harness.StartWorkerAsync(o => o.Queue = queue);
        instrumentation = host.Services.GetRequiredService<MessagingInstrumentation>();

        // A message from a legacy producer: a stale Diagnostic-Id and Correlation-Context next to W3C properties.
        var original = Harness.Message(new Order(1, string.Empty, []));
        original.ApplicationProperties["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        original.ApplicationProperties["Diagnostic-Id"] = "00-11111111111111111111111111111111-2222222222222222-01";
        original.ApplicationProperties["Correlation-Context"] = "stale=1";
        original.ApplicationProperties["baggage"] = "tenant.id=acme";
        await using (var sender = harness.Client.CreateSender(queue))
        {
            await sender.SendMessageAsync(original);
        }

        var (traceId, consumerSpanId) = await handler.Task.WaitAsync(Harness.Wait);
        await harness.Broker.WaitForSettlementsAsync(queue, SettlementOutcome.Completed, 1, Harness.Wait);
        await host.StopAsync();

        var forwarded = Assert.Single(harness.Broker.PeekMessages(next));
        var send = _capture.Exported.Single(a => a.Kind == ActivityKind.Producer && a.OperationName == "send " + next);
        Assert.Equal(consumerSpanId, send.ParentSpanId.ToHexString());
        Assert.Equal($"00-{traceId}-{send.SpanId}-01", forwarded.ApplicationProperties["traceparent"]);
        Assert.NotEqual("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", forwarded.ApplicationProperties["traceparent"]);
        Assert.False(forwarded.ApplicationProperties.ContainsKey("Diagnostic-Id"));
        Assert.False(forwarded.ApplicationProperties.ContainsKey("Correlation-Context"));
        Assert.Equal("tenant.id=acme", forwarded.ApplicationProperties["baggage"]);
        Assert.Equal("m-1", forwarded.MessageId);
    }

    [Fact]
    public async Task A_session_worker_on_a_broker_without_sessions_reports_unhealthy_with_the_processor_error()
    {
        await using var harness = await Harness.StartAsync();
        var host = await harness.StartSessionWorkerAsync(Harness.NewQueue());

        using var timeout = new CancellationTokenSource(Harness.Wait);
        var logged = (await host.Services.GetFakeLogCollector().GetLogsAsync(timeout.Token).FirstAsync(static r => r.Id.Id == 301, timeout.Token)).Message;
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        await host.StopAsync();

        Assert.Contains("AcceptSession", logged, StringComparison.Ordinal);
        var entry = report.Entries[nameof(SessionOrderWorker)];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("cannot receive (AcceptSession", entry.Description, StringComparison.Ordinal);
        Assert.IsType<NotSupportedException>(entry.Exception);
    }

    /// <summary>Waits, bounded, until the worker reports Healthy: it starts its processor in the background after the host started.</summary>
    private static Task WaitHealthyAsync(Microsoft.Extensions.Hosting.IHost host, string name) => WorkerHealth.HealthyAsync(host.Services, name);
}

public sealed class SessionOrderWorker(ServiceBusWorkerContext context, Probe probe) : ServiceBusSessionConsumerWorker<Order>(context)
{
    protected override Task HandleAsync(MessageContext<Order> message, CancellationToken cancellationToken) => probe.OnMessageAsync(message, cancellationToken);
}

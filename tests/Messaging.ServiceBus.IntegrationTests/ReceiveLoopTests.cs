using System.Diagnostics;
using Azure.Messaging.ServiceBus;
using Messaging.ServiceBus.TestBroker;
using Messaging.Tests.Support;
using Messaging.Transports.ServiceBus;
using OpenTelemetry;
using Xunit;

namespace Messaging.ServiceBus.IntegrationTests;

/// <summary>
/// A receive loop of the application's own (a <c>ServiceBusReceiver</c>, no worker), instrumented by hand as the
/// transport's README shows: <see cref="ServiceBusMessaging.CreateIncoming"/> and
/// <see cref="MessagingInstrumentation.StartConsumer(in IncomingMessage)"/>, over real AMQP 1.0 through the SDK.
/// </summary>
public sealed class ReceiveLoopTests : IDisposable
{
    private readonly ExportedSpans _capture = new();

    public void Dispose() => _capture.Dispose();

    [Fact]
    public async Task A_pull_receiver_continues_the_senders_trace_and_baggage_in_its_handler_and_keeps_none_of_it_afterwards()
    {
        await using var harness = await Harness.StartAsync();
        var queue = Harness.NewQueue();
        var instrumentation = new MessagingInstrumentation();
        await using var sender = harness.Client.CreateSender(queue);
        Order? sent = null;
        await TestData.UnderRootAsync(3, order => sender.SendMessageWithContextAsync(Harness.Message(sent = order), instrumentation));

        await using var receiver = harness.Client.CreateReceiver(queue);
        var received = await receiver.ReceiveMessageAsync(Harness.Wait);
        Assert.NotNull(received);

        string? handlerTraceId;
        Dictionary<string, string> handlerBaggage;
        var incoming = ServiceBusMessaging.CreateIncoming(
            received.ApplicationProperties,
            receiver.EntityPath,
            received.MessageId,
            received.DeliveryCount,
            received.EnqueuedTime,
            correlationId: received.CorrelationId,
            bodySize: received.Body.ToMemory().Length,
            fullyQualifiedNamespace: receiver.FullyQualifiedNamespace);
        using (var scope = instrumentation.StartConsumer(incoming))
        {
            handlerTraceId = Activity.Current?.TraceId.ToHexString();
            handlerBaggage = new Dictionary<string, string>(Baggage.Current.GetBaggage());
            await receiver.CompleteMessageAsync(received);
            Assert.Equal(ParentingMode.Child, scope.Parenting);
        }

        Assert.Null(Activity.Current);
        Assert.Equal(0, Baggage.Current.Count);
        Assert.NotNull(sent);
        Assert.Equal(sent.ExpectedTraceId, handlerTraceId);
        Assert.Equal(sent.ExpectedBaggage, handlerBaggage);

        var producer = _capture.Exported.Single(a => a.Kind == ActivityKind.Producer && a.OperationName == "send " + queue);
        var consumer = _capture.Exported.Single(a => a.Kind == ActivityKind.Consumer && a.OperationName == "process " + queue);
        Assert.Equal((producer.TraceId, producer.SpanId), (consumer.TraceId, consumer.ParentSpanId));
        var link = Assert.Single(consumer.Links).Context;
        Assert.Equal((producer.TraceId, producer.SpanId), (link.TraceId, link.SpanId));
        Assert.Equal("servicebus", consumer.GetTagItem("messaging.system"));
        Assert.Equal(queue, consumer.GetTagItem("messaging.destination.name"));
        Assert.Equal("m-3", consumer.GetTagItem("messaging.message.id"));
        Assert.Equal(1, consumer.GetTagItem("messaging.servicebus.message.delivery_count"));
        Assert.Equal([SettlementOutcome.Completed], harness.Broker.GetSettlements(queue).Select(s => s.Outcome));
    }
}

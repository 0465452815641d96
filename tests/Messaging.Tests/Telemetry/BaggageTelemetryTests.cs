using System.Diagnostics;
using System.Text;
using Messaging.Tests.Core;
using Messaging.Tests.Support;
using Messaging.Transports.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using OpenTelemetry;
using Xunit;

namespace Messaging.Tests.Telemetry;

public sealed class BaggageTelemetryTests
{
    [Fact]
    public void Allow_listed_keys_become_consumer_span_attributes_and_nothing_else_does()
    {
        var destination = CoreTestSupport.UniqueDestination();
        using var spans = CoreTestSupport.SpansOf(destination);
        var instrumentation = CoreTestSupport.Instrumentation(o =>
        {
            o.BaggageTelemetry.Keys.Add("tenant.*");
            o.BaggageTelemetry.Keys.Add("cohort");
        });
        var message = CoreTestSupport.Incoming(destination, CoreTestSupport.RemoteContext(), "tenant.id=acme,tenant.region=eu,cohort=beta,user.email=a%40b.c,secret=s");

        using (instrumentation.StartConsumer(message))
        {
        }

        var span = Assert.Single(spans.Exported);
        var baggageLike = span.TagObjects.Where(t => !t.Key.StartsWith("messaging.", StringComparison.Ordinal)).ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal(new Dictionary<string, object?> { ["tenant.id"] = "acme", ["tenant.region"] = "eu", ["cohort"] = "beta" }, baggageLike);
    }

    [Fact]
    public void Baggage_telemetry_is_off_by_default_and_producer_spans_need_their_own_switch()
    {
        var destination = CoreTestSupport.UniqueDestination();
        using var spans = CoreTestSupport.SpansOf(destination);
        var off = CoreTestSupport.Instrumentation();
        var producerOn = CoreTestSupport.Instrumentation(o =>
        {
            o.BaggageTelemetry.Keys.Add("tenant.id");
            o.BaggageTelemetry.OnProducerSpans = true;
            o.BaggageTelemetry.AttributePrefix = "baggage.";
        });
        var previous = Baggage.Current;
        Baggage.Current = CoreTestSupport.Bag(("tenant.id", "acme"), ("other", "x"));
        try
        {
            using (off.StartProducer(new OutgoingMessage(CoreTestSupport.TestSystem, destination), new DictionaryHeaderCarrier(new Dictionary<string, object?>())))
            {
            }

            using (producerOn.StartProducer(new OutgoingMessage(CoreTestSupport.TestSystem, destination), new DictionaryHeaderCarrier(new Dictionary<string, object?>())))
            {
            }

            using (off.StartConsumer(CoreTestSupport.Incoming(destination, CoreTestSupport.RemoteContext(), "tenant.id=acme")))
            {
            }
        }
        finally
        {
            Baggage.Current = previous;
        }

        var stopped = spans.Exported;
        Assert.Equal(3, stopped.Count);
        Assert.Null(stopped[0].GetTagItem("tenant.id"));
        Assert.Equal("acme", stopped[1].GetTagItem("baggage.tenant.id"));
        Assert.Null(stopped[1].GetTagItem("baggage.other"));
        Assert.DoesNotContain(stopped[2].TagObjects, t => t.Key.Contains("tenant", StringComparison.Ordinal));
    }

    [Fact]
    public void Metric_tags_respect_the_allow_list_and_the_cardinality_cap()
    {
        const int cap = 50;
        var destination = CoreTestSupport.UniqueDestination();
        using var metrics = new MetricCollector<double>(Instruments.ProcessDuration);
        var instrumentation = CoreTestSupport.Instrumentation(o =>
        {
            o.BaggageTelemetry.Keys.Add("tenant.id");
            o.BaggageTelemetry.InMetrics = true;
            o.BaggageTelemetry.OnConsumerSpans = false;
            o.BaggageTelemetry.MaxDistinctValuesPerKey = cap;
        });

        for (var i = 0; i < 10_000; i++)
        {
            using (instrumentation.StartConsumer(CoreTestSupport.Incoming(destination, CoreTestSupport.RemoteContext(), $"tenant.id=t{i},user.id=u{i}")))
            {
            }
        }

        var recorded = CoreTestSupport.Of(metrics, destination);
        Assert.Equal(10_000, recorded.Count);
        Assert.All(recorded, m => Assert.False(m.Tags.ContainsKey("user.id")));
        var values = recorded.Select(m => (string)m.Tags["tenant.id"]!).Distinct().ToList();
        Assert.Equal(cap + 1, values.Count);
        Assert.Contains(BaggageTelemetryOptions.OverflowValue, values);
        Assert.Equal(10_000 - cap, recorded.Count(m => Equals(m.Tags["tenant.id"], BaggageTelemetryOptions.OverflowValue)));
    }

    [Fact]
    public void Header_size_histogram_records_the_exact_injected_byte_count()
    {
        var destination = CoreTestSupport.UniqueDestination();
        using var metrics = new MetricCollector<long>(Instruments.HeaderSize);
        var instrumentation = CoreTestSupport.Instrumentation();
        var previous = (Activity.Current, Baggage.Current);
        using var parent = new Activity("known").SetParentId("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").Start();
        Baggage.Current = CoreTestSupport.Bag(("tenant.id", "acme corp"), ("k", "v"));
        var headers = new Dictionary<string, object?>();
        try
        {
            // With nothing listening to the library's source, the current context is injected as is.
            using (instrumentation.StartProducer(new OutgoingMessage(CoreTestSupport.TestSystem, destination), new DictionaryHeaderCarrier(headers)))
            {
            }
        }
        finally
        {
            parent.Stop();
            (Activity.Current, Baggage.Current) = previous;
        }

        var expected = headers.Sum(h => Encoding.UTF8.GetByteCount(h.Key) + Encoding.UTF8.GetByteCount((string)h.Value!));
        Assert.Equal("traceparent".Length + 55 + "baggage".Length + "k=v,tenant.id=acme%20corp".Length, expected);
        var measurement = Assert.Single(CoreTestSupport.Of(metrics, destination));
        Assert.Equal(expected, measurement.Value);
    }

    [Fact]
    public void Per_destination_outbound_policy_applies_to_that_destination_only()
    {
        var instrumentation = CoreTestSupport.Instrumentation(o =>
        {
            var partner = new BaggagePolicy();
            partner.AllowedKeys.Add("tenant.id");
            o.OutboundBaggageByDestination["partner.orders"] = partner;
        });
        var previous = Baggage.Current;
        Baggage.Current = CoreTestSupport.Bag(("tenant.id", "acme"), ("internal.route", "blue"));
        var toPartner = new Dictionary<string, object?>();
        var internalHop = new Dictionary<string, object?>();
        try
        {
            instrumentation.StartProducer(new OutgoingMessage(CoreTestSupport.TestSystem, "partner.orders"), new DictionaryHeaderCarrier(toPartner)).Dispose();
            instrumentation.StartProducer(new OutgoingMessage(CoreTestSupport.TestSystem, "orders"), new DictionaryHeaderCarrier(internalHop)).Dispose();
        }
        finally
        {
            Baggage.Current = previous;
        }

        Assert.Equal("tenant.id=acme", toPartner["baggage"]);
        Assert.Equal("internal.route=blue,tenant.id=acme", internalHop["baggage"]);
    }

    [Fact]
    public async Task Pruned_keys_are_absent_from_the_next_hop_and_the_log_scope_carries_ids_and_allow_listed_baggage()
    {
        var broker = new InMemoryBroker();
        var inbound = TestData.NewQueue();
        var outbound = TestData.NewQueue();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddFakeLogging();
        builder.Services.AddSingleton(broker);
        builder.Services.AddMessaging(o => o.BaggageTelemetry.Keys.Add("tenant.id"));
        builder.Services.AddInMemoryConsumerWorker<ForwardingWorker>(o => o.Queue = inbound);
        builder.Services.AddSingleton(new ForwardingTarget(outbound));
        using var host = builder.Build();
        using var spans = new ExportedSpans();

        await host.StartAsync();
        string? producerTrace = null;
        await Task.Run(async () =>
        {
            Baggage.Current = CoreTestSupport.Bag(("tenant.id", "acme"), ("auth.token", "secret"), ("cohort", "beta"));
            using var root = TestData.Source.StartActivity("root", ActivityKind.Internal, parentContext: default)!;
            producerTrace = root.TraceId.ToHexString();
            await broker.PublishMessageWithContextAsync(inbound, new Order(7, producerTrace, []), new InMemoryMessageProperties { MessageId = "m-7" });
        });

        var forwarded = await broker.ReceiveAsync(outbound, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        broker.Ack(forwarded);
        await host.StopAsync();

        var carrier = new DictionaryHeaderCarrier(forwarded.Headers);
        var baggage = carrier.GetValues("baggage")![0];
        Assert.Equal("cohort=beta,tenant.id=acme", baggage);
        Assert.Equal(producerTrace, carrier.GetValues("traceparent")![0].Split('-')[1]);

        // The scope values in effect when the forwarding handler logged.
        var logged = Assert.Single(
            host.Services.GetFakeLogCollector().GetSnapshot(),
            static r => r.Category!.EndsWith(nameof(ForwardingWorker), StringComparison.Ordinal) && r.Message.StartsWith("forwarding", StringComparison.Ordinal));
        var scope = ScopeValues(logged);
        Assert.Equal(producerTrace, scope["TraceId"]);
        Assert.Equal(32, ((string)scope["TraceId"]!).Length);
        Assert.Equal(16, ((string)scope["SpanId"]!).Length);
        Assert.Equal("m-7", scope["MessageId"]);
        Assert.Equal(inbound, scope["Destination"]);
        Assert.Equal("acme", scope["tenant.id"]);
        Assert.False(scope.ContainsKey("auth.token"));
        Assert.False(scope.ContainsKey("cohort"));
    }

    [Fact]
    public async Task The_log_scope_reaches_the_handler_loggers_of_other_categories_while_the_worker_category_is_filtered_out()
    {
        var broker = new InMemoryBroker();
        var inbound = TestData.NewQueue();
        var handled = new HandledSignal();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddFakeLogging();
        builder.Logging.AddFilter((category, _) => category is null || !category.EndsWith(nameof(OtherCategoryWorker), StringComparison.Ordinal));
        builder.Services.AddSingleton(broker);
        builder.Services.AddSingleton(handled);
        builder.Services.AddInMemoryConsumerWorker<OtherCategoryWorker>(o => o.Queue = inbound);
        using var host = builder.Build();

        await host.StartAsync();
        await broker.PublishMessageWithContextAsync(inbound, new Order(8, string.Empty, []), new InMemoryMessageProperties { MessageId = "m-8" });
        await handled.Done.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await host.StopAsync();

        var logged = Assert.Single(
            host.Services.GetFakeLogCollector().GetSnapshot(),
            static r => r.Category == "Handlers.Orders" && r.Message.StartsWith("forwarding", StringComparison.Ordinal));
        var scope = ScopeValues(logged);
        Assert.Equal("m-8", scope["MessageId"]);
        Assert.Equal(inbound, scope["Destination"]);
    }

    /// <summary>The scope values in effect when <paramref name="record"/> was written; inner scopes win.</summary>
    private static Dictionary<string, object?> ScopeValues(FakeLogRecord record) =>
        record.Scopes
            .OfType<IEnumerable<KeyValuePair<string, object?>>>()
            .SelectMany(static pairs => pairs)
            .GroupBy(static pair => pair.Key, StringComparer.Ordinal)
            .ToDictionary(static g => g.Key, static g => g.Last().Value, StringComparer.Ordinal);

    public sealed class HandledSignal
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Logs from its handler through a category of its own, not the worker's.</summary>
    public sealed class OtherCategoryWorker(InMemoryWorkerContext context, ILoggerFactory loggers, HandledSignal handled) : InMemoryConsumerWorker<Order>(context)
    {
        private readonly ILogger _handlerLog = loggers.CreateLogger("Handlers.Orders");

        protected override Task HandleAsync(MessageContext<Order> message, CancellationToken cancellationToken)
        {
            _handlerLog.LogInformation("forwarding {Index} (handler category)", message.Body.Index);
            handled.Done.TrySetResult();
            return Task.CompletedTask;
        }
    }

    public sealed record ForwardingTarget(string Queue);

    public sealed class ForwardingWorker(InMemoryWorkerContext context, InMemoryBroker broker, ForwardingTarget target, ILogger<ForwardingWorker> log) : InMemoryConsumerWorker<Order>(context)
    {
        protected override async Task HandleAsync(MessageContext<Order> message, CancellationToken cancellationToken)
        {
            log.LogInformation("forwarding {Index}", message.Body.Index);
            MessagingBaggage.Remove("auth.token");
            await broker.PublishMessageWithContextAsync(target.Queue, message.Body, cancellationToken: cancellationToken);
        }
    }
}

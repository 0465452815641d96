using System.Diagnostics;
using Messaging.Transports.InMemory;
using Messaging.Transports.RabbitMq;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Xunit;
using static Messaging.Tests.Core.CoreTestSupport;

namespace Messaging.Tests.Core;

/// <summary>Every public entry point of Messaging.Core rejects invalid arguments with the right exception and name.</summary>
public sealed class ArgumentValidationTests
{
    // ---- MessagingInstrumentation --------------------------------------------------------------------------

    [Fact]
    public void Constructor_rejects_an_undefined_trust()
    {
        var ex = Assert.Throws<ArgumentException>(() => Instrumentation(o => o.Trust = (ContextTrust)42));
        Assert.Contains("Trust has an unknown value '42'.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_rejects_an_undefined_parenting_mode()
    {
        var ex = Assert.Throws<ArgumentException>(() => Instrumentation(o => o.Parenting = (ParentingMode)7));
        Assert.Contains("Parenting has an unknown value '7'.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_validates_the_baggage_policies()
    {
        var ex = Assert.Throws<ArgumentException>(() => Instrumentation(o => o.InboundBaggage.MaxMembers = 0));
        Assert.Contains("InboundBaggage.MaxMembers must be at least 1 (was 0).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_keeps_the_given_settings()
    {
        var propagator = Messaging.Propagation.MessagingPropagators.Parse("b3");
        Func<IncomingMessage, ParentingMode> policy = _ => ParentingMode.Link;
        var instrumentation = new MessagingInstrumentation(new MessagingOptions
        {
            Propagator = propagator,
            Trust = ContextTrust.DropBaggage,
            Parenting = ParentingMode.Link,
            ParentingPolicy = policy,
        });

        Assert.Same(propagator, instrumentation.Propagator);
        Assert.Equal(ContextTrust.DropBaggage, instrumentation.Trust);
        Assert.Equal(ParentingMode.Link, instrumentation.Parenting);
        Assert.Same(policy, instrumentation.ParentingPolicy);
    }

    [Fact]
    public void StartProducer_rejects_null_headers()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => Instrumentation().StartProducer(new OutgoingMessage(TestSystem, "q"), null!));
        Assert.Equal("headers", ex.ParamName);
    }

    [Fact]
    public void StartProducer_rejects_a_default_message()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => Instrumentation().StartProducer(default, Carrier()));
        Assert.Equal("message.System", ex.ParamName);
    }

    [Fact]
    public void StartProducer_rejects_an_empty_system()
    {
        var ex = Assert.Throws<ArgumentException>(() => Instrumentation().StartProducer(new OutgoingMessage(string.Empty, "q"), Carrier()));
        Assert.Equal("message.System", ex.ParamName);
    }

    [Fact]
    public void StartProducer_rejects_a_null_destination_but_accepts_an_empty_one()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => Instrumentation().StartProducer(new OutgoingMessage(TestSystem, null!), Carrier()));
        Assert.Equal("message.Destination", ex.ParamName);

        Instrumentation().StartProducer(new OutgoingMessage(TestSystem, string.Empty), Carrier()).Dispose();
    }

    [Fact]
    public void InjectCurrent_and_Extract_reject_null_headers()
    {
        var instrumentation = Instrumentation();
        Assert.Equal("headers", Assert.Throws<ArgumentNullException>(() => instrumentation.InjectCurrent(null!)).ParamName);
        Assert.Equal("headers", Assert.Throws<ArgumentNullException>(() => instrumentation.Extract(null!)).ParamName);
    }

    [Fact]
    public void StartConsumer_rejects_a_default_message_without_touching_the_ambient_context()
    {
        using var ambient = AmbientSource.StartRoot();
        Baggage.Current = Bag(("outer", "1"));

        var ex = Assert.Throws<ArgumentNullException>(() => Instrumentation().StartConsumer(default));

        Assert.Equal("message.Headers", ex.ParamName);
        Assert.Same(ambient, Activity.Current);
        Assert.Equal("1", Baggage.Current.GetBaggage("outer"));
    }

    [Theory]
    [InlineData(null, "q", typeof(ArgumentNullException), "message.System")]
    [InlineData("", "q", typeof(ArgumentException), "message.System")]
    [InlineData(TestSystem, null, typeof(ArgumentNullException), "message.Destination")]
    public void StartConsumer_rejects_missing_system_or_destination(string? system, string? destination, Type exceptionType, string paramName)
    {
        var message = new IncomingMessage(system!, destination!, Carrier());

        var ex = Assert.Throws(exceptionType, () => Instrumentation().StartConsumer(message));

        Assert.Equal(paramName, ((ArgumentException)ex).ParamName);
    }

    [Fact]
    public void Scope_error_recorders_reject_null_and_empty()
    {
        var instrumentation = Instrumentation();
        using var producer = instrumentation.StartProducer(new OutgoingMessage(TestSystem, "q"), Carrier());
        using var consumer = instrumentation.StartConsumer(new IncomingMessage(TestSystem, "q", Carrier()));

        Assert.Equal("exception", Assert.Throws<ArgumentNullException>(() => producer.RecordException(null!)).ParamName);
        Assert.Equal("exception", Assert.Throws<ArgumentNullException>(() => consumer.RecordException(null!)).ParamName);
        Assert.Equal("errorType", Assert.Throws<ArgumentNullException>(() => consumer.RecordError(null!)).ParamName);
        Assert.Equal("errorType", Assert.Throws<ArgumentException>(() => consumer.RecordError(string.Empty)).ParamName);
    }

    // ---- DictionaryHeaderCarrier and HeaderValues ----------------------------------------------------------

    [Fact]
    public void DictionaryHeaderCarrier_rejects_null_arguments()
    {
        Assert.Equal("headers", Assert.Throws<ArgumentNullException>(() => new DictionaryHeaderCarrier(null!)).ParamName);

        var carrier = Carrier();
        Assert.Equal("name", Assert.Throws<ArgumentNullException>(() => carrier.SetValue(null!, "v")).ParamName);
        Assert.Equal("value", Assert.Throws<ArgumentNullException>(() => carrier.SetValue("n", null!)).ParamName);
        Assert.Equal("name", Assert.Throws<ArgumentNullException>(() => carrier.Remove(null!)).ParamName);
        Assert.Throws<ArgumentNullException>(() => carrier.GetValues(null!));
    }

    [Fact]
    public void DictionaryHeaderCarrier_conversion_failures_read_as_absent()
    {
        var carrier = new DictionaryHeaderCarrier(Headers(("traceparent", "x")), _ => throw new InvalidCastException());

        Assert.Null(carrier.GetValues("traceparent"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(42)]
    [InlineData(3.5)]
    [InlineData(true)]
    public void HeaderValues_reads_unsupported_values_as_absent(object? value)
    {
        Assert.False(HeaderValues.TryGetString(value, out var text));
        Assert.Equal(string.Empty, text);
    }

    // ---- options -------------------------------------------------------------------------------------------

    public static TheoryData<string, Action<ConsumerWorkerOptions>> InvalidWorkerOptions => new()
    {
        { "Queue", o => o.Queue = string.Empty },
        { "Queue", o => o.Queue = "   " },
        { "Queue", o => o.Queue = null! },
        { "MaxConcurrency", o => o.MaxConcurrency = 0 },
        { "MaxConcurrency", o => o.MaxConcurrency = -3 },
        { "PrefetchCount", o => o.PrefetchCount = -1 },
        { "PrefetchCount", o => o.PrefetchCount = 65_536 },
        { "MaxAttempts", o => o.MaxAttempts = 0 },
        { "RetryDelay", o => o.RetryDelay = TimeSpan.FromMilliseconds(-1) },
        { "Serializer", o => o.Serializer = null! },
        { "Trust", o => o.Trust = (ContextTrust)(-1) },
        { "Parenting", o => o.Parenting = (ParentingMode)2 },
    };

    [Theory]
    [MemberData(nameof(InvalidWorkerOptions))]
    public void ConsumerWorkerOptions_Validate_rejects_each_invalid_property(string property, Action<ConsumerWorkerOptions> breakIt)
    {
        var options = new ConsumerWorkerOptions { Queue = "orders" };
        options.Validate();
        breakIt(options);

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.StartsWith($"Invalid ConsumerWorkerOptions: {property} ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConsumerWorkerOptions_Validate_lists_every_problem()
    {
        var options = new ConsumerWorkerOptions { Queue = string.Empty, MaxConcurrency = 0, MaxAttempts = 0 };

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("Queue is required", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxConcurrency must be at least 1 (was 0)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxAttempts must be at least 1 (was 0)", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, Action<MessagingOptions>> InvalidMessagingOptions => new()
    {
        { "Trust", o => o.Trust = (ContextTrust)(-1) },
        { "Parenting", o => o.Parenting = (ParentingMode)2 },
        { "OutboundBaggage.MaxBytes", o => o.OutboundBaggage.MaxBytes = 0 },
        { "InboundBaggage.MaxMembers", o => o.InboundBaggage.MaxMembers = 0 },
        { "BaggageTelemetry.MaxDistinctValuesPerKey", o => o.BaggageTelemetry.MaxDistinctValuesPerKey = 0 },
        { "OutboundBaggageByDestination['partner']", o => o.OutboundBaggageByDestination["partner"] = null! },
    };

    [Theory]
    [MemberData(nameof(InvalidMessagingOptions))]
    public void MessagingOptions_Validate_rejects_each_invalid_property(string property, Action<MessagingOptions> breakIt)
    {
        var options = new MessagingOptions();
        options.Validate();
        breakIt(options);

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.StartsWith($"Invalid MessagingOptions: {property} ", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, Action<RabbitMqPublisherOptions>> InvalidPublisherOptions => new()
    {
        { "MaxChannels", o => o.MaxChannels = 0 },
        { "MaxChannels", o => o.MaxChannels = 1025 },
        { "PublishTimeout", o => o.PublishTimeout = TimeSpan.Zero },
        { "MaxRetryDelay", o => o.MaxRetryDelay = TimeSpan.FromSeconds(-1) },
        { "Serializer", o => o.Serializer = null! },
        { "DeclareQueues[0]", o => o.DeclareQueues.Add(" ") },
    };

    [Theory]
    [MemberData(nameof(InvalidPublisherOptions))]
    public void RabbitMqPublisherOptions_Validate_rejects_each_invalid_property(string property, Action<RabbitMqPublisherOptions> breakIt)
    {
        var options = new RabbitMqPublisherOptions();
        options.Validate();
        breakIt(options);

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.StartsWith($"Invalid RabbitMqPublisherOptions: {property} ", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, Action<RabbitMqConnectionOptions>> InvalidConnectionOptions => new()
    {
        { "Uri", o => o.Uri = new Uri("http://localhost:5672/") },
        { "Uri", o => o.Uri = null! },
        { "Endpoints[1]", o => o.Endpoints.Add(new Uri("tcp://node-2:5672/")) },
        { "ClientProvidedName", o => o.ClientProvidedName = " " },
    };

    [Theory]
    [MemberData(nameof(InvalidConnectionOptions))]
    public void RabbitMqConnectionOptions_Validate_rejects_each_invalid_property(string property, Action<RabbitMqConnectionOptions> breakIt)
    {
        var options = new RabbitMqConnectionOptions();
        options.Endpoints.Add(new Uri("amqps://node-3:5671/"));
        options.Validate();
        breakIt(options);

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        Assert.StartsWith($"Invalid RabbitMqConnectionOptions: {property} ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_publisher_rejects_null_arguments_before_it_connects()
    {
        await using var provider = new ServiceCollection().AddLogging().AddRabbitMqPublisher().BuildServiceProvider();
        var publisher = provider.GetRequiredService<IRabbitMqPublisher>();

        Assert.Equal("exchange", (await Assert.ThrowsAsync<ArgumentNullException>(() => publisher.PublishAsync(null!, "q", ReadOnlyMemory<byte>.Empty))).ParamName);
        Assert.Equal("routingKey", (await Assert.ThrowsAsync<ArgumentNullException>(() => publisher.PublishAsync(string.Empty, null!, ReadOnlyMemory<byte>.Empty))).ParamName);
        Assert.Equal("exchange", (await Assert.ThrowsAsync<ArgumentNullException>(() => publisher.PublishMessageAsync(null!, "q", 42))).ParamName);
    }

    [Fact]
    public void ConsumerWorkerOptions_boundaries_are_valid()
    {
        var options = new ConsumerWorkerOptions { Queue = "q", MaxConcurrency = 1, PrefetchCount = 0, MaxAttempts = 1, RetryDelay = TimeSpan.Zero };
        options.Validate();
        Assert.Equal(4, options.EffectivePrefetchCount);

        options.PrefetchCount = ushort.MaxValue;
        options.Validate();
        Assert.Equal(ushort.MaxValue, options.EffectivePrefetchCount);

        options.PrefetchCount = 0;
        options.MaxConcurrency = 20_000;
        options.Validate();
        Assert.Equal(ushort.MaxValue, options.EffectivePrefetchCount);
    }

    // ---- dependency injection ------------------------------------------------------------------------------

    [Fact]
    public void Service_registrations_reject_null_arguments()
    {
        IServiceCollection services = null!;
        var real = new ServiceCollection();
        var configuration = new ConfigurationBuilder().Build();

        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() => services.AddMessaging()).ParamName);
        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() => services.AddMessaging(configuration)).ParamName);
        Assert.Equal("configuration", Assert.Throws<ArgumentNullException>(() => real.AddMessaging((IConfiguration)null!)).ParamName);
        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() => services.AddInMemoryBroker()).ParamName);
        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() => services.AddInMemoryConsumerWorker<TestWorker>(o => o.Queue = "q")).ParamName);
        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() => services.AddInMemoryConsumerWorker<TestWorker>("w", configuration)).ParamName);
        Assert.Equal("configure", Assert.Throws<ArgumentNullException>(() => real.AddInMemoryConsumerWorker<TestWorker>(null!)).ParamName);
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => real.AddInMemoryConsumerWorker<TestWorker>(" ", configuration)).ParamName);
        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() => services.AddRabbitMqConnection()).ParamName);
        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() => services.AddRabbitMqConnection(configuration)).ParamName);
        Assert.Equal("configuration", Assert.Throws<ArgumentNullException>(() => real.AddRabbitMqConnection((IConfiguration)null!)).ParamName);
        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() => services.AddRabbitMqPublisher()).ParamName);
        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() => services.AddRabbitMqPublisher(configuration)).ParamName);
        Assert.Equal("configuration", Assert.Throws<ArgumentNullException>(() => real.AddRabbitMqPublisher((IConfiguration)null!)).ParamName);
        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() => services.AddRabbitMqConsumerWorker<TestRabbitWorker>(o => o.Queue = "q")).ParamName);
        Assert.Equal("services", Assert.Throws<ArgumentNullException>(() => services.AddRabbitMqConsumerWorker<TestRabbitWorker>("w", configuration)).ParamName);
        Assert.Equal("configure", Assert.Throws<ArgumentNullException>(() => real.AddRabbitMqConsumerWorker<TestRabbitWorker>(null!)).ParamName);
    }

    [Fact]
    public void A_worker_name_taken_by_another_worker_type_is_refused_at_registration()
    {
        var services = new ServiceCollection().AddInMemoryConsumerWorker<TestWorker>("orders", configuration: null, o => o.Queue = "a");

        var ex = Assert.Throws<ArgumentException>(() => services.AddInMemoryConsumerWorker<OtherTestWorker>("orders", configuration: null, o => o.Queue = "b"));

        Assert.Equal("name", ex.ParamName);
        Assert.Contains("already registered", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddMessaging_validates_the_options_when_they_are_resolved()
    {
        using var provider = new ServiceCollection()
            .AddMessaging(o =>
            {
                o.Propagator = Messaging.Propagation.MessagingPropagators.CreateDefault();
                o.OutboundBaggage.MaxMembers = 0;
            })
            .BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<MessagingInstrumentation>());
        Assert.Contains("OutboundBaggage.MaxMembers", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_worker_validates_its_options_when_it_is_resolved()
    {
        using var provider = new ServiceCollection()
            .AddMessaging(o => o.Propagator = Messaging.Propagation.MessagingPropagators.CreateDefault())
            .AddInMemoryConsumerWorker<TestWorker>(o =>
            {
                o.Queue = "orders";
                o.MaxAttempts = 0;
            })
            .BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredKeyedService<ConsumerWorker>(nameof(TestWorker)));
        Assert.Contains("MaxAttempts", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Provider_builder_extensions_reject_null_builders()
    {
        Assert.Equal("builder", Assert.Throws<ArgumentNullException>(() => ((TracerProviderBuilder)null!).AddMessagingInstrumentation()).ParamName);
        Assert.Equal("builder", Assert.Throws<ArgumentNullException>(() => ((MeterProviderBuilder)null!).AddMessagingInstrumentation()).ParamName);
    }

    // ---- worker base classes -------------------------------------------------------------------------------

    [Fact]
    public void A_worker_takes_its_name_and_options_from_its_context()
    {
        using var provider = new ServiceCollection()
            .AddLogging()
            .AddMessaging(o => o.Propagator = Messaging.Propagation.MessagingPropagators.CreateDefault())
            .AddInMemoryConsumerWorker<TestWorker>("eu-orders", configuration: null, o => o.Queue = "orders.eu")
            .BuildServiceProvider();

        var worker = Assert.IsType<TestWorker>(provider.GetRequiredKeyedService<ConsumerWorker>("eu-orders"));

        Assert.Equal("eu-orders", worker.Name);
        Assert.Equal("orders.eu", worker.QueueName);
        Assert.Same(provider.GetRequiredService<MessagingInstrumentation>(), worker.Engine);
        Assert.Same(worker, provider.GetServices<IHostedService>().OfType<ConsumerWorker>().Single());
    }

    [Fact]
    public void Worker_constructors_reject_a_null_context()
    {
        Assert.Equal("context", Assert.Throws<ArgumentNullException>(() => new TestWorker(null!)).ParamName);
        Assert.Equal("context", Assert.Throws<ArgumentNullException>(() => new TestRabbitWorker(null!)).ParamName);
    }

    [Fact]
    public void ReceivedMessage_rejects_a_message_without_headers()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => new TestReceivedMessage(default));
        Assert.Equal("message.Headers", ex.ParamName);
    }

    private static DictionaryHeaderCarrier Carrier() => new(Headers());

    private sealed class TestWorker(InMemoryWorkerContext context) : InMemoryConsumerWorker<string>(context)
    {
        public string QueueName => Options.Queue;

        public MessagingInstrumentation Engine => Instrumentation;

        protected override Task HandleAsync(MessageContext<string> message, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class OtherTestWorker(InMemoryWorkerContext context) : InMemoryConsumerWorker<string>(context)
    {
        protected override Task HandleAsync(MessageContext<string> message, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class TestRabbitWorker(RabbitMqWorkerContext context) : RabbitMqConsumerWorker<string>(context)
    {
        protected override Task HandleAsync(MessageContext<string> message, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class TestReceivedMessage(IncomingMessage message) : ReceivedMessage(message, ReadOnlyMemory<byte>.Empty)
    {
        public override ValueTask AckAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public override ValueTask DeadLetterAsync(string reason, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public override ValueTask RequeueAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}

using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Messaging.Benchmarks.Common;
using Messaging.Transports.RabbitMq;
using OpenTelemetry.Context;
using OpenTelemetry.Context.Propagation;
using OpenTelemetry.Trace;

namespace Messaging.Benchmarks.Micro;

/// <summary>
/// Consumer side per message, on a header table as RabbitMQ delivers it (traceparent and baggage as UTF-8 byte
/// arrays): extract, parenting, CONSUMER span, attach and detach of the message's context.
/// </summary>
[MemoryDiagnoser]
public class ConsumerBenchmarks
{
    // The async-local slot OpenTelemetry.Api keeps Baggage.Current's holder in.
    private const string BaggageSlot = "otel.baggage";

    private TracerProvider? _provider;
    private MessagingInstrumentation _instrumentation = null!;
    private TextMapPropagator _bare = null!;
    private Dictionary<string, object?> _headers = null!;
    private ActivityContext _producer;

    /// <summary>Gets or sets the number of baggage entries the message carries.</summary>
    [Params(0, 5)]
    public int Baggage { get; set; }

    /// <summary>Gets or sets a value indicating whether an SDK tracer provider (AlwaysOn, no-op processor) listens.</summary>
    [Params(false, true)]
    public bool Listener { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the calling flow inherited a baggage holder: OpenTelemetry creates one
    /// in a flow the first time <c>Baggage.Current</c> is assigned there. The worker's dispatch flow never has one (it
    /// starts cleared); a flow that has one pays for two execution-context changes per message, because the library
    /// gives each message a holder of its own instead of writing into the inherited one.
    /// </summary>
    [Params(false, true)]
    public bool InheritedHolder { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (Listener)
        {
            _provider = Tracing.CreateProvider();
        }

        Activity.Current = null;
        OpenTelemetry.Baggage.Current = default; // creates a holder in this flow
        if (!InheritedHolder)
        {
            RuntimeContext.SetValue(BaggageSlot, null);
        }

        _instrumentation = new MessagingInstrumentation();
        _bare = MicroFixtures.CreateBarePropagator();
        _producer = MicroFixtures.RandomContext();
        _headers = MicroFixtures.DeliveredHeaders(_producer, Baggage);

        // Sanity: same trace, this message's baggage while the scope is open, nothing afterwards; no Activity without a listener.
        using (var scope = _instrumentation.StartConsumer(Incoming()))
        {
            if ((scope.Activity is null) == Listener)
            {
                throw new InvalidOperationException($"Listener={Listener} but the CONSUMER span is {(scope.Activity is null ? "missing" : "present")}.");
            }

            if (scope.RemoteContext.TraceId != _producer.TraceId || OpenTelemetry.Baggage.Current.Count != Baggage
                || (Listener && Activity.Current?.TraceId != _producer.TraceId))
            {
                throw new InvalidOperationException("The consumer scope did not continue the producer's context.");
            }
        }

        var bare = _bare.Extract(default, _headers, MicroFixtures.BareGetter);
        if (bare.ActivityContext.TraceId != _producer.TraceId || bare.Baggage.Count != Baggage)
        {
            throw new InvalidOperationException("The bare propagators did not extract the producer's context.");
        }

        if (Activity.Current is not null || OpenTelemetry.Baggage.Current.Count != 0)
        {
            throw new InvalidOperationException("The consumer scope leaked its context.");
        }

        if ((RuntimeContext.GetValue(BaggageSlot) is not null) != InheritedHolder)
        {
            throw new InvalidOperationException($"InheritedHolder={InheritedHolder} but the flow's baggage holder is {(InheritedHolder ? "missing" : "present")}.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _provider?.Dispose();

    /// <summary>The library: carrier over the delivered table, StartConsumer (extract, parenting, span, attach), Dispose (detach).</summary>
    [Benchmark]
    public ActivityContext Library_Consumer()
    {
        using var scope = _instrumentation.StartConsumer(Incoming());
        return scope.RemoteContext;
    }

    /// <summary>Bare OpenTelemetry propagators: Extract alone.</summary>
    [Benchmark]
    public PropagationContext Bare_Extract() => _bare.Extract(default, _headers, MicroFixtures.BareGetter);

    /// <summary><see cref="ActivitySource.StartActivity(string, ActivityKind, ActivityContext, IEnumerable{KeyValuePair{string, object?}}?, IEnumerable{ActivityLink}?, DateTimeOffset)"/> with a known parent, then Dispose.</summary>
    [Benchmark]
    public Activity? Bare_StartActivity()
    {
        using var activity = Tracing.BenchSource.StartActivity("process orders", ActivityKind.Consumer, _producer);
        return activity;
    }

    /// <summary>The baseline of the acceptance ratio: bare Extract, then StartActivity under the extracted parent, Dispose.</summary>
    [Benchmark(Baseline = true)]
    public PropagationContext Bare_ExtractAndStartActivity()
    {
        var context = _bare.Extract(default, _headers, MicroFixtures.BareGetter);
        using (Tracing.BenchSource.StartActivity("process orders", ActivityKind.Consumer, context.ActivityContext))
        {
        }

        return context;
    }

    /// <summary>
    /// The hand-written equivalent of the whole scope: Extract, StartActivity with the same semantic-convention tags as
    /// the library's CONSUMER span, Baggage.Current set and restored. Library_Consumer / this = the library's own overhead.
    /// </summary>
    [Benchmark]
    public PropagationContext Bare_HandWritten()
    {
        var previous = OpenTelemetry.Baggage.Current;
        var context = _bare.Extract(default, _headers, MicroFixtures.BareGetter);
        OpenTelemetry.Baggage.Current = context.Baggage;
        using (var activity = Tracing.BenchSource.StartActivity("process orders", ActivityKind.Consumer, context.ActivityContext))
        {
            if (activity is { IsAllDataRequested: true })
            {
                MicroFixtures.SetConsumerTags(activity);
            }
        }

        OpenTelemetry.Baggage.Current = previous;
        return context;
    }

    /// <summary>The message as <c>RabbitMqConsumerWorker</c> describes a delivery to the pipeline.</summary>
    private IncomingMessage Incoming() =>
        new("rabbitmq", MicroFixtures.Destination, RabbitMqHeaders.CreateCarrier(_headers))
        {
            OperationName = "process",
            MessageId = MicroFixtures.MessageId,
            RoutingKey = MicroFixtures.Destination,
            BodySize = 256,
            ServerAddress = "localhost",
            ServerPort = 5672,
        };
}

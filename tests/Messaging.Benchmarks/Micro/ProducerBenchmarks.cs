using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Messaging.Benchmarks.Common;
using Messaging.Transports.RabbitMq;
using OpenTelemetry.Context.Propagation;
using OpenTelemetry.Trace;

namespace Messaging.Benchmarks.Micro;

/// <summary>
/// Producer side per message: a fresh AMQP header table, PRODUCER span and injection of trace context and baggage.
/// The producer runs under an ambient parent context (an incoming request, say) — also without a listener, where the
/// library must still inject the ambient context.
/// </summary>
[MemoryDiagnoser]
public class ProducerBenchmarks
{
    private TracerProvider? _provider;
    private Activity? _ambient;
    private MessagingInstrumentation _instrumentation = null!;
    private TextMapPropagator _bare = null!;
    private OutgoingMessage _message;
    private IDictionary<string, object?>? _last;

    /// <summary>Gets or sets the number of ambient baggage entries.</summary>
    [Params(0, 5)]
    public int Baggage { get; set; }

    /// <summary>Gets or sets a value indicating whether an SDK tracer provider (AlwaysOn, no-op processor) listens.</summary>
    [Params(false, true)]
    public bool Listener { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (Listener)
        {
            _provider = Tracing.CreateProvider();
        }

        _instrumentation = new MessagingInstrumentation();
        _bare = MicroFixtures.CreateBarePropagator();
        _message = new OutgoingMessage("rabbitmq", MicroFixtures.Destination)
        {
            OperationName = "publish",
            MessageId = MicroFixtures.MessageId,
            RoutingKey = MicroFixtures.Destination,
            BodySize = 256,
        };

        // The ambient context the producer publishes under: a plain started Activity (no listener needed) + baggage.
        Activity.Current = null;
        _ambient = new Activity("ambient request")
            .SetParentId(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded)
            .Start();
        OpenTelemetry.Baggage.Current = MicroFixtures.CreateBaggage(Baggage);

        // Sanity: the library injects, and without a listener it creates no Activity.
        var headers = new Dictionary<string, object?>(StringComparer.Ordinal);
        using (var scope = _instrumentation.StartProducer(_message, RabbitMqHeaders.CreateCarrier(headers)))
        {
            if ((scope.Activity is null) == Listener)
            {
                throw new InvalidOperationException($"Listener={Listener} but the PRODUCER span is {(scope.Activity is null ? "missing" : "present")}.");
            }
        }

        Check(headers);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // The ambient context must still have been in place during the measured iterations.
        if (_last is not null)
        {
            Check(_last);
        }

        _ambient?.Stop();
        _provider?.Dispose();
    }

    /// <summary>The library: carrier over a fresh header table, StartProducer (span + inject), Dispose.</summary>
    [Benchmark]
    public IDictionary<string, object?> Library_Producer()
    {
        var headers = new Dictionary<string, object?>(StringComparer.Ordinal);
        using (_instrumentation.StartProducer(_message, RabbitMqHeaders.CreateCarrier(headers)))
        {
        }

        return _last = headers;
    }

    /// <summary>Bare OpenTelemetry propagators: inject the current context and baggage into a fresh header table.</summary>
    [Benchmark]
    public IDictionary<string, object?> Bare_Inject()
    {
        var headers = new Dictionary<string, object?>(StringComparer.Ordinal);
        _bare.Inject(new PropagationContext(Activity.Current?.Context ?? default, OpenTelemetry.Baggage.Current), headers, MicroFixtures.BareSetter);
        return headers;
    }

    /// <summary><see cref="ActivitySource.StartActivity(string, ActivityKind)"/> alone (null without a listener), then Dispose.</summary>
    [Benchmark]
#pragma warning disable CA1822 // BenchmarkDotNet needs instance methods.
    public Activity? Bare_StartActivity()
    {
        using var activity = Tracing.BenchSource.StartActivity("send orders", ActivityKind.Producer);
        return activity;
    }
#pragma warning restore CA1822

    /// <summary>The hand-written equivalent: StartActivity, inject its context (or the ambient one) and baggage, Dispose.</summary>
    [Benchmark(Baseline = true)]
    public IDictionary<string, object?> Bare_StartActivityAndInject()
    {
        var headers = new Dictionary<string, object?>(StringComparer.Ordinal);
        using (var activity = Tracing.BenchSource.StartActivity("send orders", ActivityKind.Producer))
        {
            var context = activity?.Context ?? Activity.Current?.Context ?? default;
            _bare.Inject(new PropagationContext(context, OpenTelemetry.Baggage.Current), headers, MicroFixtures.BareSetter);
        }

        return headers;
    }

    /// <summary>
    /// The hand-written equivalent: StartActivity with the same semantic-convention tags as the library's PRODUCER span,
    /// inject. Library_Producer / this = the library's own overhead.
    /// </summary>
    [Benchmark]
    public IDictionary<string, object?> Bare_HandWritten()
    {
        var headers = new Dictionary<string, object?>(StringComparer.Ordinal);
        using (var activity = Tracing.BenchSource.StartActivity("send orders", ActivityKind.Producer))
        {
            if (activity is { IsAllDataRequested: true })
            {
                MicroFixtures.SetProducerTags(activity);
            }

            var context = activity?.Context ?? Activity.Current?.Context ?? default;
            _bare.Inject(new PropagationContext(context, OpenTelemetry.Baggage.Current), headers, MicroFixtures.BareSetter);
        }

        return headers;
    }

    private void Check(IDictionary<string, object?> headers)
    {
        if (!headers.ContainsKey("traceparent") || headers.ContainsKey("baggage") != (Baggage > 0))
        {
            throw new InvalidOperationException(
                $"Unexpected injected headers ({string.Join(", ", headers.Keys)}): the ambient context was not in place.");
        }
    }
}

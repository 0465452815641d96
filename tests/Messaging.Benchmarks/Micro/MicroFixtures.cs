using System.Diagnostics;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace Messaging.Benchmarks.Micro;

/// <summary>Shared inputs of the micro benchmarks.</summary>
internal static class MicroFixtures
{
    public const string Destination = "orders";
    public const string MessageId = "6f1c0c4a7d2e4b0e9a3b5c7d9e1f2a3b";

    /// <summary>The bare OpenTelemetry propagators (OpenTelemetry.Api), as a user would compose them by hand.</summary>
    public static TextMapPropagator CreateBarePropagator() =>
        new CompositeTextMapPropagator(new TextMapPropagator[] { new TraceContextPropagator(), new BaggagePropagator() });

    /// <summary>Setter for the bare propagator: writes strings into the AMQP header table.</summary>
    public static readonly Action<IDictionary<string, object?>, string, string> BareSetter = static (headers, name, value) => headers[name] = value;

    /// <summary>Getter for the bare propagator: exact key, string or UTF-8 bytes (how RabbitMQ delivers strings).</summary>
    public static readonly Func<IDictionary<string, object?>, string, IEnumerable<string>?> BareGetter = static (headers, name) =>
        headers.TryGetValue(name, out var value)
            ? value switch
            {
                string s => [s],
                byte[] bytes => [Encoding.UTF8.GetString(bytes)],
                _ => null,
            }
            : null;

    /// <summary>Baggage with <paramref name="count"/> entries shaped like real ones (tenant, user, flags, …).</summary>
    public static Baggage CreateBaggage(int count)
    {
        var baggage = default(Baggage);
        for (var i = 0; i < count; i++)
        {
            baggage = baggage.SetBaggage($"app.key{i}", $"value-{i} with space+plus");
        }

        return baggage;
    }

    /// <summary>The W3C baggage header text for <see cref="CreateBaggage"/>, as a producer would have sent it.</summary>
    public static string BaggageHeader(int count)
    {
        var parts = new List<string>();
        for (var i = 0; i < count; i++)
        {
            parts.Add($"app.key{i}=value-{i}%20with%20space+plus");
        }

        return string.Join(',', parts);
    }

    /// <summary>A header table as RabbitMQ.Client 7 delivers it: every string value arrives as a UTF-8 byte array.</summary>
    public static Dictionary<string, object?> DeliveredHeaders(ActivityContext producer, int baggageCount)
    {
        var traceparent = $"00-{producer.TraceId.ToHexString()}-{producer.SpanId.ToHexString()}-01";
        var headers = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["traceparent"] = Encoding.UTF8.GetBytes(traceparent),
        };
        if (baggageCount > 0)
        {
            headers["baggage"] = Encoding.UTF8.GetBytes(BaggageHeader(baggageCount));
        }

        return headers;
    }

    /// <summary>The tags the library sets on its PRODUCER span for <see cref="ProducerBenchmarks"/>' message.</summary>
    public static void SetProducerTags(Activity activity)
    {
        activity.SetTag("messaging.system", "rabbitmq");
        activity.SetTag("messaging.destination.name", Destination);
        activity.SetTag("messaging.operation.type", "send");
        activity.SetTag("messaging.operation.name", "publish");
        activity.SetTag("messaging.message.id", MessageId);
        activity.SetTag("messaging.rabbitmq.destination.routing_key", Destination);
        activity.SetTag("messaging.message.body.size", 256L);
    }

    /// <summary>The tags the library sets on its CONSUMER span for <see cref="ConsumerBenchmarks"/>' message.</summary>
    public static void SetConsumerTags(Activity activity)
    {
        activity.SetTag("messaging.system", "rabbitmq");
        activity.SetTag("messaging.destination.name", Destination);
        activity.SetTag("messaging.operation.type", "process");
        activity.SetTag("messaging.operation.name", "process");
        activity.SetTag("messaging.message.id", MessageId);
        activity.SetTag("messaging.rabbitmq.destination.routing_key", Destination);
        activity.SetTag("server.address", "localhost");
        activity.SetTag("messaging.message.body.size", 256L);
        activity.SetTag("server.port", 5672);
    }

    public static ActivityContext RandomContext() =>
        new(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, traceState: null, isRemote: true);
}

using System.Diagnostics;
using System.Text;
using Messaging.Benchmarks.Common;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Messaging.Benchmarks.EndToEnd;

/// <summary>
/// The <see cref="Mode.Otel"/> reference: what a careful hand-written instrumentation over RabbitMQ.Client does per
/// message with the bare OpenTelemetry API — PRODUCER span with the messaging semantic-convention tags and inject;
/// extract, CONSUMER span with the same tags under the extracted parent, baggage made current and restored.
/// </summary>
internal static class HandTracing
{
    /// <summary>OpenTelemetry.Api's W3C trace context and baggage propagators (also what the client peer is given).</summary>
    internal static readonly TextMapPropagator Propagator =
        new CompositeTextMapPropagator(new TextMapPropagator[] { new TraceContextPropagator(), new BaggagePropagator() });

    internal static readonly Action<IDictionary<string, object?>, string, string> Setter = static (headers, name, value) => headers[name] = value;

    internal static readonly Func<IDictionary<string, object?>?, string, IEnumerable<string>?> Getter = static (headers, name) =>
        headers is not null && headers.TryGetValue(name, out var value)
            ? value switch
            {
                string s => [s],
                byte[] bytes => [Encoding.UTF8.GetString(bytes)],
                _ => null,
            }
            : null;

    public static async Task<string?> PublishAsync(IChannel channel, string queue, string sendName, BasicProperties properties, ReadOnlyMemory<byte> body)
    {
        var headers = new Dictionary<string, object?>(StringComparer.Ordinal);
        using var activity = Tracing.BenchSource.StartActivity(sendName, ActivityKind.Producer);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "rabbitmq");
            activity.SetTag("messaging.destination.name", queue);
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("messaging.operation.name", "publish");
            activity.SetTag("messaging.message.id", properties.MessageId);
            activity.SetTag("messaging.rabbitmq.destination.routing_key", queue);
            activity.SetTag("messaging.message.body.size", (long)body.Length);
        }

        Propagator.Inject(new PropagationContext(activity?.Context ?? Activity.Current?.Context ?? default, Baggage.Current), headers, Setter);
        properties.Headers = headers;
        await channel.BasicPublishAsync(string.Empty, queue, mandatory: false, properties, body).ConfigureAwait(false);
        return headers.TryGetValue("traceparent", out var traceparent) ? traceparent as string : null;
    }

    /// <summary>The <see cref="Mode.Spans"/> floor: the publish inside a bare PRODUCER span, nothing injected.</summary>
    public static async Task PublishInBareSpanAsync(IChannel channel, string queue, string sendName, BasicProperties properties, ReadOnlyMemory<byte> body)
    {
        using var activity = Tracing.BenchSource.StartActivity(sendName, ActivityKind.Producer);
        await channel.BasicPublishAsync(string.Empty, queue, mandatory: false, properties, body).ConfigureAwait(false);
    }

    /// <summary>The <see cref="Mode.Spans"/> floor: <paramref name="handler"/> inside a bare CONSUMER span, nothing extracted.</summary>
    public static async Task ConsumeInBareSpanAsync(string processName, Func<Task> handler)
    {
        using var activity = Tracing.BenchSource.StartActivity(processName, ActivityKind.Consumer);
        await handler().ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="handler"/> inside a CONSUMER span continuing the message's context.</summary>
    public static async Task ConsumeAsync(BasicDeliverEventArgs delivery, string queue, string processName, AmqpTcpEndpoint endpoint, Func<Task> handler)
    {
        var context = Propagator.Extract(default, delivery.BasicProperties.Headers, Getter);
        var previousBaggage = Baggage.Current;
        Baggage.Current = context.Baggage;
        try
        {
            using var activity = Tracing.BenchSource.StartActivity(processName, ActivityKind.Consumer, context.ActivityContext);
            if (activity is { IsAllDataRequested: true })
            {
                activity.SetTag("messaging.system", "rabbitmq");
                activity.SetTag("messaging.destination.name", queue);
                activity.SetTag("messaging.operation.type", "process");
                activity.SetTag("messaging.operation.name", "process");
                activity.SetTag("messaging.message.id", delivery.BasicProperties.MessageId);
                activity.SetTag("messaging.rabbitmq.destination.routing_key", delivery.RoutingKey);
                activity.SetTag("server.address", endpoint.HostName);
                activity.SetTag("messaging.message.body.size", (long)delivery.Body.Length);
                activity.SetTag("server.port", endpoint.Port);
            }

            await handler().ConfigureAwait(false);
        }
        finally
        {
            Baggage.Current = previousBaggage;
        }
    }
}

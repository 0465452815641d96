// One traced round trip through RabbitMQ, built from the packages alone: a publish under a root span with baggage,
// a ConsumerWorker that receives it. Exits 0 when the consumer saw the producer's trace and the baggage, 1 otherwise.
using System.Diagnostics;
using Messaging;
using Messaging.Transports.RabbitMq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Trace;

var uri = Environment.GetEnvironmentVariable("RABBITMQ_URI") ?? "amqp://guest:guest@localhost:5672/";
var queue = $"package-smoke-{Guid.NewGuid():N}";
var spans = new List<Activity>();
using var source = new ActivitySource("PackageSmoke");

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSingleton<Received>();
builder.Services.AddRabbitMqConnection(o => o.Uri = new Uri(uri));
builder.Services.AddRabbitMqConsumerWorker<SmokeWorker>(o => o.Queue = queue);
builder.Services.AddRabbitMqPublisher(o => o.DeclareQueues.Add(queue));
builder.Services.AddOpenTelemetry().WithTracing(t => t.AddSource(source.Name).AddMessagingInstrumentation().AddInMemoryExporter(spans));
using var host = builder.Build();
await host.StartAsync();

string traceId;
using (var root = source.StartActivity("smoke", ActivityKind.Internal) ?? throw new InvalidOperationException("no listener on the smoke source"))
{
    traceId = root.TraceId.ToHexString();
    Baggage.SetBaggage("tenant.id", "smoke");
    await host.Services.GetRequiredService<IRabbitMqPublisher>().PublishMessageAsync(string.Empty, queue, new SmokeMessage("hello"));
}

var received = await host.Services.GetRequiredService<Received>().Message.Task.WaitAsync(TimeSpan.FromSeconds(30));
await host.StopAsync();

var ok = received.TraceId == traceId && received.Tenant == "smoke" && received.Text == "hello";
Console.WriteLine($"package smoke: sent trace {traceId}, received trace {received.TraceId}, tenant.id={received.Tenant ?? "(none)"}, spans exported {spans.Count}: {(ok ? "ok" : "FAILED")}");
return ok ? 0 : 1;

internal sealed record SmokeMessage(string Text);

internal sealed record Observed(string? TraceId, string? Tenant, string Text);

internal sealed class Received
{
    public TaskCompletionSource<Observed> Message { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

internal sealed class SmokeWorker(RabbitMqWorkerContext context, Received received) : RabbitMqConsumerWorker<SmokeMessage>(context)
{
    protected override Task HandleAsync(MessageContext<SmokeMessage> message, CancellationToken cancellationToken)
    {
        received.Message.TrySetResult(new Observed(Activity.Current?.TraceId.ToHexString(), Baggage.GetBaggage("tenant.id"), message.Body.Text));
        return Task.CompletedTask;
    }
}

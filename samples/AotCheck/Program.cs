// Native AOT check: a ConsumerWorker on the in-memory transport with a source-generated JSON serializer receives one
// message published under a root span with baggage. Exits 0 when the handler saw the producer's trace and baggage.
using System.Diagnostics;
using System.Text.Json.Serialization;
using Messaging;
using Messaging.Transports.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Trace;

var queue = "aot-check";
var serializer = new JsonMessageSerializer(AotCheckJsonContext.Default);
var spans = new List<Activity>();
using var source = new ActivitySource("AotCheck");

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSingleton<Received>();
builder.Services.AddInMemoryBroker();
builder.Services.AddInMemoryConsumerWorker<CheckWorker>(o =>
{
    o.Queue = queue;
    o.Serializer = serializer;
});
builder.Services.AddOpenTelemetry().WithTracing(t => t.AddSource(source.Name).AddMessagingInstrumentation().AddInMemoryExporter(spans));
using var host = builder.Build();
await host.StartAsync();

string traceId;
using (var root = source.StartActivity("aot-check", ActivityKind.Internal) ?? throw new InvalidOperationException("no listener on the check's source"))
{
    traceId = root.TraceId.ToHexString();
    Baggage.SetBaggage("tenant.id", "aot");
    await host.Services.GetRequiredService<InMemoryBroker>().PublishMessageWithContextAsync(queue, new CheckMessage("hello"), serializer: serializer);
}

var received = await host.Services.GetRequiredService<Received>().Message.Task.WaitAsync(TimeSpan.FromSeconds(30));
await host.StopAsync();

var ok = received.TraceId == traceId && received.Tenant == "aot" && received.Text == "hello";
Console.WriteLine($"aot check: sent trace {traceId}, received trace {received.TraceId}, tenant.id={received.Tenant ?? "(none)"}, spans exported {spans.Count}, dynamic code {(System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported ? "supported" : "not supported")}: {(ok ? "ok" : "FAILED")}");
return ok ? 0 : 1;

internal sealed record CheckMessage(string Text);

internal sealed record Observed(string? TraceId, string? Tenant, string Text);

[JsonSerializable(typeof(CheckMessage))]
internal sealed partial class AotCheckJsonContext : JsonSerializerContext;

internal sealed class Received
{
    public TaskCompletionSource<Observed> Message { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

internal sealed class CheckWorker(InMemoryWorkerContext context, Received received) : InMemoryConsumerWorker<CheckMessage>(context)
{
    protected override Task HandleAsync(MessageContext<CheckMessage> message, CancellationToken cancellationToken)
    {
        received.Message.TrySetResult(new Observed(Activity.Current?.TraceId.ToHexString(), Baggage.GetBaggage("tenant.id"), message.Body.Text));
        return Task.CompletedTask;
    }
}

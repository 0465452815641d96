using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Messaging.Benchmarks.EndToEnd;

/// <summary>
/// The <see cref="Mode.MassTransit"/> peer: a host with MassTransit as its documentation sets it up
/// (<c>AddMassTransit</c>, a consumer registered in DI, a RabbitMQ receive endpoint on the trial's queue with the same
/// prefetch and a concurrent message limit equal to the concurrency), started like the library's worker host. The
/// publisher sends through the bus to that queue; the broker confirms every send (MassTransit's default).
/// </summary>
internal sealed class MassTransitPeer : IAsyncDisposable
{
    /// <summary>MassTransit's activity source, for the tracer provider.</summary>
    public const string SourceName = "MassTransit";

    private const string ActivityIdHeader = "MT-Activity-Id";

    private readonly IHost _host;

    private MassTransitPeer(IHost host, ISendEndpoint endpoint)
    {
        _host = host;
        Endpoint = endpoint;
    }

    /// <summary>Gets the send endpoint of the trial's queue.</summary>
    public ISendEndpoint Endpoint { get; }

    public static async Task<MassTransitPeer> StartAsync(Uri uri, string queue, int concurrency, int prefetch, TrialState state)
    {
        var user = Uri.UnescapeDataString(uri.UserInfo.Split(':')[0]);
        var password = Uri.UnescapeDataString(uri.UserInfo.Split(':').ElementAtOrDefault(1) ?? string.Empty);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton(state);
        builder.Services.AddMassTransit(x =>
        {
            x.AddConsumer<MassTransitBenchConsumer>();
            x.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(uri.Host, (ushort)uri.Port, "/", h =>
                {
                    h.Username(user);
                    h.Password(password);
                });
                cfg.ReceiveEndpoint(queue, e =>
                {
                    e.ConfigureConsumeTopology = false;
                    e.PrefetchCount = prefetch;
                    e.ConcurrentMessageLimit = concurrency;
                    e.ConfigureConsumer<MassTransitBenchConsumer>(context);
                });
            });
        });
        builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
        var host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        var bus = host.Services.GetRequiredService<IBus>();
        var endpoint = await bus.GetSendEndpoint(new Uri("queue:" + queue)).ConfigureAwait(false);
        return new MassTransitPeer(host, endpoint);
    }

    /// <summary>
    /// Sends one message; returns the context MassTransit propagated for it, the id of its send span in W3C form (which
    /// MassTransit writes into its own <c>MT-Activity-Id</c> header, not into <c>traceparent</c>).
    /// </summary>
    public async Task<string?> SendAsync(int index, ReadOnlyMemory<byte> body)
    {
        SendContext? sent = null;
        await Endpoint.Send(new MassTransitBenchMessage(index, body.ToArray()), context => sent = context).ConfigureAwait(false);
        return sent?.Headers.Get<string>(ActivityIdHeader);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _host.Dispose();
    }
}

/// <summary>The message MassTransit sends: the index (the harness's message id) and the same body as every mode.</summary>
public sealed record MassTransitBenchMessage(int Index, byte[] Body);

/// <summary>The consumer: records the message and <see cref="Activity.Current"/>'s trace id, nothing else.</summary>
public sealed class MassTransitBenchConsumer(TrialState state) : IConsumer<MassTransitBenchMessage>
{
    public Task Consume(ConsumeContext<MassTransitBenchMessage> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        state.Consumed(context.Message.Index, Activity.Current?.TraceId ?? default);
        return Task.CompletedTask;
    }
}

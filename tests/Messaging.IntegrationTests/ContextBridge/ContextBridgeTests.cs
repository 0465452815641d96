using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Messaging.IntegrationTests.Broker;
using Messaging.IntegrationTests.RabbitMq;
using Messaging.Propagation;
using Messaging.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using OpenTelemetry.Trace;
using RabbitMQ.Client;
using Xunit;

namespace Messaging.IntegrationTests.ContextBridge;

/// <summary>
/// Context beyond the queue, against the real broker and real loopback HTTP servers: a handler's plain HttpClient
/// call carries the message's trace and exact baggage (with and without OpenTelemetry's HttpClient instrumentation),
/// and a publish made while an ASP.NET Core request is handled carries that request's trace and baggage (with and
/// without OpenTelemetry's ASP.NET Core instrumentation).
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class ContextBridgeTests(BrokerFixture fixture) : IDisposable
{
    // Every character class the wire has to get right: '+', '%', ';', ',', non-ASCII (2, 3 and 4 UTF-8 bytes).
    private static readonly Dictionary<string, string> Tricky = new()
    {
        ["tenant.id"] = "a+b%c;d,e",
        ["user.name"] = "Zoë-東京-🚀",
        ["plain"] = "1",
    };

    private readonly ExportedSpans _capture = new();

    public void Dispose() => _capture.Dispose();

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task A_handlers_HttpClient_call_carries_the_messages_trace_and_exact_baggage_in_exactly_one_header(bool httpInstrumentation, bool policyPropagator)
    {
        using var tracing = httpInstrumentation
            ? new ExportedSpans(configure: static b => b.AddMessagingInstrumentation().AddHttpClientInstrumentation())
            : null;
        var requests = new ConcurrentQueue<RecordedRequest>();
        await using var server = await LoopbackServer.StartAsync(app => app.MapGet("/echo", (HttpRequest r) =>
        {
            requests.Enqueue(RecordedRequest.From(r));
            return Results.Ok();
        }));
        // The opt-in propagators apply the outbound policy (here: no user.* member leaves): without OpenTelemetry's
        // HttpClient instrumentation on this handler only; with it, as OpenTelemetry's default propagator (process-wide,
        // restored below), which the instrumentation injects with.
        var policy = new MessagingInstrumentation(new MessagingOptions { OutboundBaggage = { DeniedKeys = { "user.*" } } });
        var defaultPropagator = Propagators.DefaultTextMapPropagator;
        if (policyPropagator && httpInstrumentation)
        {
            Sdk.SetDefaultTextMapPropagator(policy.CreatePolicyPropagator(new CompositeTextMapPropagator([new TraceContextPropagator(), new BaggagePropagator()])));
        }

        using var restore = new OnDispose(() => Sdk.SetDefaultTextMapPropagator(defaultPropagator));
        using var http = policyPropagator && !httpInstrumentation
            ? new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = policy.CreateHttpPropagator() }) { BaseAddress = server.Address }
            : new HttpClient { BaseAddress = server.Address };
        var seen = new ConcurrentQueue<(int Index, string TraceId, string SpanId)>();
        var probe = new Probe
        {
            Behaviour = async (m, ct) =>
            {
                seen.Enqueue((m.Body.Index, Activity.Current!.TraceId.ToHexString(), Activity.Current.SpanId.ToHexString()));
                (await http.GetAsync(new Uri("echo?i=" + m.Body.Index.ToString(CultureInfo.InvariantCulture), UriKind.Relative), ct)).EnsureSuccessStatusCode();
            },
        };
        const int count = 3;
        var queue = TestData.NewQueue();
        await using var connection = await fixture.ConnectAsync();
        await using var channel = await RabbitHosts.ConfirmingChannelAsync(connection, queue);
        using var host = RabbitHosts.Build(fixture, probe, o =>
        {
            o.Queue = queue;
            o.MaxConcurrency = 2;
        });
        await host.StartAsync();
        await TestData.PublishTracedAsync(count, order => channel.PublishMessageWithContextAsync(string.Empty, queue, order).AsTask(), baggageFor: Baggage);
        await probe.WaitForAsync(count);
        await host.StopAsync();

        Assert.Equal(count, requests.Count);
        foreach (var o in probe.Observations)
        {
            var request = requests.Single(r => r.Query == "?i=" + o.Index.ToString(CultureInfo.InvariantCulture));
            var (_, consumerTrace, consumerSpan) = seen.Single(s => s.Index == o.Index);

            // One trace: the message's, continued through the consumer span into the request.
            Assert.Equal(o.BodyTraceId, consumerTrace);
            var traceparent = Assert.Single(request.Values("traceparent"));
            Assert.Equal(o.BodyTraceId, traceparent.Split('-')[1]);
            if (tracing is not null)
            {
                // With the instrumentation the request's parent is its CLIENT span, a child of the consumer span.
                var client = Assert.Single(tracing.Exported, s => s.Kind == ActivityKind.Client && s.SpanId.ToHexString() == traceparent.Split('-')[2]);
                Assert.Equal(consumerSpan, client.ParentSpanId.ToHexString());
            }

            // Exactly one baggage header (W3C on .NET 10), no duplicated member, the exact values.
            var baggageHeaders = request.Headers.Keys.Where(IsBaggageHeader).ToList();
            Assert.Equal(["baggage"], baggageHeaders.Select(h => h.ToLowerInvariant()));
            var header = Assert.Single(request.Values(baggageHeaders[0]));
            var expected = Baggage(o.Index);
            if (policyPropagator)
            {
                expected.Remove("user.name");
            }

            Assert.Equal(expected.Count, header.Split(',').Length);
            Assert.Equal(Sorted(expected), Sorted(LoopbackServer.DecodeBaggage(header)));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_publish_while_an_ASP_NET_Core_request_is_handled_carries_the_requests_trace_and_baggage(bool aspNetCoreInstrumentation)
    {
        using var tracing = aspNetCoreInstrumentation
            ? Sdk.CreateTracerProviderBuilder().AddAspNetCoreInstrumentation().AddMessagingInstrumentation().Build()
            : null;
        var queue = TestData.NewQueue();
        await using var connection = await fixture.ConnectAsync();
        await using var channel = await RabbitHosts.ConfirmingChannelAsync(connection, queue);
        var probe = new Probe();
        using var worker = RabbitHosts.Build(fixture, probe, o => o.Queue = queue);
        await worker.StartAsync();
        await using var server = await LoopbackServer.StartAsync(
            app => app.MapPost("/orders/{index:int}", async (int index, HttpContext context) =>
            {
                // What the endpoint sees is what it publishes: the request's trace (and its baggage, whichever API holds it).
                var trace = Activity.Current?.TraceId.ToHexString() ?? string.Empty;
                await channel.PublishMessageWithContextAsync(string.Empty, queue, new Order(index, trace, []), cancellationToken: context.RequestAborted);
                return Results.Json(new { trace, activityBaggage = Activity.Current?.Baggage.Count() ?? 0, otelBaggage = OpenTelemetry.Baggage.Current.Count });
            }));

        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        var expected = new Dictionary<string, string>(Tricky) { ["request"] = "in" };
        using (var http = new HttpClient { BaseAddress = server.Address })
        using (var request = new HttpRequestMessage(HttpMethod.Post, new Uri("orders/7", UriKind.Relative)))
        {
            request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");
            request.Headers.TryAddWithoutValidation("baggage", LoopbackServer.EncodeBaggage(expected));
            using var response = await http.SendAsync(request);
            response.EnsureSuccessStatusCode();
            var endpoint = await response.Content.ReadFromJsonAsync<EndpointView>();

            // Which API held the request's baggage: the activity always (ASP.NET Core's hosting), Baggage.Current only
            // with OpenTelemetry's instrumentation — the publish must carry it either way, once.
            Assert.Equal(traceId, endpoint!.Trace);
            Assert.Equal(expected.Count, endpoint.ActivityBaggage);
            Assert.Equal(aspNetCoreInstrumentation ? expected.Count : 0, endpoint.OtelBaggage);
        }

        await probe.WaitForAsync(1);
        await worker.StopAsync();

        var o = Assert.Single(probe.Observations);
        Assert.Equal(traceId, o.TraceId);
        Assert.Equal(traceId, o.HeaderTraceParent!.Split('-')[1]);
        Assert.Equal(Sorted(expected), Sorted(o.Baggage));
    }

    private static Dictionary<string, string> Baggage(int index) =>
        new(Tricky) { ["msg"] = index.ToString(CultureInfo.InvariantCulture) };

    private static bool IsBaggageHeader(string name) =>
        name.Equals("baggage", StringComparison.OrdinalIgnoreCase) || name.Equals("Correlation-Context", StringComparison.OrdinalIgnoreCase);

    private static SortedDictionary<string, string> Sorted(IEnumerable<KeyValuePair<string, string>> items) =>
        new(items.ToDictionary(i => i.Key, i => i.Value), StringComparer.Ordinal);

    private sealed record EndpointView(string Trace, int ActivityBaggage, int OtelBaggage);
}

/// <summary>A Kestrel host on 127.0.0.1 with an ephemeral port.</summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<LoopbackServer> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new LoopbackServer(app, new Uri(address + "/"));
    }

    /// <summary>Encodes a W3C baggage header with the library's propagator.</summary>
    public static string EncodeBaggage(IReadOnlyDictionary<string, string> items)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        MessagingPropagators.CreateDefault().Inject(
            new PropagationContext(default, OpenTelemetry.Baggage.Create(items.ToDictionary(i => i.Key, i => i.Value))),
            headers,
            static (h, n, v) => h[n] = v);
        return headers["baggage"];
    }

    /// <summary>Decodes a W3C baggage header the way a W3C-conformant receiver does (the library's own propagator).</summary>
    public static IReadOnlyDictionary<string, string> DecodeBaggage(string header)
    {
        var headers = new Dictionary<string, string>(StringComparer.Ordinal) { ["baggage"] = header };
        var context = MessagingPropagators.CreateDefault().Extract(default, headers, static (h, n) => h.TryGetValue(n, out var v) ? [v] : null);
        return context.Baggage.GetBaggage();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The query and headers of one request as the server received them.</summary>
internal sealed record RecordedRequest(string Query, IReadOnlyDictionary<string, IReadOnlyList<string>> Headers)
{
    public static RecordedRequest From(HttpRequest request) =>
        new(
            request.QueryString.Value ?? string.Empty,
            request.Headers.ToDictionary(h => h.Key, h => (IReadOnlyList<string>)[.. h.Value.Select(v => v ?? string.Empty)], StringComparer.OrdinalIgnoreCase));

    public IReadOnlyList<string> Values(string name) => Headers.TryGetValue(name, out var v) ? v : [];
}

/// <summary>Runs an action when disposed: restores process-wide state a test changed.</summary>
internal sealed class OnDispose(Action action) : IDisposable
{
    public void Dispose() => action();
}

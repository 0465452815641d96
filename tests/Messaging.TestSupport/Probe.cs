using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;

namespace Messaging.Tests.Support;

public sealed record Order(int Index, string ExpectedTraceId, Dictionary<string, string> ExpectedBaggage);

/// <summary>What a handler saw, copied while it ran.</summary>
public sealed record Observation(
    int Index,
    string BodyTraceId,
    string? TraceId,
    string? SpanId,
    string? ParentSpanId,
    IReadOnlyList<ActivityLink> Links,
    IReadOnlyDictionary<string, string> Baggage,
    int Attempt,
    bool Redelivered,
    string? HeaderTraceParent,
    object? ScopedService);

/// <summary>Shared between a test and the worker in its host: records observations, runs an optional behaviour.</summary>
public sealed class Probe
{
    private readonly Recorded<Observation> _observations = new();

    public Func<MessageContext<Order>, CancellationToken, Task>? Behaviour { get; set; }

    public IReadOnlyCollection<Observation> Observations => _observations.Items;

    public async Task OnMessageAsync(MessageContext<Order> message, CancellationToken cancellationToken)
    {
        var activity = Activity.Current;
        var traceparent = message.Headers.GetValues("traceparent") is { Count: > 0 } v ? v[0] : null;
        var observation = new Observation(
            message.Body.Index,
            message.Body.ExpectedTraceId,
            activity?.TraceId.ToHexString(),
            activity?.SpanId.ToHexString(),
            activity is null || activity.ParentSpanId == default ? null : activity.ParentSpanId.ToHexString(),
            activity is null ? [] : [.. activity.Links],
            new Dictionary<string, string>(Baggage.Current.GetBaggage()),
            message.Attempt,
            message.Redelivered,
            traceparent,
            message.Services.GetService<ScopedMarker>());
        try
        {
            if (Behaviour is { } behaviour)
            {
                await behaviour(message, cancellationToken);
            }
        }
        finally
        {
            _observations.Add(observation);
        }
    }

    public Task WaitForAsync(int count, TimeSpan? timeout = null) => _observations.WaitForAsync(count, timeout);
}

public sealed class ScopedMarker
{
    public Guid Id { get; } = Guid.NewGuid();
}

using System.Collections.Concurrent;
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
    private readonly ConcurrentQueue<Observation> _observations = new();
    private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];
    private readonly object _gate = new();
    private int _count;

    public Func<MessageContext<Order>, CancellationToken, Task>? Behaviour { get; set; }

    public IReadOnlyCollection<Observation> Observations => _observations;

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
            Record(observation);
        }
    }

    public Task WaitForAsync(int count, TimeSpan? timeout = null)
    {
        lock (_gate)
        {
            if (_count >= count)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, done));
            return done.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        }
    }

    private void Record(Observation observation)
    {
        _observations.Enqueue(observation);
        List<TaskCompletionSource> ready = [];
        lock (_gate)
        {
            _count++;
            _waiters.RemoveAll(w =>
            {
                if (w.Count <= _count)
                {
                    ready.Add(w.Done);
                    return true;
                }

                return false;
            });
        }

        ready.ForEach(static d => d.TrySetResult());
    }
}

public sealed class ScopedMarker
{
    public Guid Id { get; } = Guid.NewGuid();
}

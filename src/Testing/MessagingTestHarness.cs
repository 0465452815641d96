using System.Diagnostics;
using System.Globalization;
using System.Text;
using Messaging.Testing.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;

namespace Messaging.Testing;

/// <summary>
/// The test harness of one host: what its workers handled (<see cref="Consumed"/>), what its engine published
/// (<see cref="Published"/>), and the library's spans and metrics exported to memory. Register it with
/// <see cref="MessagingTestHarnessExtensions.AddMessagingTestHarness"/> next to the host's own registrations, and
/// start the host with <see cref="MessagingTestHarnessExtensions.StartMessagingTestHarnessAsync"/>.
/// </summary>
/// <remarks>
/// <see cref="Consumed"/> and <see cref="Published"/> are this host's only, even when several hosts run in one test
/// process. Spans and metrics come from OpenTelemetry providers listening to the library's process-wide
/// <see cref="ActivitySource"/> and <see cref="System.Diagnostics.Metrics.Meter"/>, so with hosts running in parallel
/// they include the others'.
/// </remarks>
public sealed class MessagingTestHarness
{
    private static readonly TimeSpan WorkerPollInterval = TimeSpan.FromMilliseconds(20);

    private readonly IServiceProvider _services;
    private readonly HarnessState _state;

    internal MessagingTestHarness(IServiceProvider services, HarnessState state)
    {
        _services = services;
        _state = state;
        Consumed = new ConsumedMessages(this, state.Observer.Consumed);
        Published = new PublishedMessages(this, state.Observer.Published);
    }

    /// <summary>Gets the messages the host's workers handled and settled.</summary>
    public ConsumedMessages Consumed { get; }

    /// <summary>Gets the publishes the host's engine started.</summary>
    public PublishedMessages Published { get; }

    /// <summary>Gets how long a wait lasts when the call gives no timeout.</summary>
    public TimeSpan Timeout => _state.Options.Timeout;

    /// <summary>Gets the spans of the library's activity source exported so far (PRODUCER and CONSUMER; a copy).</summary>
    public IReadOnlyList<Activity> ExportedSpans => _state.Spans.Snapshot();

    internal TimeProvider TimeProvider => _state.Options.TimeProvider;

    /// <summary>Collects the library's metrics now and returns their current (cumulative) values.</summary>
    /// <returns>One snapshot per metric of the <see cref="MessagingTelemetry.MeterName"/> meter that has been recorded.</returns>
    public IReadOnlyList<MetricSnapshot> CollectMetrics()
    {
        var provider = _services.GetService<MeterProvider>()
            ?? throw new MessagingTestHarnessException("The host has no OpenTelemetry MeterProvider: was the host built from the services AddMessagingTestHarness was called on?");
        _state.Metrics.Clear();
        provider.ForceFlush();

        // A periodic export may have run in between: with cumulative values the last snapshot of a metric is the newest.
        return [.. _state.Metrics.Snapshot()
            .Where(static m => string.Equals(m.MeterName, MessagingTelemetry.MeterName, StringComparison.Ordinal))
            .GroupBy(static m => m.Name, StringComparer.Ordinal)
            .Select(static g => g.Last())];
    }

    /// <summary>
    /// Collects the library's metrics and returns one metric's value over the points that carry every tag given: the
    /// total of a counter, or the number of measurements of a histogram. 0 when nothing was recorded.
    /// </summary>
    /// <param name="metricName">For example <c>messaging.consumer.settled.messages</c>.</param>
    /// <param name="tags">Tags a point must carry, values compared as invariant strings (for example <c>messaging.settlement</c> = <c>dead_letter</c>).</param>
    /// <returns>The value.</returns>
    public long GetMetricValue(string metricName, params KeyValuePair<string, object?>[] tags)
    {
        ArgumentException.ThrowIfNullOrEmpty(metricName);
        ArgumentNullException.ThrowIfNull(tags);
        var metric = CollectMetrics().FirstOrDefault(m => string.Equals(m.Name, metricName, StringComparison.Ordinal));
        if (metric is null)
        {
            return 0;
        }

        long total = 0;
        foreach (var point in metric.MetricPoints)
        {
            if (!HasTags(point, tags))
            {
                continue;
            }

            total += metric.MetricType switch
            {
                MetricType.LongSum or MetricType.LongSumNonMonotonic => point.GetSumLong(),
                MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => (long)point.GetSumDouble(),
                MetricType.Histogram or MetricType.ExponentialHistogram => point.GetHistogramCount(),
                MetricType.LongGauge => point.GetGaugeLastValueLong(),
                _ => (long)point.GetGaugeLastValueDouble(),
            };
        }

        return total;
    }

    /// <summary>
    /// Waits until every consumer worker of the host is subscribed to its queue (its health check would report
    /// Healthy). A message published to a RabbitMQ queue before its worker declared it is lost, so publish after this.
    /// </summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout"/> when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when every worker is subscribed.</returns>
    /// <exception cref="MessagingTestHarnessException">A worker failed, or was not subscribed in time; the message names each with its state.</exception>
    public async Task WaitForWorkersAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var limit = Limit(timeout);
        var workers = _services.GetServices<IHostedService>().OfType<ConsumerWorker>().ToArray();
        var started = TimeProvider.GetTimestamp();
        while (true)
        {
            if (workers.FirstOrDefault(static w => w.ExecuteTask is { IsFaulted: true }) is { } failed)
            {
                throw new MessagingTestHarnessException($"Worker '{failed.Name}' failed: {failed.Health.Description}", failed.ExecuteTask!.Exception!.GetBaseException());
            }

            if (workers.All(static w => w.Health.Subscribed))
            {
                return;
            }

            if (TimeProvider.GetElapsedTime(started) >= limit)
            {
                var states = workers.Select(static w => $"'{w.Name}': {(w.Health.Subscribed ? "subscribed" : "not subscribed")} — {w.Health.Description}"
                    + (w.Health.Exception is { } ex ? $" ({ex.GetType().FullName}: {ex.Message})" : string.Empty));
                throw new MessagingTestHarnessException(
                    $"Timed out after {Describe.Seconds(limit)} waiting for the host's workers to subscribe:\n  - " + string.Join("\n  - ", states));
            }

            // The workers' health has no change notification: look again shortly (on the real clock, so a fake clock
            // given to the harness only moves the deadline).
            await Task.Delay(WorkerPollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    internal static Func<IReadOnlyList<T>, IReadOnlyList<T>?> First<T>(Func<T, bool> predicate) =>
        items =>
        {
            foreach (var item in items)
            {
                if (predicate(item))
                {
                    return [item];
                }
            }

            return null;
        };

    internal async Task<IReadOnlyList<T>> WaitAsync<T>(
        Recording<T> recording,
        Func<IReadOnlyList<T>, IReadOnlyList<T>?> condition,
        string expectation,
        TimeSpan? timeout,
        CancellationToken cancellationToken)
        where T : class
    {
        var limit = Limit(timeout);
        var found = await recording.WaitAsync(condition, limit, TimeProvider, cancellationToken).ConfigureAwait(false);
        return found ?? throw new MessagingTestHarnessException($"Timed out after {Describe.Seconds(limit)} waiting for {expectation}.\n{SeenReport()}");
    }

    internal async Task<bool> AnyAsync<T>(Recording<T> recording, Func<T, bool> predicate, TimeSpan? timeout, CancellationToken cancellationToken)
        where T : class =>
        await recording.WaitAsync(First(predicate), Limit(timeout), TimeProvider, cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>Fails when the host's engine is not the one <c>AddMessaging</c> built with the harness observing it.</summary>
    internal void EnsureObserving()
    {
        var engine = _services.GetService<MessagingInstrumentation>();
        if (engine is null || !ReferenceEquals(engine.Observer, _state.Observer))
        {
            throw new MessagingTestHarnessException(
                "The harness cannot see this host's messages: its MessagingInstrumentation was not built by services.AddMessaging(...) "
                + "(it was registered as an instance or a factory of its own). Configure it through AddMessaging's options instead.");
        }
    }

    /// <summary>What the harness saw: handled, being handled, published; for timeout messages.</summary>
    internal string SeenReport()
    {
        var text = new StringBuilder();
        Describe.List(text, "Handled", [.. _state.Observer.Consumed.Snapshot().Select(static m => m.Summary())]);
        Describe.List(text, "Being handled", _state.Observer.InProgress());
        Describe.List(text, "Published", [.. _state.Observer.Published.Snapshot().Select(static m => m.ToString())]);
        if (_state.Observer.Failures.Count > 0)
        {
            Describe.List(text, "Recording failures", [.. _state.Observer.Failures.Select(static e => e.ToString())]);
        }

        return text.ToString().TrimEnd('\n');
    }

    private static bool HasTags(MetricPoint point, KeyValuePair<string, object?>[] tags)
    {
        foreach (var wanted in tags)
        {
            var found = false;
            foreach (var tag in point.Tags)
            {
                if (string.Equals(tag.Key, wanted.Key, StringComparison.Ordinal)
                    && string.Equals(Convert.ToString(tag.Value, CultureInfo.InvariantCulture), Convert.ToString(wanted.Value, CultureInfo.InvariantCulture), StringComparison.Ordinal))
                {
                    found = true;
                    break;
                }
            }

            if (!found)
            {
                return false;
            }
        }

        return true;
    }

    private TimeSpan Limit(TimeSpan? timeout)
    {
        if (timeout is { } given)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(given, TimeSpan.Zero, nameof(timeout));
            return given;
        }

        return Timeout;
    }
}

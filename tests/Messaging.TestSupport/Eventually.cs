using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Messaging.Tests.Support;

/// <summary>
/// Waits, bounded, for the state of a system that raises no event a test could await: the broker (a queue's consumers,
/// a dead-lettered copy, a recovered connection) or a worker's reported health. What happens inside the test's own
/// process is awaited through a completion source instead (see <see cref="Probe.WaitForAsync"/>).
/// </summary>
public static class Eventually
{
    /// <summary>How often the condition is asked again.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    /// <summary>Asks <paramref name="condition"/> until it holds, and throws when <paramref name="timeout"/> passes first.</summary>
    /// <param name="condition">The state asked for; asked at once, then every <see cref="Interval"/>.</param>
    /// <param name="what">What is awaited, for the timeout's message.</param>
    /// <param name="timeout">How long to wait; 30 s when not given.</param>
    /// <param name="describe">What the system looked like at the timeout, for the message; optional.</param>
    /// <returns>A task that completes when the condition holds.</returns>
    /// <exception cref="TimeoutException">The condition did not hold within <paramref name="timeout"/>.</exception>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, Func<string>? describe = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var watch = Stopwatch.StartNew();
        while (!await condition().ConfigureAwait(false))
        {
            if (watch.Elapsed > limit)
            {
                var seen = describe is null ? string.Empty : $" Seen: {describe()}";
                throw new TimeoutException($"Timed out after {limit.TotalSeconds:0.#} s waiting for {what}.{seen}");
            }

            await Task.Delay(Interval).ConfigureAwait(false);
        }
    }

    /// <summary>As <see cref="HoldsAsync(Func{Task{bool}}, string, TimeSpan?, Func{string}?)"/> for a condition asked synchronously.</summary>
    /// <param name="condition">The state asked for.</param>
    /// <param name="what">What is awaited, for the timeout's message.</param>
    /// <param name="timeout">How long to wait; 30 s when not given.</param>
    /// <returns>A task that completes when the condition holds.</returns>
    public static Task HoldsAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return HoldsAsync(() => Task.FromResult(condition()), what, timeout);
    }
}

/// <summary>Waits for workers' health checks: a worker subscribes in the background after its host started.</summary>
public static class WorkerHealth
{
    /// <summary>Waits, bounded, until every named health check (every check, when none is named) reports Healthy.</summary>
    /// <param name="services">The host's services.</param>
    /// <param name="checks">The health check names: the workers' names.</param>
    /// <returns>A task that completes when they are healthy.</returns>
    public static Task HealthyAsync(IServiceProvider services, params string[] checks) => HealthyAsync(services, timeout: null, checks);

    /// <summary>As <see cref="HealthyAsync(IServiceProvider, string[])"/>, with a timeout (30 s when <see langword="null"/>).</summary>
    /// <param name="services">The host's services.</param>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="checks">The health check names: the workers' names.</param>
    /// <returns>A task that completes when they are healthy.</returns>
    public static Task HealthyAsync(IServiceProvider services, TimeSpan? timeout, params string[] checks) =>
        StatusAsync(services, HealthStatus.Healthy, timeout, checks);

    /// <summary>Waits, bounded, until every named health check reports <paramref name="status"/>.</summary>
    /// <param name="services">The host's services.</param>
    /// <param name="status">The status awaited.</param>
    /// <param name="timeout">How long to wait; 30 s when <see langword="null"/>.</param>
    /// <param name="checks">The health check names (every check when none is named).</param>
    /// <returns>The report that showed the status.</returns>
    public static async Task<HealthReport> StatusAsync(IServiceProvider services, HealthStatus status, TimeSpan? timeout, params string[] checks)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(checks);
        var health = services.GetRequiredService<HealthCheckService>();
        HealthReport? report = null;
        await Eventually.HoldsAsync(
            async () =>
            {
                report = await health.CheckHealthAsync(r => checks.Length == 0 || checks.Contains(r.Name)).ConfigureAwait(false);
                return report.Entries.Count > 0 && report.Entries.Values.All(e => e.Status == status)
                    && checks.All(report.Entries.ContainsKey);
            },
            $"{(checks.Length == 0 ? "every health check" : string.Join(", ", checks))} {status}",
            timeout,
            () => report is null ? "no report" : string.Join("; ", report.Entries.Select(e => $"{e.Key}: {e.Value.Status} ({e.Value.Description})"))).ConfigureAwait(false);
        return report!;
    }
}

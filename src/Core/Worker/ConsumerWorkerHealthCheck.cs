using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Messaging;

/// <summary>A worker's health check: Healthy while it is subscribed, Unhealthy with the reason otherwise.</summary>
internal sealed class ConsumerWorkerHealthCheck(ConsumerWorker worker) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var health = worker.Health;
        var data = new Dictionary<string, object> { ["worker"] = worker.Name };
        return Task.FromResult(health.Subscribed
            ? HealthCheckResult.Healthy(health.Description, data)
            : new HealthCheckResult(context.Registration.FailureStatus, health.Description, health.Exception, data));
    }
}

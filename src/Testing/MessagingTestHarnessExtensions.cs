using Messaging.Testing.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Messaging.Testing;

/// <summary>Adds the test harness to a host and starts the host with it.</summary>
public static class MessagingTestHarnessExtensions
{
    /// <summary>
    /// Adds the test harness to the host's services, next to the host's own registrations (which stay as they are):
    /// an observer of the application's engine and workers, and OpenTelemetry tracing and metrics of the library's
    /// source and meter exported to memory (added to the host's own OpenTelemetry providers when it has them).
    /// Calling it again only applies <paramref name="configure"/>.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configure">Configures the harness.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddMessagingTestHarness(this IServiceCollection services, Action<MessagingTestHarnessOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.FirstOrDefault(static d => d.ServiceType == typeof(HarnessState))?.ImplementationInstance is HarnessState existing)
        {
            configure?.Invoke(existing.Options);
            existing.Options.Validate();
            return services;
        }

        var options = new MessagingTestHarnessOptions();
        configure?.Invoke(options);
        options.Validate();
        var state = new HarnessState(options);
        services.AddSingleton(state);
        services.AddSingleton<IMessagingObserver>(state.Observer);
        services.AddSingleton(sp => new MessagingTestHarness(sp, sp.GetRequiredService<HarnessState>()));
        services.AddMessaging();
        services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddMessagingInstrumentation().AddInMemoryExporter(state.Spans))
            .WithMetrics(metrics => metrics.AddMessagingInstrumentation().AddInMemoryExporter(state.Metrics));
        return services;
    }

    /// <summary>Gets the harness of a host whose services <see cref="AddMessagingTestHarness"/> was called on.</summary>
    /// <param name="services">The host's services (<c>host.Services</c>).</param>
    /// <returns>The harness.</returns>
    /// <exception cref="InvalidOperationException">The harness was not added.</exception>
    public static MessagingTestHarness GetMessagingTestHarness(this IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.GetService<MessagingTestHarness>()
            ?? throw new InvalidOperationException("The messaging test harness is not registered: call services.AddMessagingTestHarness() on the host's builder before building it.");
    }

    /// <summary>
    /// Starts the host (every hosted service, the workers included) and waits until each consumer worker is subscribed
    /// to its queue, so a message published next is consumed.
    /// </summary>
    /// <param name="host">A host built from services <see cref="AddMessagingTestHarness"/> was called on.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The harness.</returns>
    /// <exception cref="InvalidOperationException">The harness was not added.</exception>
    /// <exception cref="MessagingTestHarnessException">The harness cannot observe the host, or a worker did not subscribe in time.</exception>
    public static async Task<MessagingTestHarness> StartMessagingTestHarnessAsync(this IHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        var harness = host.Services.GetMessagingTestHarness();
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        harness.EnsureObserving();
        await harness.WaitForWorkersAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return harness;
    }
}

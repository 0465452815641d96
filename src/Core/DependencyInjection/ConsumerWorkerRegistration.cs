using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Messaging;

/// <summary>
/// The one way a transport registers a worker: named options (bound, configured, validated on start, every problem
/// listed with its configuration section), the worker as a hosted service built by constructor injection with its
/// context, and its health check. Registering a name again adds configuration, not a second worker.
/// </summary>
internal static class ConsumerWorkerRegistration
{
    /// <summary>The tags of every worker's health check.</summary>
    public static readonly string[] HealthCheckTags = ["messaging", "ready"];

    public static IServiceCollection Add<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWorker, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(
        IServiceCollection services,
        string? name,
        IConfiguration? configuration,
        Action<TOptions>? configure,
        Func<IServiceProvider, string, TOptions, ConsumerWorkerContext> createContext,
        Action<OptionsBuilder<TOptions>, IConfiguration> bind)
        where TWorker : ConsumerWorker
        where TOptions : ConsumerWorkerOptions
    {
        ArgumentNullException.ThrowIfNull(services);
        name ??= typeof(TWorker).Name;
        ArgumentException.ThrowIfNullOrWhiteSpace(name);

        var names = Names(services);
        if (names.TryGetValue(name, out var registered) && registered != typeof(TWorker))
        {
            throw new ArgumentException(
                $"A consumer worker named '{name}' is already registered ({registered.FullName}); give {typeof(TWorker).FullName} another name.",
                nameof(name));
        }

        services.AddMessaging();
        var builder = services.AddOptions<TOptions>(name);
        if (configuration is not null)
        {
            OptionsRegistration.Bind(services, name, configuration, bind);
        }

        if (configure is not null)
        {
            builder.Configure(configure);
        }

        if (registered is not null)
        {
            return services;
        }

        names.Add(name, typeof(TWorker));
        OptionsRegistration.ValidateOnStart<TOptions>(services, name, static (o, errors) => o.Validate(errors));
        services.AddKeyedSingleton<ConsumerWorker>(name, (sp, _) =>
        {
            // The host resolves its hosted services before it validates options on start: validate everything first,
            // so that an invalid configuration fails with every problem listed, not with the first worker's.
            sp.GetService<IStartupValidator>()?.Validate();
            var options = sp.GetRequiredService<IOptionsMonitor<TOptions>>().Get(name);
            return ActivatorUtilities.CreateInstance<TWorker>(sp, createContext(sp, name, options));
        });
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredKeyedService<ConsumerWorker>(name));

        services.AddHealthChecks();
        services.AddOptions<HealthCheckServiceOptions>().Configure<IOptionsMonitor<TOptions>>((health, monitor) =>
        {
            if (!HealthChecksDisabled(monitor, name) && !health.Registrations.Any(r => r.Name == name))
            {
                health.Registrations.Add(new HealthCheckRegistration(
                    name,
                    sp => new ConsumerWorkerHealthCheck(sp.GetRequiredKeyedService<ConsumerWorker>(name)),
                    HealthStatus.Unhealthy,
                    HealthCheckTags));
            }
        });
        return services;
    }

    private static bool HealthChecksDisabled<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(IOptionsMonitor<TOptions> monitor, string name)
        where TOptions : ConsumerWorkerOptions
    {
        try
        {
            return monitor.Get(name).DisableHealthChecks;
        }
        catch (OptionsValidationException)
        {
            // Invalid options fail the host at start, with every problem listed; the check changes nothing then.
            return false;
        }
    }

    private static WorkerNames Names(IServiceCollection services)
    {
        if (services.FirstOrDefault(static d => d.ServiceType == typeof(WorkerNames) && !d.IsKeyedService)?.ImplementationInstance is WorkerNames existing)
        {
            return existing;
        }

        var names = new WorkerNames();
        services.AddSingleton(names);
        return names;
    }

    /// <summary>The worker names registered in one service collection, with their worker types.</summary>
    private sealed class WorkerNames : Dictionary<string, Type>
    {
        public WorkerNames()
            : base(StringComparer.Ordinal)
        {
        }
    }
}

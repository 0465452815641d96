using Messaging;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the library's services and consumer workers.</summary>
public static class MessagingServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="MessagingInstrumentation"/> built from <see cref="MessagingOptions"/> (for
    /// producers: pass it to the publish helpers). Calling it again only adds configuration.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddMessaging(this IServiceCollection services, Action<MessagingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<MessagingOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MessagingOptions>, MessagingOptionsValidator<MessagingOptions>>());
        builder.ValidateOnStart();
        services.TryAddSingleton(static sp => new MessagingInstrumentation(
            sp.GetRequiredService<IOptions<MessagingOptions>>().Value,
            sp.GetService<ILoggerFactory>(),
            sp.GetService<TimeProvider>()));
        return services;
    }

    /// <summary>
    /// Registers <typeparamref name="TWorker"/> as a hosted service with options of type
    /// <typeparamref name="TOptions"/> named after the worker type, validated on start. Idempotent: registering the
    /// same worker again adds configuration, not a second worker. Transports call this from their own
    /// <c>Add…ConsumerWorker</c> methods.
    /// </summary>
    /// <typeparam name="TWorker">The worker.</typeparam>
    /// <typeparam name="TOptions">The worker's options type.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the worker's options.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddConsumerWorker<TWorker, TOptions>(this IServiceCollection services, Action<TOptions>? configure = null)
        where TWorker : ConsumerWorker
        where TOptions : ConsumerWorkerOptions
    {
        ArgumentNullException.ThrowIfNull(services);
        var name = typeof(TWorker).FullName ?? typeof(TWorker).Name;
        var builder = services.AddOptions<TOptions>(name);
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, MessagingOptionsValidator<TOptions>>());
        builder.ValidateOnStart();
        services.TryAddSingleton(sp =>
        {
            var worker = ActivatorUtilities.CreateInstance<TWorker>(sp);
            worker.Initialize(name, sp.GetRequiredService<IOptionsMonitor<TOptions>>().Get(name), sp);
            return worker;
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TWorker>(static sp => sp.GetRequiredService<TWorker>()));
        return services;
    }

    /// <summary>Registers a worker whose options are plain <see cref="ConsumerWorkerOptions"/>; see <see cref="AddConsumerWorker{TWorker, TOptions}"/>.</summary>
    /// <typeparam name="TWorker">The worker.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the worker's options.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddConsumerWorker<TWorker>(this IServiceCollection services, Action<ConsumerWorkerOptions>? configure = null)
        where TWorker : ConsumerWorker
        => services.AddConsumerWorker<TWorker, ConsumerWorkerOptions>(configure);

    private sealed class MessagingOptionsValidator<TOptions> : IValidateOptions<TOptions>
        where TOptions : MessagingOptions
    {
        public ValidateOptionsResult Validate(string? name, TOptions options)
        {
            try
            {
                options.Validate();
                return ValidateOptionsResult.Success;
            }
            catch (ArgumentException ex)
            {
                return ValidateOptionsResult.Fail($"Invalid {typeof(TOptions).Name} '{name}': {ex.Message}");
            }
        }
    }
}

using System.Diagnostics.CodeAnalysis;
using Messaging;
using Messaging.Transports.InMemory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the in-memory broker and workers consuming from it.</summary>
public static class InMemoryServiceCollectionExtensions
{
    /// <summary>Registers a singleton <see cref="InMemoryBroker"/> that publishes with the application's propagation engine (idempotent).</summary>
    /// <param name="services">The services.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddInMemoryBroker(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddMessaging();
        services.TryAddSingleton(static sp => new InMemoryBroker(sp.GetService<TimeProvider>(), sp.GetRequiredService<MessagingInstrumentation>()));
        return services;
    }

    /// <summary>
    /// Registers <typeparamref name="TWorker"/>, named after its type, as a hosted consumer of the in-memory broker,
    /// with options validated on start and a health check of the same name. Registering it again adds configuration.
    /// </summary>
    /// <typeparam name="TWorker">The worker, inheriting <see cref="InMemoryConsumerWorker{TMessage}"/>.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the worker's options; <see cref="ConsumerWorkerOptions.Queue"/> is required.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddInMemoryConsumerWorker<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWorker>(this IServiceCollection services, Action<InMemoryConsumerOptions> configure)
        where TWorker : ConsumerWorker, IInMemoryConsumerWorker
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddInMemoryConsumerWorker<TWorker>(name: null, configuration: null, configure);
    }

    /// <summary>
    /// Registers <typeparamref name="TWorker"/> as a hosted consumer of the in-memory broker under
    /// <paramref name="name"/> (its options name and health check name; the worker type's name when
    /// <see langword="null"/>), with options bound from <paramref name="configuration"/> and then
    /// <paramref name="configure"/>. One worker type may be registered under several names, each on its own queue.
    /// </summary>
    /// <typeparam name="TWorker">The worker, inheriting <see cref="InMemoryConsumerWorker{TMessage}"/>.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="name">The worker's name.</param>
    /// <param name="configuration">The configuration section with the worker's options, if any.</param>
    /// <param name="configure">Configures the worker's options after binding, if given.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddInMemoryConsumerWorker<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWorker>(
        this IServiceCollection services,
        string? name,
        IConfiguration? configuration,
        Action<InMemoryConsumerOptions>? configure = null)
        where TWorker : ConsumerWorker, IInMemoryConsumerWorker
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddInMemoryBroker();
        return ConsumerWorkerRegistration.Add<TWorker, InMemoryConsumerOptions>(
            services,
            name,
            configuration,
            configure,
            static (sp, workerName, options) => new InMemoryWorkerContext(workerName, options, sp.GetRequiredService<InMemoryBroker>(), sp),
            static (options, section) => options.Bind(section));
    }
}

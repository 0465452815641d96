using Messaging.Transports.InMemory;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the in-memory broker and workers consuming from it.</summary>
public static class InMemoryServiceCollectionExtensions
{
    /// <summary>Registers a singleton <see cref="InMemoryBroker"/> (idempotent).</summary>
    /// <param name="services">The services.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddInMemoryBroker(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(static sp => new InMemoryBroker(sp.GetService<TimeProvider>()));
        return services;
    }

    /// <summary>Registers <typeparamref name="TWorker"/> as a hosted consumer of the in-memory broker (idempotent).</summary>
    /// <typeparam name="TWorker">The worker, inheriting <see cref="InMemoryConsumerWorker{TMessage}"/>.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the worker's options; <see cref="Messaging.ConsumerWorkerOptions.Queue"/> is required.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddInMemoryConsumerWorker<TWorker>(this IServiceCollection services, Action<InMemoryConsumerOptions> configure)
        where TWorker : Messaging.ConsumerWorker
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddInMemoryBroker().AddConsumerWorker<TWorker, InMemoryConsumerOptions>(configure);
    }
}

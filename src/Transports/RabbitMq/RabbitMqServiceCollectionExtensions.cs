using Messaging.Transports.RabbitMq;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers RabbitMQ consumer workers.</summary>
public static class RabbitMqServiceCollectionExtensions
{
    /// <summary>Registers <typeparamref name="TWorker"/> as a hosted RabbitMQ consumer (idempotent); options are validated on start.</summary>
    /// <typeparam name="TWorker">The worker, inheriting <see cref="RabbitMqConsumerWorker{TMessage}"/>.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the worker's options; <see cref="Messaging.ConsumerWorkerOptions.Queue"/> is required.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddRabbitMqConsumerWorker<TWorker>(this IServiceCollection services, Action<RabbitMqConsumerOptions> configure)
        where TWorker : Messaging.ConsumerWorker
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddConsumerWorker<TWorker, RabbitMqConsumerOptions>(configure);
    }
}

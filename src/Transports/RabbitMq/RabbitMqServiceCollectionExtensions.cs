using System.Diagnostics.CodeAnalysis;
using Messaging;
using Messaging.Transports.RabbitMq;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the application's RabbitMQ connection, consumer workers and publisher.</summary>
public static class RabbitMqServiceCollectionExtensions
{
    /// <summary>
    /// Registers the application's one RabbitMQ connection (see <see cref="RabbitMqConnectionOptions"/> for where it
    /// comes from), validated on start. Idempotent: calling it again only adds configuration. Workers and the
    /// publisher call it for you with the defaults.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the connection options.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddRabbitMqConnection(this IServiceCollection services, Action<RabbitMqConnectionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (OptionsRegistration.ConfigureShared<RabbitMqConnectionOptions>(services, configure, typeof(RabbitMqConnectionProvider), static (o, errors) => o.Validate(errors)))
        {
            services.AddMessaging();
            services.TryAddSingleton<RabbitMqConnectionProvider>();
        }

        return services;
    }

    /// <summary>Registers the application's RabbitMQ connection with options bound from <paramref name="configuration"/>; see <see cref="AddRabbitMqConnection(IServiceCollection, Action{RabbitMqConnectionOptions}?)"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration section with the connection options (<c>Uri</c>, <c>Endpoints</c>, …).</param>
    /// <param name="configure">Configures the options after binding, if given.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddRabbitMqConnection(this IServiceCollection services, IConfiguration configuration, Action<RabbitMqConnectionOptions>? configure = null)
    {
        OptionsRegistration.BindDefault<RabbitMqConnectionOptions>(services, configuration, static (options, section) => options.Bind(section));
        return services.AddRabbitMqConnection(configure);
    }

    /// <summary>
    /// Registers <typeparamref name="TWorker"/>, named after its type, as a hosted RabbitMQ consumer on the
    /// application's connection, with options validated on start and a health check of the same name. Registering it
    /// again adds configuration, not a second worker.
    /// </summary>
    /// <typeparam name="TWorker">The worker, inheriting <see cref="RabbitMqConsumerWorker{TMessage}"/>.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the worker's options; <see cref="ConsumerWorkerOptions.Queue"/> is required.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddRabbitMqConsumerWorker<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWorker>(this IServiceCollection services, Action<RabbitMqConsumerOptions> configure)
        where TWorker : ConsumerWorker, IRabbitMqConsumerWorker
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddRabbitMqConsumerWorker<TWorker>(name: null, configuration: null, configure);
    }

    /// <summary>
    /// Registers <typeparamref name="TWorker"/> as a hosted RabbitMQ consumer under <paramref name="name"/> (its
    /// options name and health check name; the worker type's name when <see langword="null"/>), with options bound
    /// from <paramref name="configuration"/> (for example <c>builder.Configuration.GetSection("Messaging:Workers:Orders")</c>)
    /// and then <paramref name="configure"/>. One worker type may be registered under several names, each on its own queue.
    /// </summary>
    /// <typeparam name="TWorker">The worker, inheriting <see cref="RabbitMqConsumerWorker{TMessage}"/>.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="name">The worker's name.</param>
    /// <param name="configuration">The configuration section with the worker's options, if any.</param>
    /// <param name="configure">Configures the worker's options after binding, if given.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddRabbitMqConsumerWorker<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWorker>(
        this IServiceCollection services,
        string? name,
        IConfiguration? configuration,
        Action<RabbitMqConsumerOptions>? configure = null)
        where TWorker : ConsumerWorker, IRabbitMqConsumerWorker
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddRabbitMqConnection();
        return ConsumerWorkerRegistration.Add<TWorker, RabbitMqConsumerOptions>(
            services,
            name,
            configuration,
            configure,
            static (sp, workerName, options) => new RabbitMqWorkerContext(workerName, options, sp.GetRequiredService<RabbitMqConnectionProvider>(), sp),
            static (options, section) => options.Bind(section));
    }

    /// <summary>
    /// Registers the application's <see cref="IRabbitMqPublisher"/> (a singleton on the shared connection; idempotent:
    /// calling it again only adds configuration), with options validated on start.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the publisher's options.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddRabbitMqPublisher(this IServiceCollection services, Action<RabbitMqPublisherOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddRabbitMqConnection();
        if (OptionsRegistration.ConfigureShared<RabbitMqPublisherOptions>(services, configure, typeof(IRabbitMqPublisher), static (o, errors) => o.Validate(errors)))
        {
            services.TryAddSingleton<RabbitMqPublisher>();
            services.TryAddSingleton<IRabbitMqPublisher>(static sp => sp.GetRequiredService<RabbitMqPublisher>());
        }

        return services;
    }

    /// <summary>Registers the application's <see cref="IRabbitMqPublisher"/> with options bound from <paramref name="configuration"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration section with the publisher's options.</param>
    /// <param name="configure">Configures the options after binding, if given.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddRabbitMqPublisher(this IServiceCollection services, IConfiguration configuration, Action<RabbitMqPublisherOptions>? configure = null)
    {
        OptionsRegistration.BindDefault<RabbitMqPublisherOptions>(services, configuration, static (options, section) => options.Bind(section));
        return services.AddRabbitMqPublisher(configure);
    }
}

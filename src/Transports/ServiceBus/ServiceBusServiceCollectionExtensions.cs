using System.Diagnostics.CodeAnalysis;
using Messaging;
using Messaging.Transports.ServiceBus;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the application's Service Bus client, consumer workers and publisher.</summary>
public static class ServiceBusServiceCollectionExtensions
{
    /// <summary>
    /// Registers the application's one <c>ServiceBusClient</c> (see <see cref="ServiceBusConnectionOptions"/> for where it
    /// comes from), validated on start. Idempotent: calling it again only adds configuration. Workers and the
    /// publisher call it for you.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the connection options.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddServiceBusConnection(this IServiceCollection services, Action<ServiceBusConnectionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (OptionsRegistration.ConfigureShared<ServiceBusConnectionOptions>(services, configure, typeof(ServiceBusClientProvider), static (o, errors) => o.Validate(errors)))
        {
            services.AddMessaging();
            services.TryAddSingleton<ServiceBusClientProvider>();
        }

        return services;
    }

    /// <summary>Registers the application's Service Bus client with options bound from <paramref name="configuration"/>; see <see cref="AddServiceBusConnection(IServiceCollection, Action{ServiceBusConnectionOptions}?)"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration section (<c>ConnectionString</c>, or <c>FullyQualifiedNamespace</c>; <c>ClientServiceKey</c>; <c>ClientOptions</c>).</param>
    /// <param name="configure">Configures the options after binding, if given.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddServiceBusConnection(this IServiceCollection services, IConfiguration configuration, Action<ServiceBusConnectionOptions>? configure = null)
    {
        OptionsRegistration.BindDefault<ServiceBusConnectionOptions>(services, configuration, static (options, section) => options.Bind(section));
        return services.AddServiceBusConnection(configure);
    }

    /// <summary>
    /// Registers <typeparamref name="TWorker"/>, named after its type, as a hosted Service Bus consumer on the
    /// application's client, with options validated on start and a health check of the same name.
    /// </summary>
    /// <typeparam name="TWorker">The worker, inheriting <see cref="ServiceBusConsumerWorker{TMessage}"/> or <see cref="ServiceBusSessionConsumerWorker{TMessage}"/>.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the worker's options; <see cref="ConsumerWorkerOptions.Queue"/> (the queue, or the topic with <see cref="ServiceBusConsumerOptions.Subscription"/>) is required.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddServiceBusConsumerWorker<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWorker>(this IServiceCollection services, Action<ServiceBusConsumerOptions> configure)
        where TWorker : ConsumerWorker, IServiceBusConsumerWorker
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddServiceBusConsumerWorker<TWorker>(name: null, configuration: null, configure);
    }

    /// <summary>
    /// Registers <typeparamref name="TWorker"/> as a hosted Service Bus consumer under <paramref name="name"/> (its options
    /// name and health check name; the worker type's name when <see langword="null"/>), with options bound from
    /// <paramref name="configuration"/> and then <paramref name="configure"/>. One worker type may be registered under
    /// several names, each on its own entity.
    /// </summary>
    /// <typeparam name="TWorker">The worker, inheriting <see cref="ServiceBusConsumerWorker{TMessage}"/> or <see cref="ServiceBusSessionConsumerWorker{TMessage}"/>.</typeparam>
    /// <param name="services">The services.</param>
    /// <param name="name">The worker's name.</param>
    /// <param name="configuration">The configuration section with the worker's options, if any.</param>
    /// <param name="configure">Configures the worker's options after binding, if given.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddServiceBusConsumerWorker<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWorker>(
        this IServiceCollection services,
        string? name,
        IConfiguration? configuration,
        Action<ServiceBusConsumerOptions>? configure = null)
        where TWorker : ConsumerWorker, IServiceBusConsumerWorker
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddServiceBusConnection();
        return ConsumerWorkerRegistration.Add<TWorker, ServiceBusConsumerOptions>(
            services,
            name,
            configuration,
            configure,
            static (sp, workerName, options) => new ServiceBusWorkerContext(workerName, options, sp.GetRequiredService<ServiceBusClientProvider>(), sp),
            static (options, section) => options.Bind(section));
    }

    /// <summary>
    /// Registers the application's <see cref="IServiceBusPublisher"/> (a singleton with a sender per entity on the
    /// application's client; idempotent: calling it again only adds configuration), with options validated on start.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the publisher's options.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddServiceBusPublisher(this IServiceCollection services, Action<ServiceBusPublisherOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddServiceBusConnection();
        if (OptionsRegistration.ConfigureShared<ServiceBusPublisherOptions>(services, configure, typeof(IServiceBusPublisher), static (o, errors) => o.Validate(errors)))
        {
            services.TryAddSingleton<ServiceBusPublisher>();
            services.TryAddSingleton<IServiceBusPublisher>(static sp => sp.GetRequiredService<ServiceBusPublisher>());
        }

        return services;
    }

    /// <summary>Registers the application's <see cref="IServiceBusPublisher"/> with options bound from <paramref name="configuration"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration section with the publisher's options.</param>
    /// <param name="configure">Configures the options after binding, if given.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddServiceBusPublisher(this IServiceCollection services, IConfiguration configuration, Action<ServiceBusPublisherOptions>? configure = null)
    {
        OptionsRegistration.BindDefault<ServiceBusPublisherOptions>(services, configuration, static (options, section) => options.Bind(section));
        return services.AddServiceBusPublisher(configure);
    }
}

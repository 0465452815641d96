using Messaging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the application's propagation engine.</summary>
public static class MessagingServiceCollectionExtensions
{
    /// <summary>
    /// Registers the application's one <see cref="MessagingInstrumentation"/>, built from <see cref="MessagingOptions"/>
    /// and validated on start; every worker and publisher of the application uses it. Idempotent: calling it again
    /// only adds configuration. Transports' registrations call it for you.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddMessaging(this IServiceCollection services, Action<MessagingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (OptionsRegistration.ConfigureShared<MessagingOptions>(services, configure, typeof(MessagingInstrumentation), static (o, errors) => o.Validate(errors)))
        {
            services.TryAddSingleton(static sp => new MessagingInstrumentation(
                sp.GetRequiredService<IOptions<MessagingOptions>>().Value,
                sp.GetService<ILoggerFactory>(),
                sp.GetService<TimeProvider>())
            {
                Observer = sp.GetService<IMessagingObserver>(),
            });
        }

        return services;
    }

    /// <summary>
    /// Registers the application's <see cref="MessagingInstrumentation"/> with options bound from
    /// <paramref name="configuration"/> (for example <c>builder.Configuration.GetSection("Messaging")</c>); see
    /// <see cref="AddMessaging(IServiceCollection, Action{MessagingOptions}?)"/>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration section holding the options.</param>
    /// <param name="configure">Configures the options after binding (delegates, propagators).</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddMessaging(this IServiceCollection services, IConfiguration configuration, Action<MessagingOptions>? configure = null)
    {
        OptionsRegistration.BindDefault<MessagingOptions>(services, configuration, static (options, section) => options.Bind(section));
        return services.AddMessaging(configure);
    }
}

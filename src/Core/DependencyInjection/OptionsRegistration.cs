using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Messaging;

/// <summary>How every options type of the library is registered: bound, validated on start, every problem listed.</summary>
internal static class OptionsRegistration
{
    /// <summary>Binds the named options to <paramref name="configuration"/> and remembers its section for error messages.</summary>
    /// <remarks>
    /// <paramref name="bind"/> is <c>static (options, section) =&gt; options.Bind(section)</c>, written where the options
    /// type is known, so that the configuration binding source generator replaces the reflection-based binder there.
    /// </remarks>
    public static void Bind<TOptions>(IServiceCollection services, string name, IConfiguration configuration, Action<OptionsBuilder<TOptions>, IConfiguration> bind)
        where TOptions : class
    {
        bind(services.AddOptions<TOptions>(name), configuration);
        ConfigurationPaths.Remember(services, typeof(TOptions), name, configuration);
    }

    /// <summary>
    /// Binds the default <typeparamref name="TOptions"/> to <paramref name="configuration"/> (see <see cref="Bind"/>):
    /// the body of every public <c>Add…(services, configuration, configure)</c> overload before it calls its sibling.
    /// </summary>
    public static void BindDefault<TOptions>(IServiceCollection services, IConfiguration configuration, Action<OptionsBuilder<TOptions>, IConfiguration> bind)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        Bind(services, Options.DefaultName, configuration, bind);
    }

    /// <summary>
    /// Adds <paramref name="configure"/> to the default <typeparamref name="TOptions"/> of one of the application's shared
    /// services. The first time (while <paramref name="service"/> is not registered) it also validates them on start
    /// with <paramref name="validate"/> and returns <see langword="true"/>: the caller then registers its services.
    /// </summary>
    public static bool ConfigureShared<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(
        IServiceCollection services,
        Action<TOptions>? configure,
        Type service,
        Action<TOptions, ICollection<string>> validate)
        where TOptions : class
    {
        var builder = services.AddOptions<TOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        if (services.Any(d => d.ServiceType == service))
        {
            return false;
        }

        ValidateOnStart(services, Options.DefaultName, validate);
        return true;
    }

    /// <summary>Validates every instance of <typeparamref name="TOptions"/> on start with <paramref name="validate"/> (idempotent).</summary>
    public static void ValidateOnStart<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(IServiceCollection services, string name, Action<TOptions, ICollection<string>> validate)
        where TOptions : class
    {
        services.AddOptions<TOptions>(name).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, Validator<TOptions>>(
            sp => new Validator<TOptions>(sp, validate)));
    }

    private sealed class Validator<TOptions>(IServiceProvider services, Action<TOptions, ICollection<string>> validate) : IValidateOptions<TOptions>
        where TOptions : class
    {
        public ValidateOptionsResult Validate(string? name, TOptions options) =>
            ConfigurationPaths.Result(services, typeof(TOptions), name ?? Options.DefaultName, OptionsErrors.Collect(errors => validate(options, errors)));
    }
}

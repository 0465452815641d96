using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Messaging;

/// <summary>
/// Which configuration section each options instance was bound from, so that a validation failure names the section
/// the user has to fix.
/// </summary>
internal sealed class ConfigurationPaths
{
    private readonly Dictionary<(Type, string), string> _paths = [];

    public static void Remember(IServiceCollection services, Type optionsType, string name, IConfiguration configuration)
    {
        if (configuration is IConfigurationSection section)
        {
            var paths = Get(services);
            lock (paths._paths)
            {
                paths._paths[(optionsType, name)] = section.Path;
            }
        }
    }

    public static ValidateOptionsResult Result(IServiceProvider services, Type optionsType, string name, List<string> errors)
    {
        if (errors.Count == 0)
        {
            return ValidateOptionsResult.Success;
        }

        var paths = services.GetService<ConfigurationPaths>();
        string? path = null;
        if (paths is not null)
        {
            lock (paths._paths)
            {
                paths._paths.TryGetValue((optionsType, name), out path);
            }
        }

        var label = string.IsNullOrEmpty(name) ? optionsType.Name : $"{optionsType.Name} '{name}'";
        var where = path is null ? label : $"{label} (configuration section '{path}')";
        return ValidateOptionsResult.Fail(errors.Select(e => $"{where}: {e}"));
    }

    private static ConfigurationPaths Get(IServiceCollection services)
    {
        if (services.FirstOrDefault(static d => d.ServiceType == typeof(ConfigurationPaths) && !d.IsKeyedService)?.ImplementationInstance is ConfigurationPaths existing)
        {
            return existing;
        }

        var paths = new ConfigurationPaths();
        services.AddSingleton(paths);
        return paths;
    }
}

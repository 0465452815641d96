namespace Messaging;

/// <summary>Turns the problems an options object collects into one exception that lists them all.</summary>
internal static class OptionsErrors
{
    public static void ThrowIfAny<TOptions>(TOptions options, Action<ICollection<string>> validate)
    {
        var errors = Collect(validate);
        if (errors.Count > 0)
        {
            throw new ArgumentException($"Invalid {typeof(TOptions).Name}: {string.Join(" ", errors)}", nameof(options));
        }
    }

    public static List<string> Collect(Action<ICollection<string>> validate)
    {
        var errors = new List<string>();
        validate(errors);
        return errors;
    }
}

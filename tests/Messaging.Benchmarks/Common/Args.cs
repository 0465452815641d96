using System.Globalization;

namespace Messaging.Benchmarks.Common;

/// <summary>Minimal <c>--name value</c> parsing (no extra packages).</summary>
internal sealed class Args
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    private Args()
    {
    }

    public static Args Parse(string[] args, IReadOnlySet<string> valueNames, IReadOnlySet<string> flagNames)
    {
        var result = new Args();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var name = eq > 0 ? arg[..eq] : arg;
            if (flagNames.Contains(name) && eq < 0)
            {
                result._flags.Add(name);
            }
            else if (valueNames.Contains(name))
            {
                if (eq > 0)
                {
                    result._values[name] = arg[(eq + 1)..];
                }
                else if (i + 1 < args.Length)
                {
                    result._values[name] = args[++i];
                }
                else
                {
                    throw new UsageException($"{name} needs a value.");
                }
            }
            else
            {
                throw new UsageException($"Unknown argument '{arg}'.");
            }
        }

        return result;
    }

    public bool Flag(string name) => _flags.Contains(name);

    public string? Text(string name) => _values.TryGetValue(name, out var text) ? text : null;

    public int Int(string name, int defaultValue, int min, int max)
    {
        if (!_values.TryGetValue(name, out var text))
        {
            return defaultValue;
        }

        if (!int.TryParse(text.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            || value < min || value > max)
        {
            throw new UsageException($"{name} must be an integer between {min} and {max}, not '{text}'.");
        }

        return value;
    }

    public int[] IntList(string name, int[] defaultValue, int min, int max)
    {
        if (!_values.TryGetValue(name, out var text))
        {
            return defaultValue;
        }

        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var values = new List<int>();
        foreach (var part in parts)
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                throw new UsageException($"{name} must be a comma-separated list of integers between {min} and {max}, not '{text}'.");
            }

            if (!values.Contains(value))
            {
                values.Add(value);
            }
        }

        if (values.Count == 0)
        {
            throw new UsageException($"{name} needs at least one value.");
        }

        return [.. values];
    }
}

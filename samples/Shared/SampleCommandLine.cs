using System.CommandLine;
using Messaging.Propagation;

namespace Messaging.Samples;

/// <summary>The command-line options both samples share, and their validation.</summary>
internal static class SampleCommandLine
{
    public const string InMemory = "inmemory";
    public const string RabbitMq = "rabbitmq";
    public const string DefaultUri = "amqp://guest:guest@localhost:5672/";
    public const string UriEnvironmentVariable = "RABBITMQ_URI";
    public const string DefaultQueue = "orders";

    /// <summary>The exit code of a usage error (bad flag, bad value).</summary>
    public const int UsageError = 2;

    public static Option<string> Transport(string defaultValue)
    {
        var option = new Option<string>("--transport")
        {
            Description = $"The broker: {InMemory} (in this process), {RabbitMq} or {ServiceBusSettings.Transport}.",
            DefaultValueFactory = _ => defaultValue,
        };
        option.AcceptOnlyFromAmong(InMemory, RabbitMq, ServiceBusSettings.Transport);
        return option;
    }

    /// <summary>
    /// <c>--uri</c>: the broker's AMQP URI, repeatable — one per node of a cluster (credentials, virtual host and TLS
    /// come from the first; the others are tried after it when connecting and recovering). <c>$RABBITMQ_URI</c> when not given.
    /// </summary>
    public static Option<string[]> Uri() => new("--uri")
    {
        Description = $"The AMQP URI of the RabbitMQ broker; repeat it once per cluster node (${UriEnvironmentVariable} when not given).",
        DefaultValueFactory = _ => [Environment.GetEnvironmentVariable(UriEnvironmentVariable) is { Length: > 0 } uri ? uri : DefaultUri],
    };

    public static Option<string> Queue() => new("--queue")
    {
        Description = "The queue (declared durable if missing).",
        DefaultValueFactory = _ => DefaultQueue,
    };

    public const string Classic = "classic";
    public const string Quorum = "quorum";

    /// <summary><c>--queue-type classic|quorum</c>: the type of queue declared (quorum: replicated across a cluster).</summary>
    public static Option<string> QueueType(string description)
    {
        var option = new Option<string>("--queue-type")
        {
            Description = description,
            DefaultValueFactory = _ => Classic,
        };
        option.AcceptOnlyFromAmong(Classic, Quorum);
        return option;
    }

    public static Option<string[]> Baggage(string description) => new("--baggage")
    {
        Description = description,
        DefaultValueFactory = _ => [],
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print one JSON object per message on stdout and nothing else (trace tree and logs go to stderr).",
    };

    /// <summary>Writes a usage error to stderr and returns <see cref="UsageError"/>.</summary>
    public static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        Console.Error.WriteLine("Run with --help for usage.");
        return UsageError;
    }

    /// <summary>Reports parse errors (unknown flag, bad value) with exit code 2.</summary>
    public static int? CheckParseErrors(ParseResult parseResult)
    {
        if (parseResult.Errors.Count == 0)
        {
            return null;
        }

        foreach (var error in parseResult.Errors)
        {
            Console.Error.WriteLine($"error: {error.Message}");
        }

        Console.Error.WriteLine("Run with --help for usage.");
        return UsageError;
    }

    /// <summary>Checks <c>OTEL_PROPAGATORS</c> up front, so a typo is a clear usage error rather than a host failure.</summary>
    public static bool TryCheckPropagators(out string error)
    {
        try
        {
            _ = MessagingPropagators.FromEnvironment();
            error = string.Empty;
            return true;
        }
        catch (ArgumentException ex)
        {
            error = ex.Message;
            return false;
        }
    }

    /// <summary>Parses every <c>--uri</c>; on failure <paramref name="error"/> names the first bad one.</summary>
    public static bool TryParseAmqpUris(IReadOnlyList<string>? texts, out IReadOnlyList<Uri> uris, out string error)
    {
        var parsed = new List<Uri>();
        uris = parsed;
        foreach (var text in texts is { Count: > 0 } ? texts : [DefaultUri])
        {
            if (!System.Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
            {
                error = $"--uri '{text}' is not an amqp:// or amqps:// URI.";
                uris = [new Uri(DefaultUri)];
                return false;
            }

            parsed.Add(uri);
        }

        error = string.Empty;
        return true;
    }

    /// <summary>
    /// Parses <c>--baggage KEY=VALUE</c> items. The value is everything after the first <c>=</c>, taken literally
    /// (spaces, <c>+</c>, <c>%</c>, non-ASCII): the library percent-encodes it on the wire. The key must be a
    /// W3C baggage key (an RFC 7230 token). A repeated key keeps its last value.
    /// </summary>
    public static bool TryParseBaggage(IReadOnlyList<string> items, out IReadOnlyDictionary<string, string> baggage, out string error)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        baggage = result;
        foreach (var item in items)
        {
            var separator = item.IndexOf('=', StringComparison.Ordinal);
            if (separator < 0)
            {
                error = $"--baggage '{item}' must be KEY=VALUE (no '=' found).";
                return false;
            }

            var key = item[..separator];
            var value = item[(separator + 1)..];
            if (key.Length == 0)
            {
                error = $"--baggage '{item}' has an empty key; expected KEY=VALUE.";
                return false;
            }

            if (!IsToken(key))
            {
                error = $"--baggage key '{key}' is not a valid baggage key (letters, digits and !#$%&'*+-.^_`|~ only).";
                return false;
            }

            if (value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            {
                error = $"--baggage '{key}' has a value containing CR, LF or NUL.";
                return false;
            }

            result[key] = value;
        }

        error = string.Empty;
        return true;
    }

    private static bool IsToken(string key)
    {
        foreach (var c in key)
        {
            var ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9')
                || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Messaging.Testing.Internal;

/// <summary>The wording of the harness's descriptions and failure messages, in one place.</summary>
internal static class Describe
{
    /// <summary>How many entries of each kind a "seen instead" report lists (the most recent ones).</summary>
    public const int ReportLimit = 25;

    public static string Id(string? messageId) => messageId is null ? "(no id)" : "'" + messageId + "'";

    public static string Context(ActivityContext context) =>
        IsValid(context) ? $"trace {context.TraceId.ToHexString()} span {context.SpanId.ToHexString()}" : "none";

    public static bool IsValid(ActivityContext context) => context.TraceId != default && context.SpanId != default;

    public static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    public static string Baggage(IReadOnlyDictionary<string, string> baggage) =>
        baggage.Count == 0
            ? "{}"
            : "{" + string.Join(", ", baggage.OrderBy(static p => p.Key, StringComparer.Ordinal).Select(static p => p.Key + "=" + p.Value)) + "}";

    public static string Links(Activity span)
    {
        var links = span.Links.Select(static l => Context(l.Context)).ToArray();
        return links.Length == 0 ? "none" : string.Join("; ", links);
    }

    public static string Span(Activity? span)
    {
        if (span is null)
        {
            return "no CONSUMER span recorded";
        }

        var parent = span.ParentSpanId == default ? "no parent (a root)" : "parent " + span.ParentSpanId.ToHexString();
        return $"span '{span.DisplayName}' in trace {span.TraceId.ToHexString()}, {parent}, links: {Links(span)}";
    }

    public static string Outcome(ConsumeOutcome outcome, string reason, int attempts)
    {
        var what = outcome switch
        {
            ConsumeOutcome.Acked => "acked",
            ConsumeOutcome.DeadLettered => $"dead-lettered ({reason})",
            _ => $"requeued ({reason})",
        };
        return string.Create(CultureInfo.InvariantCulture, $"{what} after {attempts} {(attempts == 1 ? "attempt" : "attempts")}");
    }

    /// <summary>Appends a titled list of the most recent <see cref="ReportLimit"/> lines.</summary>
    public static void List(StringBuilder text, string title, IReadOnlyCollection<string> lines)
    {
        if (lines.Count == 0)
        {
            text.Append(title).Append(": none.\n");
            return;
        }

        text.Append(CultureInfo.InvariantCulture, $"{title} ({lines.Count}):\n");
        if (lines.Count > ReportLimit)
        {
            text.Append(CultureInfo.InvariantCulture, $"  … {lines.Count - ReportLimit} earlier not shown\n");
        }

        foreach (var line in lines.Skip(Math.Max(0, lines.Count - ReportLimit)))
        {
            text.Append("  - ").Append(line).Append('\n');
        }
    }

    public static IReadOnlyDictionary<string, string> Copy(OpenTelemetry.Baggage baggage)
    {
        var copy = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var member in baggage)
        {
            copy[member.Key] = member.Value;
        }

        return copy;
    }

    public static IReadOnlyDictionary<string, string> Copy(IHeaderCarrier headers)
    {
        var copy = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var key in headers.Keys)
        {
            if (headers.GetValues(key) is { Count: > 0 } values)
            {
                copy[key] = string.Join(",", values);
            }
        }

        return copy;
    }
}

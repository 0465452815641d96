using System.Diagnostics;
using System.Globalization;
using System.Text;
using OpenTelemetry;

namespace Messaging.Samples;

/// <summary>
/// A small console "exporter": prints finished spans as a tree per trace — span names, kinds, ids, the parent
/// (local or remote), span links (a link to the creation context that is also the parent is marked so) and the baggage that was current in each span.
/// </summary>
/// <remarks>
/// Streaming mode prints a subtree as soon as its local root ends (a span started with no parent in this process:
/// a new root, or a consumer span continuing a remote producer). Deferred mode keeps everything and prints whole
/// traces on flush — what the one-process demo uses, so producer and consumer spans show in one tree.
/// </remarks>
internal sealed class TraceTreePrinter : BaseProcessor<Activity>
{
    private const int MaxRememberedNames = 10_000;
    private const string BaggageAtStart = "messaging.samples.baggage-at-start";

    private readonly TextWriter _output;
    private readonly bool _deferred;
    private readonly object _gate = new();
    private readonly List<SpanRecord> _pending = [];
    private readonly Dictionary<ActivitySpanId, string> _names = [];

    /// <summary>Creates a printer.</summary>
    /// <param name="output">Where to print (stdout, or stderr when stdout carries JSON).</param>
    /// <param name="deferred">Print whole traces on flush instead of subtrees as they end.</param>
    public TraceTreePrinter(TextWriter output, bool deferred)
    {
        _output = output;
        _deferred = deferred;
    }

    public override void OnStart(Activity data) => data.SetCustomProperty(BaggageAtStart, Baggage.Current);

    public override void OnEnd(Activity data)
    {
        // The baggage current when the span ended (a consumer span's baggage is attached just after it starts; the
        // library stops the span before it restores the previous context), else when it started.
        var baggage = Baggage.Current;
        if (baggage.Count == 0 && data.GetCustomProperty(BaggageAtStart) is Baggage atStart)
        {
            baggage = atStart;
        }

        var record = SpanRecord.From(data, baggage);
        lock (_gate)
        {
            _pending.Add(record);
            if (_names.Count >= MaxRememberedNames)
            {
                _names.Clear();
            }

            _names[record.SpanId] = record.Name;
            if (!_deferred && data.Parent is null)
            {
                PrintSubtree(record);
            }
        }
    }

    protected override bool OnForceFlush(int timeoutMilliseconds)
    {
        lock (_gate)
        {
            PrintPending();
        }

        return true;
    }

    protected override bool OnShutdown(int timeoutMilliseconds) => OnForceFlush(timeoutMilliseconds);

    private static string Hex(ActivitySpanId id) => id.ToHexString();

    private static string Hex(ActivityTraceId id) => id.ToHexString();

    private void PrintSubtree(SpanRecord root)
    {
        var members = new HashSet<ActivitySpanId> { root.SpanId };
        var grew = true;
        while (grew)
        {
            grew = false;
            foreach (var span in _pending)
            {
                if (span.TraceId == root.TraceId && !members.Contains(span.SpanId) && members.Contains(span.ParentSpanId))
                {
                    members.Add(span.SpanId);
                    grew = true;
                }
            }
        }

        var spans = _pending.FindAll(s => s.TraceId == root.TraceId && members.Contains(s.SpanId));
        _pending.RemoveAll(s => s.TraceId == root.TraceId && members.Contains(s.SpanId));
        Print(root.TraceId, spans);
    }

    private void PrintPending()
    {
        foreach (var trace in _pending.OrderBy(s => s.Start).GroupBy(s => s.TraceId))
        {
            Print(trace.Key, [.. trace]);
        }

        _pending.Clear();
    }

    private void Print(ActivityTraceId traceId, List<SpanRecord> spans)
    {
        spans.Sort((a, b) => a.Start.CompareTo(b.Start));
        var ids = spans.Select(s => s.SpanId).ToHashSet();
        var text = new StringBuilder();
        text.Append("trace ").Append(Hex(traceId)).AppendLine();
        var roots = spans.FindAll(s => !ids.Contains(s.ParentSpanId));
        for (var i = 0; i < roots.Count; i++)
        {
            AppendSpan(text, roots[i], spans, indent: string.Empty, last: i == roots.Count - 1);
        }

        _output.Write(text.ToString());
        _output.Flush();
    }

    private void AppendSpan(StringBuilder text, SpanRecord span, List<SpanRecord> all, string indent, bool last)
    {
        var inv = CultureInfo.InvariantCulture;
        text.Append(indent).Append(last ? "└─ " : "├─ ").Append(span.Name)
            .Append(inv, $"  [{span.Kind.ToString().ToLowerInvariant()}]  span {Hex(span.SpanId)}  {span.Duration.TotalMilliseconds:0.0} ms");
        if (span.Status == ActivityStatusCode.Error)
        {
            text.Append("  ERROR");
            if (!string.IsNullOrEmpty(span.StatusDescription))
            {
                text.Append(": ").Append(span.StatusDescription);
            }
        }

        text.AppendLine();
        var children = all.FindAll(s => s.ParentSpanId == span.SpanId);
        var detail = indent + (last ? "   " : "│  ") + (children.Count > 0 ? "│  " : "   ");
        var isRoot = span.ParentSpanId == default;
        if (!isRoot && !all.Exists(s => s.SpanId == span.ParentSpanId))
        {
            text.Append(detail).Append("parent: span ").Append(Hex(span.ParentSpanId));
            text.Append(_names.TryGetValue(span.ParentSpanId, out var parentName) ? $" ({parentName}, remote)" : " (remote)").AppendLine();
        }

        foreach (var link in span.Links)
        {
            // A child-mode consumer span links to its creation context, which is also its parent: say so in one line.
            if (link.SpanId == span.ParentSpanId && link.TraceId == span.TraceId)
            {
                text.Append(detail).Append("link → creation context (the parent span ").Append(Hex(link.SpanId)).Append(')').AppendLine();
                continue;
            }

            text.Append(detail).Append("link → trace ").Append(Hex(link.TraceId)).Append(" span ").Append(Hex(link.SpanId));
            if (_names.TryGetValue(link.SpanId, out var linkedName))
            {
                text.Append(" (").Append(linkedName).Append(')');
            }

            text.AppendLine();
        }

        if (span.MessageId is not null)
        {
            text.Append(detail).Append("message id: ").Append(span.MessageId).AppendLine();
        }

        if (span.Baggage.Count > 0)
        {
            text.Append(detail).Append("baggage: ")
                .AppendJoin(", ", span.Baggage.Select(b => $"{b.Key}=\"{b.Value}\"")).AppendLine();
        }

        for (var i = 0; i < children.Count; i++)
        {
            AppendSpan(text, children[i], all, indent + (last ? "   " : "│  "), i == children.Count - 1);
        }
    }

    private sealed record SpanRecord(
        ActivityTraceId TraceId,
        ActivitySpanId SpanId,
        ActivitySpanId ParentSpanId,
        string Name,
        ActivityKind Kind,
        DateTime Start,
        TimeSpan Duration,
        ActivityStatusCode Status,
        string? StatusDescription,
        IReadOnlyList<ActivityContext> Links,
        string? MessageId,
        IReadOnlyList<KeyValuePair<string, string>> Baggage)
    {
        public static SpanRecord From(Activity activity, Baggage baggage) => new(
            activity.TraceId,
            activity.SpanId,
            activity.ParentSpanId,
            activity.DisplayName,
            activity.Kind,
            activity.StartTimeUtc,
            activity.Duration,
            activity.Status,
            activity.StatusDescription,
            [.. activity.Links.Select(l => l.Context)],
            activity.GetTagItem("messaging.message.id") as string,
            [.. baggage.GetBaggage().Where(b => b.Value is not null).Select(b => new KeyValuePair<string, string>(b.Key, b.Value!)).OrderBy(b => b.Key, StringComparer.Ordinal)]);
    }
}

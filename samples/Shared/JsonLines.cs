using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using OpenTelemetry;

namespace Messaging.Samples;

/// <summary>
/// Writes the <c>--json</c> output: one JSON object per line on stdout, flushed per line. Nothing else may write to
/// stdout in that mode.
/// </summary>
internal sealed class JsonLines
{
    // Relaxed escaping keeps values such as "acme corp+1" or non-ASCII readable; quotes and control characters are
    // still escaped, so every line stays one valid JSON object.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly object _gate = new();

    /// <summary>Creates the writer.</summary>
    /// <param name="enabled">Whether <c>--json</c> was given; when not, nothing is written.</param>
    public JsonLines(bool enabled)
    {
        Enabled = enabled;
    }

    public bool Enabled { get; }

    /// <summary>
    /// <c>{"role":"producer","messageId":…,"traceId":…,"spanId":…,"headers":{…}}</c> — ids of the PRODUCER span,
    /// headers as sent.
    /// </summary>
    public void WriteProducer(string messageId, Activity? producerSpan, IEnumerable<KeyValuePair<string, string?>> headers)
    {
        if (!Enabled)
        {
            return;
        }

        Write(writer =>
        {
            writer.WriteString("role", "producer");
            writer.WriteString("messageId", messageId);
            WriteId(writer, "traceId", producerSpan?.TraceId.ToHexString());
            WriteId(writer, "spanId", producerSpan?.SpanId.ToHexString());
            WriteHeaders(writer, headers);
        });
    }

    /// <summary>
    /// <c>{"role":"consumer","messageId":…,"traceId":…,"spanId":…,"parentSpanId":…|null,"links":[…],"baggage":{…},"headers":{…}}</c>
    /// — ids of the CONSUMER span, the handler's baggage, headers as received.
    /// </summary>
    public void WriteConsumer(string? messageId, Activity? consumerSpan, Baggage baggage, IHeaderCarrier headers)
    {
        if (!Enabled)
        {
            return;
        }

        Write(writer =>
        {
            writer.WriteString("role", "consumer");
            writer.WriteString("messageId", messageId);
            WriteId(writer, "traceId", consumerSpan?.TraceId.ToHexString());
            WriteId(writer, "spanId", consumerSpan?.SpanId.ToHexString());
            WriteId(writer, "parentSpanId", consumerSpan is { ParentSpanId: var parent } && parent != default ? parent.ToHexString() : null);
            writer.WriteStartArray("links");
            foreach (var link in consumerSpan?.Links ?? [])
            {
                writer.WriteStartObject();
                writer.WriteString("traceId", link.Context.TraceId.ToHexString());
                writer.WriteString("spanId", link.Context.SpanId.ToHexString());
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartObject("baggage");
            foreach (var (key, value) in baggage.GetBaggage().OrderBy(b => b.Key, StringComparer.Ordinal))
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
            WriteHeaders(writer, headers.Keys.Select(key => new KeyValuePair<string, string?>(key, headers.GetValues(key) is [var first, ..] ? first : null)));
        });
    }

    private static void WriteId(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    // Header values are shown as text; a value that is not text (an AMQP number, say) is null.
    private static void WriteHeaders(Utf8JsonWriter writer, IEnumerable<KeyValuePair<string, string?>> headers)
    {
        writer.WriteStartObject("headers");
        foreach (var (key, value) in headers)
        {
            if (value is null)
            {
                writer.WriteNull(key);
            }
            else
            {
                writer.WriteString(key, value);
            }
        }

        writer.WriteEndObject();
    }

    private void Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        var line = Encoding.UTF8.GetString(buffer.WrittenSpan);
        lock (_gate)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }
}

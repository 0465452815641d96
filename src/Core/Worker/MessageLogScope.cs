using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Messaging;

/// <summary>
/// The state of the logging scope the worker opens around each handler attempt: trace id, span id, message id,
/// destination and allow-listed baggage. Values are formatted only when a logging provider reads them.
/// </summary>
/// <remarks>
/// A struct: <see cref="Microsoft.Extensions.Logging.ILogger.BeginScope{TState}(TState)"/> is generic, so a logger
/// without any provider that takes scopes never boxes it, and the state costs no allocation (the logger's own scope
/// object aside). A provider that keeps scopes boxes it once, as it would have held a class instance.
/// </remarks>
internal readonly struct MessageLogScope : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly Activity? _activity;
    private readonly string? _messageId;
    private readonly string _destination;
    private readonly List<KeyValuePair<string, object?>>? _baggage;

    public MessageLogScope(ConsumerScope scope, in IncomingMessage message, BaggageTelemetry telemetry)
    {
        _activity = scope.Activity;
        _messageId = message.MessageId;
        _destination = message.Destination;
        if (telemetry.InLogScope && scope.Baggage.Count > 0)
        {
            _baggage = [];
            telemetry.AddScope(_baggage, scope.Baggage);
        }
    }

    public int Count => 4 + (_baggage?.Count ?? 0);

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("TraceId", _activity?.TraceId.ToHexString()),
        1 => new("SpanId", _activity?.SpanId.ToHexString()),
        2 => new("MessageId", _messageId),
        3 => new("Destination", _destination),
        _ when _baggage is not null && index - 4 < _baggage.Count => _baggage[index - 4],
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var (key, value) in this)
        {
            text.Append(text.Length == 0 ? string.Empty : " ").Append(key).Append(':').Append(Convert.ToString(value, CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }
}

namespace Messaging;

/// <summary>
/// Which baggage members become telemetry. Baggage is context, not telemetry: by default none of it is copied into
/// spans, metrics or logs. Name the keys you want — and nothing else reaches your backend.
/// </summary>
public sealed class BaggageTelemetryOptions
{
    /// <summary>The value a metric tag takes once a key has seen <see cref="MaxDistinctValuesPerKey"/> distinct values.</summary>
    public const string OverflowValue = "_other";

    /// <summary>
    /// Gets the baggage keys copied into telemetry: exact names or prefixes ending in <c>*</c> (<c>tenant.*</c>),
    /// matched ignoring case. Empty (the default) turns the feature off.
    /// </summary>
    public ISet<string> Keys { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Gets or sets the prefix of the attribute, tag and log-scope names. Default (<see langword="null"/>): the baggage
    /// key itself (<c>tenant.id</c>); for example <c>"baggage."</c> gives <c>baggage.tenant.id</c>.
    /// </summary>
    public string? AttributePrefix { get; set; }

    /// <summary>Gets or sets a value indicating whether allow-listed keys are set on CONSUMER spans. Default: <see langword="true"/>.</summary>
    public bool OnConsumerSpans { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether allow-listed keys are set on PRODUCER spans. Default: <see langword="false"/>.</summary>
    public bool OnProducerSpans { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether allow-listed keys tag the library's consumer metrics
    /// (<c>messaging.process.duration</c>, <c>messaging.client.consumed.messages</c>). Default: <see langword="false"/>.
    /// </summary>
    public bool InMetrics { get; set; }

    /// <summary>
    /// Gets or sets the cardinality guard for metric tags: the most distinct values kept per key; later new values
    /// are reported as <see cref="OverflowValue"/>. Default: 100. At least 1.
    /// </summary>
    public int MaxDistinctValuesPerKey { get; set; } = 100;

    /// <summary>Gets or sets a value indicating whether allow-listed keys join the worker's per-message logging scope. Default: <see langword="true"/>.</summary>
    public bool InLogScope { get; set; } = true;

    internal void Validate(ICollection<string> errors)
    {
        if (MaxDistinctValuesPerKey < 1)
        {
            errors.Add($"{nameof(MessagingOptions.BaggageTelemetry)}.{nameof(MaxDistinctValuesPerKey)} must be at least 1 (was {MaxDistinctValuesPerKey}).");
        }
    }
}

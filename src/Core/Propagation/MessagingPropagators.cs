using OpenTelemetry.Context.Propagation;

namespace Messaging.Propagation;

/// <summary>
/// Creates the library's propagators: the W3C default, or a selection named the way <c>OTEL_PROPAGATORS</c> names them.
/// </summary>
public static class MessagingPropagators
{
    /// <summary>The environment variable read by <see cref="FromEnvironment"/>.</summary>
    internal const string EnvironmentVariable = "OTEL_PROPAGATORS";

    /// <summary>W3C Trace Context (<c>traceparent</c>, <c>tracestate</c>).</summary>
    internal const string TraceContextName = "tracecontext";

    /// <summary>W3C Baggage (<c>baggage</c>).</summary>
    internal const string BaggageName = "baggage";

    /// <summary>B3 single header (<c>b3</c>).</summary>
    internal const string B3Name = "b3";

    /// <summary>B3 multiple headers (<c>X-B3-*</c>).</summary>
    internal const string B3MultiName = "b3multi";

    /// <summary>No propagation; honoured only as the sole name.</summary>
    internal const string NoneName = "none";

    private const string SupportedNames = "tracecontext, baggage, b3, b3multi, none";

    /// <summary>Creates the default propagator: W3C Trace Context followed by W3C Baggage.</summary>
    /// <returns>A new propagator.</returns>
    public static TextMapPropagator CreateDefault() =>
        new CompositePropagator(new W3CTraceContextPropagator(), new W3CBaggagePropagator());

    /// <summary>
    /// Creates the propagator named by the <c>OTEL_PROPAGATORS</c> environment variable (see <see cref="Parse"/>);
    /// the default when it is unset or blank.
    /// </summary>
    /// <returns>A new propagator.</returns>
    /// <exception cref="ArgumentException">The variable names an unsupported propagator.</exception>
    public static TextMapPropagator FromEnvironment() => Parse(Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>
    /// Creates the propagator named by an <c>OTEL_PROPAGATORS</c>-style value: comma-separated, case-insensitive names
    /// among <c>tracecontext</c>, <c>baggage</c>, <c>b3</c> (single header), <c>b3multi</c> (multiple headers) and
    /// <c>none</c>. Names are trimmed, empty entries and repeats are ignored, and the order is kept (on extract, the
    /// first propagator that finds a trace context wins). <c>none</c> disables propagation when it is the only name
    /// and is ignored otherwise. A <see langword="null"/>, empty or blank value gives <see cref="CreateDefault"/>.
    /// </summary>
    /// <param name="value">The value to parse.</param>
    /// <returns>A new propagator.</returns>
    /// <exception cref="ArgumentException">A name is not supported; the message names it and the supported names.</exception>
    public static TextMapPropagator Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return CreateDefault();
        }

        var names = new List<string>();
        foreach (var part in value.Split(','))
        {
            var name = part.Trim().ToLowerInvariant();
            if (name.Length == 0 || names.Contains(name))
            {
                continue;
            }

            if (name is not (TraceContextName or BaggageName or B3Name or B3MultiName or NoneName))
            {
                throw new ArgumentException(
                    $"Unsupported propagator '{part.Trim()}' in {EnvironmentVariable} value '{value}'. Supported names: {SupportedNames}.",
                    nameof(value));
            }

            names.Add(name);
        }

        if (names.Count == 0)
        {
            return CreateDefault();
        }

        if (names.Count == 1 && names[0] == NoneName)
        {
            return NoopPropagator.Instance;
        }

        var propagators = new List<TextMapPropagator>(names.Count);
        foreach (var name in names)
        {
            switch (name)
            {
                case TraceContextName:
                    propagators.Add(new W3CTraceContextPropagator());
                    break;
                case BaggageName:
                    propagators.Add(new W3CBaggagePropagator());
                    break;
                case B3Name:
                    propagators.Add(new B3Propagator(singleHeader: true));
                    break;
                case B3MultiName:
                    propagators.Add(new B3Propagator(singleHeader: false));
                    break;
                default:
                    break; // "none" alongside other names is ignored
            }
        }

        return propagators.Count == 1 ? propagators[0] : new CompositePropagator([.. propagators]);
    }
}

using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;

namespace Messaging;

/// <summary>
/// The names under which this library reports its own telemetry.
/// </summary>
public static class MessagingTelemetry
{
    /// <summary>The name of the library's <see cref="System.Diagnostics.ActivitySource"/>: add it to a tracer provider.</summary>
    public const string ActivitySourceName = "Messaging";

    /// <summary>The name of the library's <see cref="System.Diagnostics.Metrics.Meter"/>: add it to a meter provider.</summary>
    public const string MeterName = "Messaging";

    internal static readonly string Version =
        typeof(MessagingTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    internal static readonly ActivitySource Source = new(ActivitySourceName, Version);

    internal static readonly Meter Meter = new(MeterName, Version);
}

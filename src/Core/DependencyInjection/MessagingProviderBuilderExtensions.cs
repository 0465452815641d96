using Messaging;
using OpenTelemetry.Metrics;

namespace OpenTelemetry.Trace;

/// <summary>Adds the library's telemetry to OpenTelemetry providers.</summary>
public static class MessagingProviderBuilderExtensions
{
    /// <summary>Adds the library's <see cref="System.Diagnostics.ActivitySource"/> (<see cref="MessagingTelemetry.ActivitySourceName"/>).</summary>
    /// <param name="builder">The tracer provider builder.</param>
    /// <returns>The builder.</returns>
    public static TracerProviderBuilder AddMessagingInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSource(MessagingTelemetry.ActivitySourceName);
    }

    /// <summary>Adds the library's <see cref="System.Diagnostics.Metrics.Meter"/> (<see cref="MessagingTelemetry.MeterName"/>).</summary>
    /// <param name="builder">The meter provider builder.</param>
    /// <returns>The builder.</returns>
    public static MeterProviderBuilder AddMessagingInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter(MessagingTelemetry.MeterName);
    }
}

using System.Collections.Immutable;
using OpenTelemetry.Context.Propagation;

namespace Messaging.Propagation;

/// <summary>A propagator that reads and writes nothing: <c>OTEL_PROPAGATORS=none</c>.</summary>
internal sealed class NoopPropagator : TextMapPropagator
{
    /// <summary>The single instance.</summary>
    public static readonly NoopPropagator Instance = new();

    private NoopPropagator()
    {
    }

    /// <inheritdoc />
    public override ISet<string> Fields => ImmutableHashSet<string>.Empty;

    /// <inheritdoc />
    public override PropagationContext Extract<T>(PropagationContext context, T carrier, Func<T, string, IEnumerable<string>?> getter) => context;

    /// <inheritdoc />
    public override void Inject<T>(PropagationContext context, T carrier, Action<T, string, string> setter)
    {
    }
}

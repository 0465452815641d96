using System.Collections.Immutable;
using OpenTelemetry.Context.Propagation;

namespace Messaging.Propagation;

/// <summary>
/// Runs several propagators as one: Inject calls each in order; Extract chains them, the output of one being the
/// input of the next (so the first propagator that finds a valid trace context wins, and baggage accumulates).
/// </summary>
internal sealed class CompositePropagator : TextMapPropagator
{
    private readonly TextMapPropagator[] _propagators;
    private readonly ISet<string> _fields;

    /// <summary>Creates a composite over <paramref name="propagators"/>, in order.</summary>
    /// <param name="propagators">The propagators; the array is copied.</param>
    public CompositePropagator(params TextMapPropagator[] propagators)
    {
        ArgumentNullException.ThrowIfNull(propagators);
        _propagators = (TextMapPropagator[])propagators.Clone();
        var fields = ImmutableHashSet.CreateBuilder<string>(StringComparer.Ordinal);
        foreach (var propagator in _propagators)
        {
            ArgumentNullException.ThrowIfNull(propagator, nameof(propagators));
            var propagatorFields = propagator.Fields;
            if (propagatorFields is not null)
            {
                fields.UnionWith(propagatorFields);
            }
        }

        _fields = fields.ToImmutable();
    }

    /// <summary>Gets the propagators, in order.</summary>
    public IReadOnlyList<TextMapPropagator> Propagators => _propagators;

    /// <inheritdoc />
    public override ISet<string> Fields => _fields;

    /// <inheritdoc />
    public override PropagationContext Extract<T>(PropagationContext context, T carrier, Func<T, string, IEnumerable<string>?> getter)
    {
        foreach (var propagator in _propagators)
        {
            context = propagator.Extract(context, carrier, getter);
        }

        return context;
    }

    /// <inheritdoc />
    public override void Inject<T>(PropagationContext context, T carrier, Action<T, string, string> setter)
    {
        foreach (var propagator in _propagators)
        {
            propagator.Inject(context, carrier, setter);
        }
    }
}

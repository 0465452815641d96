using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Context;

namespace Messaging;

/// <summary>
/// Captures, clears and restores the ambient <see cref="Activity.Current"/> and <see cref="Baggage.Current"/>.
/// </summary>
/// <remarks>
/// <para>
/// OpenTelemetry keeps <see cref="Baggage.Current"/> in a mutable holder object referenced from an async-local
/// slot; assigning <see cref="Baggage.Current"/> writes into the holder, which every flow that inherited it shares.
/// That is how baggage leaks between concurrent or sequential messages. This type never writes into an
/// inherited holder: it replaces the slot's reference, so each message gets a holder of its own, and restoring
/// puts back the exact reference that was there before.
/// </para>
/// <para>
/// OpenTelemetry's public baggage API cannot do that (it only writes into the holder), so this file — and only this
/// file — relies on one detail of OpenTelemetry.Api: the slot's name, <see cref="BaggageSlotName"/>, read and written
/// through the public <see cref="RuntimeContext.GetValue(string)"/> and <see cref="RuntimeContext.SetValue(string, object)"/>.
/// No reflection. A test (<c>AmbientContextSlotTests</c>) fails, naming the OpenTelemetry.Api version, when that detail
/// changes; at run time a missing slot falls back to the public setter.
/// </para>
/// </remarks>
internal static class AmbientContext
{
    /// <summary>The slot OpenTelemetry.Api registers for <see cref="Baggage.Current"/>'s holder.</summary>
    internal const string BaggageSlotName = "otel.baggage";

    /// <summary>Gets a value indicating whether the slot exists and takes a reference (else: the public setter, which can leak).</summary>
    internal static bool SlotAvailable { get; } = ProbeSlot();

    public static Snapshot Capture() =>
        new(Activity.Current, SlotAvailable ? RuntimeContext.GetValue(BaggageSlotName) : Baggage.Current);

    public static void Restore(in Snapshot snapshot)
    {
        Activity.Current = snapshot.Activity;
        if (SlotAvailable)
        {
            RuntimeContext.SetValue(BaggageSlotName, snapshot.Baggage);
        }
        else
        {
            Baggage.Current = snapshot.Baggage is Baggage baggage ? baggage : default;
        }
    }

    /// <summary>Makes <paramref name="baggage"/> current in a holder of this flow's own.</summary>
    public static void AttachBaggage(Baggage baggage)
    {
        if (SlotAvailable)
        {
            // A fresh flow state: the next assignment creates a new holder instead of writing into an inherited one.
            RuntimeContext.SetValue(BaggageSlotName, null);
            if (baggage.Count > 0)
            {
                Baggage.Current = baggage;
            }
        }
        else
        {
            Baggage.Current = baggage;
        }
    }

    /// <summary>Clears both: no current activity, empty baggage (without touching an inherited holder).</summary>
    public static void Clear()
    {
        Activity.Current = null;
        AttachBaggage(default);
    }

    private static bool ProbeSlot()
    {
        // Touching Baggage.Current runs Baggage's static constructor, which registers the slot.
        _ = Baggage.Current;
        try
        {
            var value = RuntimeContext.GetValue(BaggageSlotName);
            RuntimeContext.SetValue(BaggageSlotName, value);
            return true;
        }
#pragma warning disable CA1031 // Any failure means the slot layout changed: fall back to the public setter.
        catch
#pragma warning restore CA1031
        {
            return false;
        }
    }

    /// <summary>The ambient context at one moment.</summary>
    /// <param name="Activity">The current activity.</param>
    /// <param name="Baggage">The slot's holder reference, or, without the slot, the boxed <see cref="OpenTelemetry.Baggage.Current"/>.</param>
    internal readonly record struct Snapshot(Activity? Activity, object? Baggage);
}

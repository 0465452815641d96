using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Context;

namespace Messaging;

/// <summary>
/// Captures, clears and restores the ambient <see cref="Activity.Current"/> and <see cref="Baggage.Current"/>.
/// </summary>
/// <remarks>
/// OpenTelemetry keeps <see cref="Baggage.Current"/> in a mutable holder object referenced from an async-local
/// slot; assigning <see cref="Baggage.Current"/> writes into the holder, which every flow that inherited it shares.
/// That is how baggage leaks between concurrent or sequential messages. This type never writes into an
/// inherited holder: it replaces the slot's reference, so each message gets a holder of its own, and restoring
/// puts back the exact reference that was there before.
/// </remarks>
internal static class AmbientContext
{
    // The slot OpenTelemetry.Api registers for Baggage.Current.
    private const string BaggageSlotName = "otel.baggage";

    private static readonly bool SlotAvailable = ProbeSlot();

    public static Snapshot Capture() =>
        new(Activity.Current, SlotAvailable ? RuntimeContext.GetValue(BaggageSlotName) : null, SlotAvailable ? default : Baggage.Current);

    public static void Restore(in Snapshot snapshot)
    {
        Activity.Current = snapshot.Activity;
        if (SlotAvailable)
        {
            RuntimeContext.SetValue(BaggageSlotName, snapshot.BaggageHolder);
        }
        else
        {
            Baggage.Current = snapshot.Baggage;
        }
    }

    /// <summary>Makes <paramref name="baggage"/> current in a holder of this flow's own.</summary>
    public static void AttachBaggage(Baggage baggage)
    {
        if (SlotAvailable)
        {
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

    internal readonly record struct Snapshot(Activity? Activity, object? BaggageHolder, Baggage Baggage);
}

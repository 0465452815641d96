using System.Diagnostics;
using System.Reflection;
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

    // The slot itself, so that each access skips the lookup by name; null when it cannot be found through the public API.
    private static readonly IRuntimeContextSlotValueAccessor? Slot = SlotAvailable ? FindSlot() : null;

    public static Snapshot Capture() =>
        new(Activity.Current, SlotAvailable ? GetHolder() : null, SlotAvailable ? default : Baggage.Current);

    public static void Restore(in Snapshot snapshot)
    {
        Activity.Current = snapshot.Activity;
        if (SlotAvailable)
        {
            SetHolder(snapshot.BaggageHolder);
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
            SetHolder(null);
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

    private static object? GetHolder() => Slot is { } slot ? slot.Value : RuntimeContext.GetValue(BaggageSlotName);

    private static void SetHolder(object? holder)
    {
        if (Slot is { } slot)
        {
            slot.Value = holder;
        }
        else
        {
            RuntimeContext.SetValue(BaggageSlotName, holder);
        }
    }

    /// <summary>
    /// Finds the baggage slot object through public API only: the holder's type is read off a holder that
    /// <see cref="Baggage.Current"/> creates in a cleared slot (then the slot is restored), and
    /// <see cref="RuntimeContext.GetSlot{T}(string)"/> is called for that type.
    /// </summary>
    private static IRuntimeContextSlotValueAccessor? FindSlot()
    {
        var before = RuntimeContext.GetValue(BaggageSlotName);
        try
        {
            RuntimeContext.SetValue(BaggageSlotName, null);
            Baggage.Current = Baggage.Create(new Dictionary<string, string> { ["probe"] = "1" });
            var holder = RuntimeContext.GetValue(BaggageSlotName);
            if (holder is null)
            {
                return null;
            }

            var getSlot = typeof(RuntimeContext).GetMethod(nameof(RuntimeContext.GetSlot), BindingFlags.Public | BindingFlags.Static, [typeof(string)]);
            if (getSlot?.MakeGenericMethod(holder.GetType()).Invoke(null, [BaggageSlotName]) is not IRuntimeContextSlotValueAccessor slot)
            {
                return null;
            }

            // Only use it if it is the very slot the name resolves to.
            RuntimeContext.SetValue(BaggageSlotName, null);
            slot.Value = holder;
            return ReferenceEquals(RuntimeContext.GetValue(BaggageSlotName), holder) ? slot : null;
        }
#pragma warning disable CA1031 // Any failure: keep the lookup by name.
        catch
#pragma warning restore CA1031
        {
            return null;
        }
        finally
        {
            RuntimeContext.SetValue(BaggageSlotName, before);
        }
    }

    internal readonly record struct Snapshot(Activity? Activity, object? BaggageHolder, Baggage Baggage);
}

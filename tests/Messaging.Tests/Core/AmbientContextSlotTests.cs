using OpenTelemetry;
using OpenTelemetry.Context;
using Xunit;

namespace Messaging.Tests.Core;

/// <summary>The one OpenTelemetry.Api detail AmbientContext relies on: Baggage.Current's holder lives in the named slot.</summary>
public sealed class AmbientContextSlotTests
{
    [Fact]
    public void The_baggage_slot_exists_and_holds_Baggage_Current()
    {
        var version = typeof(Baggage).Assembly.GetName().Version;
        Assert.True(AmbientContext.SlotAvailable, $"OpenTelemetry.Api {version} has no RuntimeContext slot '{AmbientContext.BaggageSlotName}': AmbientContext falls back to the leaking public setter.");

        var before = RuntimeContext.GetValue(AmbientContext.BaggageSlotName);
        try
        {
            RuntimeContext.SetValue(AmbientContext.BaggageSlotName, null);
            Assert.Equal(0, Baggage.Current.Count);
            Baggage.Current = Baggage.Create(new Dictionary<string, string> { ["k"] = "v" });
            var holder = RuntimeContext.GetValue(AmbientContext.BaggageSlotName);
            Assert.True(holder is not null, $"OpenTelemetry.Api {version}: assigning Baggage.Current no longer creates a holder in slot '{AmbientContext.BaggageSlotName}'.");

            RuntimeContext.SetValue(AmbientContext.BaggageSlotName, null);
            Assert.True(Baggage.Current.Count == 0, $"OpenTelemetry.Api {version}: Baggage.Current is no longer read from slot '{AmbientContext.BaggageSlotName}'.");
            RuntimeContext.SetValue(AmbientContext.BaggageSlotName, holder);
            Assert.Equal("v", Baggage.Current.GetBaggage("k"));
        }
        finally
        {
            RuntimeContext.SetValue(AmbientContext.BaggageSlotName, before);
        }
    }
}

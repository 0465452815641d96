using System.Text;
using Messaging.Propagation;
using Xunit;

namespace Messaging.Tests.Core;

/// <summary>The carrier's direct read (what the library's propagators use) agrees with <see cref="IHeaderCarrier.GetValues(string)"/>.</summary>
public sealed class HeaderCarrierTests
{
    private const string TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    [Fact]
    public void Find_reports_none_when_absent_or_unreadable()
    {
        IRawHeaderSource carrier = new DictionaryHeaderCarrier(new Dictionary<string, object?> { ["traceparent"] = 42, ["other"] = "x" });

        Assert.Equal(PropagationHelpers.ValueCount.None, carrier.Find("traceparent", out _));
        Assert.Equal(PropagationHelpers.ValueCount.None, carrier.Find("baggage", out _));
    }

    [Theory]
    [InlineData("traceparent")]
    [InlineData("TraceParent")]
    public void Find_reads_one_value_stored_as_text_or_utf8_under_any_case(string storedName)
    {
        foreach (var stored in new object[] { TraceParent, Encoding.UTF8.GetBytes(TraceParent), new ReadOnlyMemory<byte>(Encoding.UTF8.GetBytes(TraceParent)) })
        {
            IRawHeaderSource carrier = new DictionaryHeaderCarrier(new Dictionary<string, object?> { [storedName] = stored });

            Assert.Equal(PropagationHelpers.ValueCount.One, carrier.Find("traceparent", out var value));
            Assert.Equal(TraceParent, value.ToString());
            var buffer = new char[value.DecodeBufferLength];
            Assert.Equal(TraceParent, value.GetChars(buffer).ToString());
        }
    }

    [Fact]
    public void Find_reports_many_when_case_variants_both_carry_values()
    {
        var raw = new Dictionary<string, object?> { ["baggage"] = "a=1", ["Baggage"] = Encoding.UTF8.GetBytes("b=2"), ["BAGGAGE"] = 7 };
        var carrier = new DictionaryHeaderCarrier(raw);

        Assert.Equal(PropagationHelpers.ValueCount.Many, ((IRawHeaderSource)carrier).Find("baggage", out _));
        Assert.Equal(["a=1", "b=2"], carrier.GetValues("baggage")!.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Find_decodes_invalid_utf8_like_GetValues()
    {
        byte[] invalid = [0x61, 0xFF, 0x62, 0xC3];
        var carrier = new DictionaryHeaderCarrier(new Dictionary<string, object?> { ["k"] = invalid });

        Assert.Equal(PropagationHelpers.ValueCount.One, ((IRawHeaderSource)carrier).Find("k", out var value));
        Assert.Equal(carrier.GetValues("k")![0], value.GetChars(new char[value.DecodeBufferLength]).ToString());
        Assert.Equal("a\uFFFDb\uFFFD", value.ToString());
    }

    [Fact]
    public void Find_treats_a_throwing_conversion_as_absent()
    {
        IRawHeaderSource carrier = new DictionaryHeaderCarrier(
            new Dictionary<string, object?> { ["traceparent"] = TraceParent },
            static _ => throw new InvalidOperationException("conversion failed"));

        Assert.Equal(PropagationHelpers.ValueCount.None, carrier.Find("traceparent", out _));
    }

    [Fact]
    public void Extracting_a_utf8_traceparent_through_the_library_getter_allocates_only_the_ids()
    {
        var raw = new Dictionary<string, object?>(StringComparer.Ordinal) { ["traceparent"] = Encoding.UTF8.GetBytes(TraceParent) };
        var carrier = new DictionaryHeaderCarrier(raw);
        var propagator = new W3CTraceContextPropagator();
        const int Rounds = 100;
        for (var i = 0; i < Rounds; i++)
        {
            propagator.Extract<IHeaderCarrier>(default, carrier, PropagationHelpers.CarrierGetter);
            IdsOnly();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Rounds; i++)
        {
            IdsOnly();
        }

        var idsOnly = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        var context = default(OpenTelemetry.Context.Propagation.PropagationContext);
        for (var i = 0; i < Rounds; i++)
        {
            context = propagator.Extract<IHeaderCarrier>(default, carrier, PropagationHelpers.CarrierGetter);
        }

        var extract = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", context.ActivityContext.TraceId.ToHexString());

        // ActivityTraceId and ActivitySpanId keep their hex text; nothing else may be allocated (no header string, no list).
        Assert.True(idsOnly > 0);
        Assert.Equal(idsOnly, extract);

        static void IdsOnly()
        {
            Span<byte> bytes = stackalloc byte[16];
            bytes.Fill(0x4b);
            _ = System.Diagnostics.ActivityTraceId.CreateFromBytes(bytes);
            _ = System.Diagnostics.ActivitySpanId.CreateFromBytes(bytes[..8]);
        }
    }
}

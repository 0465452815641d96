using System.Text;
using Messaging.Transports.ServiceBus;
using Xunit;
using static Messaging.Tests.ServiceBus.ServiceBusTestData;

namespace Messaging.Tests.ServiceBus;

/// <summary>The two carriers on plain dictionaries shaped like the SDK's application properties.</summary>
public sealed class ServiceBusCarrierTests
{
    public static TheoryData<string> NonStringKinds => ["int", "long", "guid", "bytes", "null", "datetime", "bool"];

    [Fact]
    public void Traceparent_is_read_case_insensitively_and_wins_over_Diagnostic_Id()
    {
        var carrier = new ServiceBusReceivedPropertiesCarrier(Properties(
            ("TraceParent", TraceParentA),
            ("Diagnostic-Id", TraceParentB)));

        Assert.Equal([TraceParentA], carrier.GetValues("traceparent"));
    }

    [Fact]
    public void Diagnostic_Id_is_the_traceparent_when_no_traceparent_exists()
    {
        var carrier = new ServiceBusReceivedPropertiesCarrier(Properties(("diagnostic-id", TraceParentB), ("tracestate", "k=v")));

        Assert.Equal([TraceParentB], carrier.GetValues("traceparent"));
        Assert.Equal([TraceParentB], carrier.GetValues("Diagnostic-Id"));

        // A tracestate belongs to the traceparent it came with; Diagnostic-Id never carries one.
        Assert.Null(carrier.GetValues("tracestate"));
    }

    [Fact]
    public void Tracestate_is_read_alongside_a_traceparent()
    {
        var carrier = new ServiceBusReceivedPropertiesCarrier(Properties(("traceparent", TraceParentA), ("TraceState", "k=v")));

        Assert.Equal(["k=v"], carrier.GetValues("tracestate"));
    }

    [Fact]
    public void Correlation_Context_is_the_baggage_when_no_baggage_exists()
    {
        var legacyOnly = new ServiceBusReceivedPropertiesCarrier(Properties(("Correlation-Context", "a=1,b=2")));
        var both = new ServiceBusReceivedPropertiesCarrier(Properties(("Correlation-Context", "a=1"), ("Baggage", "c=3")));

        Assert.Equal(["a=1,b=2"], legacyOnly.GetValues("baggage"));
        Assert.Equal(["c=3"], both.GetValues("baggage"));
    }

    [Fact]
    public void Case_variants_are_all_returned_exact_case_first()
    {
        var carrier = new ServiceBusReceivedPropertiesCarrier(Properties(("X-B3-TraceId", "upper"), ("x-b3-traceid", "lower")));

        Assert.Equal(["lower", "upper"], carrier.GetValues("x-b3-traceid"));
        Assert.Null(carrier.GetValues("x-b3-spanid"));
    }

    [Theory]
    [MemberData(nameof(NonStringKinds))]
    public void Values_that_are_not_strings_are_absent(string kind)
    {
        var value = NonString(kind, TraceParentA);
        var carrier = new ServiceBusReceivedPropertiesCarrier(Properties(
            ("traceparent", value),
            ("tracestate", NonString(kind, "k=v")),
            ("Diagnostic-Id", NonString(kind, TraceParentB)),
            ("baggage", NonString(kind, "a=1")),
            ("Correlation-Context", NonString(kind, "b=2")),
            ("custom", value)));

        Assert.Null(carrier.GetValues("traceparent"));
        Assert.Null(carrier.GetValues("tracestate"));
        Assert.Null(carrier.GetValues("baggage"));
        Assert.Null(carrier.GetValues("custom"));
        Assert.Equal(6, carrier.Keys.Count());
    }

    [Theory]
    [MemberData(nameof(NonStringKinds))]
    public void A_traceparent_that_is_not_a_string_falls_back_to_a_string_Diagnostic_Id(string kind)
    {
        var carrier = new ServiceBusReceivedPropertiesCarrier(Properties(("traceparent", NonString(kind, TraceParentA)), ("Diagnostic-Id", TraceParentB)));

        Assert.Equal([TraceParentB], carrier.GetValues("traceparent"));
    }

    [Fact]
    public void The_received_carrier_is_read_only()
    {
        var properties = Properties(("traceparent", TraceParentA));
        var carrier = new ServiceBusReceivedPropertiesCarrier(properties);

        Assert.Throws<NotSupportedException>(() => carrier.SetValue("traceparent", TraceParentB));
        Assert.Throws<NotSupportedException>(() => carrier.Remove("traceparent"));
        Assert.Equal(TraceParentA, properties["traceparent"]);
        Assert.Single(properties);
    }

    [Fact]
    public void Writing_traceparent_removes_Diagnostic_Id_in_any_case()
    {
        var properties = Properties(("Diagnostic-Id", TraceParentA), ("diagnostic-id", TraceParentA), ("TRACEPARENT", TraceParentA), ("app", 42));
        var carrier = new ServiceBusPropertiesCarrier(properties);

        carrier.SetValue("traceparent", TraceParentB);

        Assert.Equal(TraceParentB, properties["traceparent"]);
        Assert.Equal(["app", "traceparent"], properties.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(42, properties["app"]);
    }

    [Fact]
    public void Writing_baggage_removes_Correlation_Context()
    {
        var properties = Properties(("Correlation-Context", "old=1"), ("Baggage", "older=1"));
        var carrier = new ServiceBusPropertiesCarrier(properties);

        carrier.SetValue("baggage", "new=1");

        Assert.Equal("new=1", Assert.Single(properties).Value);
        Assert.Equal("baggage", Assert.Single(properties).Key);
    }

    [Fact]
    public void Removing_traceparent_or_baggage_removes_the_legacy_property_too()
    {
        var properties = Properties(("Diagnostic-Id", TraceParentA), ("Correlation-Context", "a=1"), ("tracestate", "k=v"), ("app", "kept"));
        var carrier = new ServiceBusPropertiesCarrier(properties);

        Assert.True(carrier.Remove("traceparent"));
        Assert.True(carrier.Remove("baggage"));
        Assert.False(carrier.Remove("baggage"));
        Assert.True(carrier.Remove("TraceState"));

        Assert.Equal("kept", Assert.Single(properties).Value);
    }

    [Fact]
    public void Other_names_do_not_touch_legacy_properties()
    {
        var properties = Properties(("Diagnostic-Id", TraceParentA), ("Correlation-Context", "a=1"));
        var carrier = new ServiceBusPropertiesCarrier(properties);

        carrier.SetValue("tracestate", "k=v");
        Assert.False(carrier.Remove("b3"));

        Assert.Equal(3, properties.Count);
        Assert.Equal([TraceParentA], carrier.GetValues("traceparent"));
        Assert.Equal(["a=1"], carrier.GetValues("baggage"));
    }

    [Fact]
    public void The_outgoing_carrier_reads_with_the_same_rules()
    {
        var carrier = new ServiceBusPropertiesCarrier(Properties(("Diagnostic-Id", TraceParentB), ("baggage", 7), ("Correlation-Context", "a=1")));

        Assert.Equal([TraceParentB], carrier.GetValues("traceparent"));
        Assert.Equal(["a=1"], carrier.GetValues("baggage"));
    }

    internal static object? NonString(string kind, string text) => kind switch
    {
        "int" => 42,
        "long" => 42L,
        "guid" => Guid.Parse("6f9619ff-8b86-d011-b42d-00c04fc964ff"),
        "bytes" => Encoding.UTF8.GetBytes(text), // readable text, but AMQP binary: absent on Service Bus
        "null" => null,
        "datetime" => new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc),
        "bool" => true,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}

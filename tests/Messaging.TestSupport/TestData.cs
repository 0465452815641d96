using System.Diagnostics;
using System.Globalization;
using OpenTelemetry;

namespace Messaging.Tests.Support;

public static class TestData
{
    /// <summary>The name of <see cref="Source"/>.</summary>
    public const string SourceName = "Messaging.Tests";

    /// <summary>The tests' own activity source: the application's root spans a test publishes under.</summary>
    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>A name no other test uses, e.g. a queue, so a test can filter process-global spans and measurements by it.</summary>
    /// <param name="prefix">What the name starts with.</param>
    /// <param name="length">How many hexadecimal digits of a new GUID follow the prefix and a dash (at most 32).</param>
    public static string UniqueName(string prefix, int length = 32) => prefix + "-" + Guid.NewGuid().ToString("N")[..length];

    public static string NewQueue() => UniqueName("orders");

    public static Dictionary<string, string> BaggageFor(int i) => new()
    {
        ["tenant.id"] = $"tenant {i}+x",
        ["cohort"] = (i % 7).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Runs <paramref name="publish"/> under a root span of its own with its own baggage, from a clean context.</summary>
    public static Task UnderRootAsync(int index, Func<Order, Task> publish, Func<int, Dictionary<string, string>>? baggageFor = null) =>
        Task.Run(() => PublishUnderRootAsync(index, publish, baggageFor ?? BaggageFor));

    /// <summary>Publishes each message under its own root trace and its own baggage, from a clean context.</summary>
    public static Task PublishTracedAsync(int count, Func<Order, Task> publish, int first = 0, Func<int, Dictionary<string, string>>? baggageFor = null) =>
        Task.Run(async () =>
        {
            for (var i = first; i < first + count; i++)
            {
                await PublishUnderRootAsync(i, publish, baggageFor ?? BaggageFor);
            }
        });

    private static async Task PublishUnderRootAsync(int index, Func<Order, Task> publish, Func<int, Dictionary<string, string>> baggageFor)
    {
        var baggage = baggageFor(index);
        Baggage.Current = Baggage.Create(baggage);
        using (var root = Source.StartActivity("root", ActivityKind.Internal, parentContext: default)!)
        {
            await publish(new Order(index, root.TraceId.ToHexString(), baggage));
        }

        Baggage.Current = default;
    }
}

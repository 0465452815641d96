using System.Diagnostics;
using OpenTelemetry;

namespace Messaging;

/// <summary>
/// Bridges the two baggage models of .NET: OpenTelemetry's <see cref="Baggage.Current"/> and
/// <see cref="Activity.Baggage"/>, which the runtime's <see cref="DistributedContextPropagator"/> reads for HttpClient
/// and fills from an incoming ASP.NET Core request.
/// </summary>
/// <remarks>
/// <para>
/// Consumer side: the message's baggage is written onto the consumer's activity (its own list; the activity has no
/// in-process parent, so <see cref="Activity.Baggage"/> is exactly that message's baggage), and the baggage written is
/// remembered on the activity as its <em>origin</em>.
/// </para>
/// <para>
/// Producer side (<see cref="Effective"/>): <see cref="Activity.Baggage"/> of the current activity chain (the nearest
/// activity's member wins, as <see cref="Activity.GetBaggageItem(string)"/> does) is merged with
/// <see cref="Baggage.Current"/>, keys compared ignoring case as OpenTelemetry compares them. Inside a handler each
/// member is compared with the origin: what either API changed, added or removed since the library attached the
/// message's baggage wins over the unchanged copy in the other API; when both changed a member, or outside a handler
/// when both hold a key with different values, <see cref="Baggage.Current"/> wins.
/// </para>
/// </remarks>
internal static class ActivityBaggage
{
    // Never read by anything but this type; the value is an Origin.
    private const string OriginProperty = "Messaging.BaggageOrigin";

    /// <summary>Writes <paramref name="baggage"/> onto <paramref name="activity"/> and remembers it as the origin.</summary>
    public static void Attach(Activity activity, Baggage baggage)
    {
        if (baggage.Count == 0)
        {
            return;
        }

        foreach (var item in baggage)
        {
            if (item.Value is not null)
            {
                activity.AddBaggage(item.Key, item.Value);
            }
        }

        activity.SetCustomProperty(OriginProperty, new Origin(baggage));
    }

    /// <summary>
    /// A context-only activity for a flow that nothing listens to: not created by an <see cref="ActivitySource"/>, so no
    /// tracer records it, but it is <see cref="Activity.Current"/> so HttpClient propagates its trace context and baggage.
    /// </summary>
    public static Activity StartContextOnly(string name, ActivityContext parent, Baggage baggage)
    {
        var activity = new Activity(name);
        activity.SetIdFormat(ActivityIdFormat.W3C);
        if (parent.TraceId != default && parent.SpanId != default)
        {
            activity.SetParentId(parent.TraceId, parent.SpanId, parent.TraceFlags);
            activity.TraceStateString = parent.TraceState;
        }

        Attach(activity, baggage);
        return activity.Start();
    }

    /// <summary>
    /// The baggage a publish from the current flow carries: <paramref name="current"/> (<see cref="Baggage.Current"/>)
    /// merged with <see cref="Activity.Baggage"/> of <see cref="Activity.Current"/>. Returns <paramref name="current"/>
    /// itself, without allocating, when there is no activity or its chain has no baggage.
    /// </summary>
    public static Baggage Effective(Baggage current)
    {
        var activity = Activity.Current;
        if (activity is null)
        {
            return current;
        }

        var items = activity.Baggage;
        if (items is ICollection<KeyValuePair<string, string?>> { Count: 0 })
        {
            return current;
        }

        Dictionary<string, string>? fromActivity = null;
        foreach (var (key, value) in items)
        {
            fromActivity ??= new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

            // The nearest activity's newest entry comes first and hides the others; a null value hides the key.
            fromActivity.TryAdd(key, value!);
        }

        if (fromActivity is null)
        {
            return current;
        }

        RemoveNullValues(fromActivity);
        var origin = FindOrigin(activity);
        return origin is null ? Union(current, fromActivity) : ThreeWay(current, fromActivity, origin.Baggage);
    }

    private static void RemoveNullValues(Dictionary<string, string> items)
    {
        List<string>? empty = null;
        foreach (var (key, value) in items)
        {
            if (value is null)
            {
                (empty ??= []).Add(key);
            }
        }

        empty?.ForEach(k => items.Remove(k));
    }

    private static Origin? FindOrigin(Activity activity)
    {
        for (var a = activity; a is not null; a = a.Parent)
        {
            if (a.GetCustomProperty(OriginProperty) is Origin origin)
            {
                return origin;
            }
        }

        return null;
    }

    // Outside a handler: every member of either API; Baggage.Current wins a conflict.
    private static Baggage Union(Baggage current, Dictionary<string, string> fromActivity)
    {
        var changed = false;
        foreach (var (key, value) in current)
        {
            if (value is null)
            {
                continue;
            }

            if (!fromActivity.TryGetValue(key, out var other) || !string.Equals(other, value, StringComparison.Ordinal))
            {
                changed = true;
            }

            // Baggage.Current's spelling of the key wins too.
            fromActivity.Remove(key);
            fromActivity[key] = value;
        }

        return !changed && fromActivity.Count == current.Count ? current : Baggage.Create(fromActivity);
    }

    // Inside a handler: per member, the API that changed it since the origin wins; both changed → Baggage.Current.
    private static Baggage ThreeWay(Baggage current, Dictionary<string, string> fromActivity, Baggage origin)
    {
        if (SameMembers(fromActivity, origin))
        {
            // The handler did not touch the activity's baggage: Baggage.Current is the truth (also for removals).
            return current;
        }

        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in current)
        {
            if (value is not null)
            {
                result[key] = value;
            }
        }

        foreach (var (key, value) in fromActivity)
        {
            var originValue = origin.GetBaggage(key);
            var currentValue = current.GetBaggage(key);
            var activityChanged = !string.Equals(value, originValue, StringComparison.Ordinal);
            var currentChanged = !string.Equals(currentValue, originValue, StringComparison.Ordinal);
            if (activityChanged && !currentChanged)
            {
                result[key] = value;
            }
        }

        foreach (var (key, originValue) in origin)
        {
            // Removed through the activity API, untouched in Baggage.Current: removed.
            if (!fromActivity.ContainsKey(key) && string.Equals(current.GetBaggage(key), originValue, StringComparison.Ordinal))
            {
                result.Remove(key);
            }
        }

        return result.Count == 0 ? default : Baggage.Create(result);
    }

    private static bool SameMembers(Dictionary<string, string> items, Baggage baggage)
    {
        if (items.Count != baggage.Count)
        {
            return false;
        }

        foreach (var (key, value) in items)
        {
            if (!string.Equals(baggage.GetBaggage(key), value, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private sealed class Origin(Baggage baggage)
    {
        public Baggage Baggage { get; } = baggage;
    }
}

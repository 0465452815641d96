using System.Diagnostics;

namespace Messaging.Testing.Internal;

/// <summary>What the handler attempts of one delivery left behind until the worker settles it.</summary>
internal sealed class HandlerAttempts(string worker, string? messageId, string destination)
{
    private readonly List<Activity> _spans = [];

    public string Worker { get; } = worker;

    public string? MessageId { get; } = messageId;

    public string Destination { get; } = destination;

    public int Count { get; private set; }

    public Exception? LastError { get; private set; }

    public Activity? LastSpan { get; private set; }

    public IReadOnlyList<Activity> Spans => _spans;

    public ActivityContext RemoteContext { get; private set; }

    public ParentingMode? Parenting { get; private set; }

    public IReadOnlyDictionary<string, string> Baggage { get; private set; } = new Dictionary<string, string>();

    public void Add(int attempt, ConsumerScope scope, Exception? error)
    {
        Count = attempt;
        LastError = error;
        LastSpan = scope.Activity;
        if (scope.Activity is { } span)
        {
            _spans.Add(span);
        }

        RemoteContext = scope.RemoteContext;
        Parenting = scope.Parenting;
        Baggage = Describe.Copy(scope.Baggage);
    }

    public string Summary()
    {
        var last = LastError is null ? "completed" : $"failed with {LastError.GetType().FullName}: {LastError.Message}";
        return $"message {Describe.Id(MessageId)} on '{Destination}' (worker '{Worker}'): not settled yet, attempt {Count} {last}";
    }
}

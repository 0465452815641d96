namespace Messaging.ServiceBus.TestBroker.Internal;

/// <summary>What every part of the broker shares: settings, clock, log, and the settlement record.</summary>
internal sealed class BrokerContext(ServiceBusTestBrokerOptions options)
{
    private readonly object _settlementsGate = new();
    private readonly List<SettlementRecord> _settlements = [];
    private readonly List<(Func<IReadOnlyList<SettlementRecord>, bool> Condition, TaskCompletionSource Done)> _waiters = [];

    public ServiceBusTestBrokerOptions Options { get; } = options;

    public TimeProvider Time => Options.TimeProvider;

    public DateTimeOffset Now => Options.TimeProvider.GetUtcNow();

    public void Log(string line) => Options.Log?.Invoke(line);

    public void Record(SettlementRecord record)
    {
        List<TaskCompletionSource> done = [];
        lock (_settlementsGate)
        {
            _settlements.Add(record);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Condition(_settlements))
                {
                    done.Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }

        foreach (var completion in done)
        {
            completion.TrySetResult();
        }
    }

    public IReadOnlyList<SettlementRecord> Settlements()
    {
        lock (_settlementsGate)
        {
            return [.. _settlements];
        }
    }

    /// <summary>Completes when the settlement record satisfies <paramref name="condition"/> (checked now and after each settlement).</summary>
    public Task WhenSettlements(Func<IReadOnlyList<SettlementRecord>, bool> condition, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_settlementsGate)
        {
            if (condition(_settlements))
            {
                return Task.CompletedTask;
            }

            _waiters.Add((condition, done));
        }

        return done.Task.WaitAsync(cancellationToken);
    }
}

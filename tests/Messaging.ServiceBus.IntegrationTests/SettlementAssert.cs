using Messaging.ServiceBus.TestBroker;
using Xunit;

namespace Messaging.ServiceBus.IntegrationTests;

internal static class SettlementAssert
{
    /// <summary>
    /// Every message was completed exactly once, nothing was abandoned or dead-lettered, and nothing was refused except
    /// a repeated disposition of a lock token that was completed already (the broker refuses it as lock lost; the
    /// SDK's link may repeat a disposition frame — the message was settled once).
    /// </summary>
    public static void EachCompletedOnce(IReadOnlyList<SettlementRecord> settlements, int count)
    {
        var completed = settlements.Where(s => s.Outcome == SettlementOutcome.Completed).ToList();
        Assert.Equal(count, completed.Count);
        Assert.Equal(count, completed.Select(s => s.SequenceNumber).Distinct().Count());
        Assert.DoesNotContain(settlements, s => s.Outcome is SettlementOutcome.Abandoned or SettlementOutcome.DeadLettered or SettlementOutcome.Deferred);
        var completedTokens = completed.Select(s => s.LockToken).ToHashSet();
        Assert.All(settlements.Where(s => s.Outcome == SettlementOutcome.LockLost), s =>
        {
            Assert.Equal(SettlementOutcome.Completed, s.Requested);
            Assert.Contains(s.LockToken, completedTokens);
        });
    }
}

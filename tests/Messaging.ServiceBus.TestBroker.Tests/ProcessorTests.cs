using System.Collections.Concurrent;
using Azure.Messaging.ServiceBus;
using Xunit;
using static Messaging.ServiceBus.TestBroker.Tests.TestClients;

namespace Messaging.ServiceBus.TestBroker.Tests;

public sealed class ProcessorTests
{
    [Fact]
    public async Task A_processor_with_eight_concurrent_calls_settles_every_message_exactly_once()
    {
        const int Count = 40;
        const int Concurrency = 8;
        await using var harness = await BrokerHarness.StartAsync();
        var broker = harness.Broker;
        await harness.SendAsync("work", Enumerable.Range(0, Count).Select(i => Message($"w-{i}")).ToArray());

        var handled = new ConcurrentDictionary<string, int>();
        var allHandled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var allConcurrent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlight = 0;
        var maxInFlight = 0;
        var errors = new ConcurrentQueue<Exception>();
        await using var processor = harness.Client.CreateProcessor("work", new ServiceBusProcessorOptions
        {
            MaxConcurrentCalls = Concurrency,
            AutoCompleteMessages = false,
        });
        processor.ProcessMessageAsync += async args =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref maxInFlight, now);
            if (now == Concurrency)
            {
                allConcurrent.TrySetResult();
            }

            // The first handlers hold their message until eight run at once (or the wait ends), proving the concurrency.
            try
            {
                await allConcurrent.Task.WaitAsync(Wait, args.CancellationToken);
            }
            catch (TimeoutException)
            {
                // Fewer than eight ran at once: the assertion on the maximum below reports it.
            }

            Interlocked.Decrement(ref inFlight);
            await args.CompleteMessageAsync(args.Message);
            if (handled.AddOrUpdate(args.Message.MessageId, 1, (_, n) => n + 1) > 0 && handled.Count == Count)
            {
                allHandled.TrySetResult();
            }
        };
        processor.ProcessErrorAsync += args =>
        {
            errors.Enqueue(args.Exception);
            return Task.CompletedTask;
        };

        await processor.StartProcessingAsync();
        await allHandled.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await broker.WaitForSettlementsAsync("work", SettlementOutcome.Completed, Count, Wait);
        await processor.StopProcessingAsync();

        Assert.Empty(errors);
        Assert.Equal(Concurrency, maxInFlight);
        Assert.All(handled.Values, n => Assert.Equal(1, n));
        var settlements = ApplicationSettlements(broker.Settlements);
        Assert.Equal(Count, settlements.Count);
        Assert.All(settlements, s => Assert.Equal(SettlementOutcome.Completed, s.Outcome));
        Assert.Equal(Count, settlements.Select(s => s.SequenceNumber).Distinct().Count());
        Assert.Empty(broker.PeekMessages("work"));
    }

    [Fact]
    public async Task A_processor_sees_the_higher_delivery_count_after_it_abandons_a_message()
    {
        await using var harness = await BrokerHarness.StartAsync();
        await harness.SendAsync("retry", Message("r-1"));
        var deliveryCounts = new ConcurrentQueue<int>();
        var completed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var processor = harness.Client.CreateProcessor("retry", new ServiceBusProcessorOptions { MaxConcurrentCalls = 8, AutoCompleteMessages = false });
        processor.ProcessMessageAsync += async args =>
        {
            deliveryCounts.Enqueue(args.Message.DeliveryCount);
            if (args.Message.DeliveryCount == 1)
            {
                await args.AbandonMessageAsync(args.Message);
                return;
            }

            await args.CompleteMessageAsync(args.Message);
            completed.TrySetResult();
        };
        processor.ProcessErrorAsync += args =>
        {
            completed.TrySetException(args.Exception);
            return Task.CompletedTask;
        };

        await processor.StartProcessingAsync();
        await completed.Task.WaitAsync(Wait);
        await processor.StopProcessingAsync();

        Assert.Equal([1, 2], deliveryCounts);
        Assert.Equal([SettlementOutcome.Abandoned, SettlementOutcome.Completed], ApplicationSettlements(harness.Broker.Settlements).Select(s => s.Outcome));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}

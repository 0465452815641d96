using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using OpenTelemetry;
using Xunit;
using static Messaging.Tests.Core.CoreTestSupport;

namespace Messaging.Tests.Core;

// These tests deliberately resume on thread-pool threads without the test's synchronization context: the ambient
// context must survive ConfigureAwait(false) continuations, as in library and handler code.
#pragma warning disable xUnit1030

/// <summary>
/// The consumer scope: the ambient context inside (span, parenting, baggage) and exactly the previous ambient
/// context after it, whatever the handler did. Every scope here is started and disposed in the test method's own
/// flow: an async helper method would restore the caller's AsyncLocals by itself and hide a broken restore.
/// </summary>
public sealed class ConsumerScopeTests
{
    // ---- restoring the previous ambient context -------------------------------------------------------------

    [Fact]
    public void Dispose_restores_the_previous_activity_object_and_baggage()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        var instrumentation = Instrumentation();
        using var outer = AmbientSource.StartRoot();
        Baggage.Current = Bag(("outer", "1"), ("shared", "outer"));

        var scope = instrumentation.StartConsumer(Incoming(destination, RemoteContext(), "shared=message,m=1"));
        Assert.NotSame(outer, Activity.Current);
        Assert.Equal(Contents(Bag(("shared", "message"), ("m", "1"))), Contents(Baggage.Current));
        scope.Dispose();

        Assert.Same(outer, Activity.Current);
        Assert.Equal(Contents(Bag(("outer", "1"), ("shared", "outer"))), Contents(Baggage.Current));
    }

    [Fact]
    public void Dispose_restores_when_there_was_no_ambient_context()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        Activity.Current = null;

        var scope = Instrumentation().StartConsumer(Incoming(destination, RemoteContext(), "m=1"));
        Assert.NotNull(Activity.Current);
        Assert.Equal("1", Baggage.Current.GetBaggage("m"));
        scope.Dispose();

        Assert.Null(Activity.Current);
        Assert.Equal(0, Baggage.Current.Count);
    }

    [Fact]
    public async Task Dispose_restores_after_the_handler_throws_across_awaits()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        using var outer = AmbientSource.StartRoot();
        Baggage.Current = Bag(("outer", "1"));

        var scope = Instrumentation().StartConsumer(Incoming(destination, RemoteContext(), "m=1"));
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            // The handler's own flow: it inherits the scope's context.
            await Task.Yield();
            Assert.Equal("1", Baggage.Current.GetBaggage("m"));
            throw new InvalidOperationException("handler failed");
        });
        scope.RecordException(thrown);
        scope.Dispose();

        Assert.Same(outer, Activity.Current);
        Assert.Equal(Contents(Bag(("outer", "1"))), Contents(Baggage.Current));
        var span = Assert.Single(collector.Exported);
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal(typeof(InvalidOperationException).FullName, span.GetTagItem("error.type"));
    }

    [Fact]
    public async Task Dispose_in_finally_restores_when_the_exception_propagates_from_the_scopes_own_flow()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        using var outer = AmbientSource.StartRoot();
        Baggage.Current = Bag(("outer", "1"));
        var instrumentation = Instrumentation();

        var caught = false;
        try
        {
            var scope = instrumentation.StartConsumer(Incoming(destination, RemoteContext(), "m=1"));
            try
            {
                await Task.Yield();
                Baggage.SetBaggage("added-by-handler", "1");
                throw new FormatException("bad message");
            }
            finally
            {
                scope.Dispose();
            }
        }
        catch (FormatException)
        {
            caught = true;
        }

        Assert.True(caught);
        Assert.Same(outer, Activity.Current);
        Assert.Equal(Contents(Bag(("outer", "1"))), Contents(Baggage.Current));
    }

    [Fact]
    public async Task Dispose_restores_after_the_handler_is_cancelled()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        using var outer = AmbientSource.StartRoot();
        Baggage.Current = Bag(("outer", "1"));
        using var cancellation = new CancellationTokenSource();

        var scope = Instrumentation().StartConsumer(Incoming(destination, RemoteContext(), "m=1"));
        var cancelled = false;
        try
        {
            await Task.Yield();
            await cancellation.CancelAsync();
            await Task.FromCanceled(cancellation.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            cancelled = true;
        }
        finally
        {
            scope.Dispose();
        }

        Assert.True(cancelled);
        Assert.Same(outer, Activity.Current);
        Assert.Equal(Contents(Bag(("outer", "1"))), Contents(Baggage.Current));
    }

    [Fact]
    public async Task Dispose_restores_after_the_handler_replaced_activity_and_baggage()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        using var outer = AmbientSource.StartRoot();
        Baggage.Current = Bag(("outer", "1"));

        var scope = Instrumentation().StartConsumer(Incoming(destination, RemoteContext(), "m=1"));

        // What a handler may do in its own flow: set baggage (into the holder it inherited), start spans it never
        // stops, replace Activity.Current outright.
        Baggage.Current = Bag(("handler", "1"));
        Baggage.SetBaggage("handler2", "2");
        var child = AmbientSource.Source.StartActivity("handler child", ActivityKind.Internal);
        Assert.NotNull(child);
        await Task.Yield();
        using var unrelated = new Activity("unrelated").Start();
        Activity.Current = unrelated;
        await Task.Run(() => Baggage.SetBaggage("from-task-run", "3")).ConfigureAwait(false);

        scope.Dispose();

        Assert.Same(outer, Activity.Current);
        Assert.Equal(Contents(Bag(("outer", "1"))), Contents(Baggage.Current));
        Assert.False(outer.IsStopped);
    }

    [Fact]
    public async Task Dispose_restores_after_awaits_that_hop_threads()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        using var outer = AmbientSource.StartRoot();
        Baggage.Current = Bag(("outer", "1"));
        var remote = RemoteContext();

        var scope = Instrumentation().StartConsumer(Incoming(destination, remote, "m=1"));
        var consumer = Activity.Current;
        Assert.NotNull(consumer);

        await Task.Yield();
        AssertInside();
        await Task.Run(AssertInside).ConfigureAwait(false);
        AssertInside();
        await Task.Run(async () =>
        {
            await Task.Yield();
            AssertInside();
        }).ConfigureAwait(false);
        AssertInside();
        await Task.Yield();
        AssertInside();

        scope.Dispose();

        Assert.Same(outer, Activity.Current);
        Assert.Equal(Contents(Bag(("outer", "1"))), Contents(Baggage.Current));

        void AssertInside()
        {
            Assert.Same(consumer, Activity.Current);
            Assert.Equal(remote.TraceId, Activity.Current!.TraceId);
            Assert.Equal(Contents(Bag(("m", "1"))), Contents(Baggage.Current));
        }
    }

    [Fact]
    public async Task Scope_started_and_disposed_in_one_async_method_restores_at_every_level()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        using var outer = AmbientSource.StartRoot();
        Baggage.Current = Bag(("outer", "1"));
        var instrumentation = Instrumentation();

        // Twice in a row in the same flow, like a worker loop: the second message sees nothing of the first.
        for (var i = 0; i < 2; i++)
        {
            var scope = instrumentation.StartConsumer(Incoming(destination, RemoteContext(), $"m{i}=v"));
            await Task.Yield();
            Assert.Equal(Contents(Bag(($"m{i}", "v"))), Contents(Baggage.Current));
            Baggage.SetBaggage($"added{i}", "x"); // the handler adds baggage: it must not survive the message
            await Task.Run(() => { }).ConfigureAwait(false);
            Assert.Equal(2, Baggage.Current.Count);
            scope.Dispose();

            Assert.Same(outer, Activity.Current);
            Assert.Equal(Contents(Bag(("outer", "1"))), Contents(Baggage.Current));
        }
    }

    [Fact]
    public void Nested_scopes_restore_in_order_and_dispose_is_idempotent()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        using var outer = AmbientSource.StartRoot();
        Baggage.Current = Bag(("outer", "1"));
        var instrumentation = Instrumentation();

        var first = instrumentation.StartConsumer(Incoming(destination, RemoteContext(), "a=1"));
        var firstSpan = Activity.Current;
        var second = instrumentation.StartConsumer(Incoming(destination, RemoteContext(), "b=2"));
        Assert.Equal(Contents(Bag(("b", "2"))), Contents(Baggage.Current));

        second.Dispose();
        Assert.Same(firstSpan, Activity.Current);
        Assert.Equal(Contents(Bag(("a", "1"))), Contents(Baggage.Current));

        first.Dispose();
        Assert.Same(outer, Activity.Current);
        Assert.Equal(Contents(Bag(("outer", "1"))), Contents(Baggage.Current));

        // A second Dispose must not restore anything again (here: the first scope's snapshot over a new scope).
        var third = instrumentation.StartConsumer(Incoming(destination, RemoteContext(), "c=3"));
        var thirdSpan = Activity.Current;
        second.Dispose();
        first.Dispose();
        Assert.Same(thirdSpan, Activity.Current);
        Assert.Equal(Contents(Bag(("c", "3"))), Contents(Baggage.Current));
        third.Dispose();
        Assert.Same(outer, Activity.Current);
        Assert.Equal(3, collector.Exported.Count);
    }

    // ---- the shared-holder leak ----------------------------------------------------------------------------

    [Fact]
    public async Task Scope_never_writes_into_the_outer_baggage_holder_while_it_runs()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        var instrumentation = Instrumentation();

        // The outer flow owns a baggage holder; flows started from it inherit a reference to the same holder.
        Baggage.Current = Bag(("outer", "1"));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var consumer = Task.Run(async () =>
        {
            var scope = instrumentation.StartConsumer(Incoming(destination, RemoteContext(), "message=1"));
            try
            {
                Baggage.SetBaggage("handler", "1");
                started.SetResult();
                await release.Task.WaitAsync(WaitTimeout);
                Assert.Equal(Contents(Bag(("message", "1"), ("handler", "1"))), Contents(Baggage.Current));
            }
            finally
            {
                scope.Dispose();
            }

            Assert.Equal(Contents(Bag(("outer", "1"))), Contents(Baggage.Current));
        });

        await started.Task.WaitAsync(WaitTimeout);

        // While the scope is attached in the other flow, this flow still sees its own baggage only.
        Assert.Equal(Contents(Bag(("outer", "1"))), Contents(Baggage.Current));
        release.SetResult();
        await consumer.WaitAsync(WaitTimeout);
        Assert.Equal(Contents(Bag(("outer", "1"))), Contents(Baggage.Current));
    }

    [Fact]
    public async Task Scope_without_message_baggage_never_writes_into_the_outer_holder()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        var instrumentation = Instrumentation();
        Baggage.Current = Bag(("outer", "1"));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var consumer = Task.Run(async () =>
        {
            using var scope = instrumentation.StartConsumer(Incoming(destination, RemoteContext()));

            // The outer baggage is not this message's: the handler starts with none.
            Assert.Equal(0, Baggage.Current.Count);
            Baggage.Current = Bag(("handler", "1"));
            started.SetResult();
            await release.Task.WaitAsync(WaitTimeout);
        });

        await started.Task.WaitAsync(WaitTimeout);
        Assert.Equal(Contents(Bag(("outer", "1"))), Contents(Baggage.Current));
        release.SetResult();
        await consumer.WaitAsync(WaitTimeout);
        Assert.Equal(Contents(Bag(("outer", "1"))), Contents(Baggage.Current));
    }

    [Fact]
    public async Task Thousand_concurrent_scopes_never_see_each_others_trace_or_baggage()
    {
        const int Count = 1000;
        var destination = UniqueDestination("concurrent");
        using var collector = SpansOf(destination);
        var instrumentation = Instrumentation();
        using var outer = AmbientSource.StartRoot();
        Baggage.Current = Bag(("outer", "1"));

        // Inject a distinct trace and baggage into a distinct carrier per message.
        var messages = new IncomingMessage[Count];
        var traceIds = new ActivityTraceId[Count];
        for (var i = 0; i < Count; i++)
        {
            var headers = new Dictionary<string, object?>(StringComparer.Ordinal);
            using (var producer = new Activity("producer").SetParentId(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded).Start())
            {
                Baggage.Current = Bag(("msg", i.ToString(CultureInfo.InvariantCulture)), ("trace", producer.TraceId.ToHexString()));
                instrumentation.InjectCurrent(new DictionaryHeaderCarrier(headers));
                traceIds[i] = producer.TraceId;
            }

            messages[i] = new IncomingMessage(TestSystem, destination, new DictionaryHeaderCarrier(headers));
        }

        Activity.Current = outer;
        Baggage.Current = Bag(("outer", "1"));
        Assert.Equal(Count, traceIds.Distinct().Count());

        var failures = new ConcurrentQueue<string>();
        var attached = 0;
        var allAttached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = new Task[Count];
        for (var i = 0; i < Count; i++)
        {
            var index = i;
            tasks[i] = Task.Run(async () =>
            {
                var scope = instrumentation.StartConsumer(messages[index]);
                try
                {
                    Check(index, scope, "after start");
                    if (Interlocked.Increment(ref attached) == Count)
                    {
                        allAttached.SetResult();
                    }

                    // Every scope is alive at this point: they all overlap.
                    await allAttached.Task.WaitAsync(WaitTimeout);
                    Check(index, scope, "after all attached");
                    await Task.Yield();
                    Check(index, scope, "after yield");
                    await Task.Run(() => Check(index, scope, "inside Task.Run")).ConfigureAwait(false);
                    Check(index, scope, "after Task.Run");
                    await Task.Yield();
                    Check(index, scope, "after second yield");
                }
                finally
                {
                    scope.Dispose();
                }

                if (!ReferenceEquals(Activity.Current, outer) || Baggage.Current.GetBaggage("outer") != "1" || Baggage.Current.Count != 1)
                {
                    failures.Enqueue($"{index}: ambient context not restored after dispose");
                }
            });
        }

        await Task.WhenAll(tasks).WaitAsync(WaitTimeout);

        Assert.Empty(failures);
        Assert.Same(outer, Activity.Current);
        Assert.Equal(Contents(Bag(("outer", "1"))), Contents(Baggage.Current));
        var spans = collector.Exported;
        Assert.Equal(Count, spans.Count);
        Assert.Equal(traceIds.ToHashSet(), spans.Select(s => s.TraceId).ToHashSet());

        void Check(int index, ConsumerScope scope, string when)
        {
            var current = Activity.Current;
            var expectedMsg = index.ToString(CultureInfo.InvariantCulture);
            if (current is null || !ReferenceEquals(current, scope.Activity))
            {
                failures.Enqueue($"{index} {when}: Activity.Current is not this message's consumer span");
            }
            else if (current.TraceId != traceIds[index])
            {
                failures.Enqueue($"{index} {when}: trace {current.TraceId} instead of {traceIds[index]}");
            }

            var baggage = Baggage.Current;
            if (baggage.Count != 2 || baggage.GetBaggage("msg") != expectedMsg || baggage.GetBaggage("trace") != traceIds[index].ToHexString())
            {
                failures.Enqueue($"{index} {when}: baggage {string.Join(',', Contents(baggage))}");
            }
        }
    }

    // ---- what the scope makes current ----------------------------------------------------------------------

    [Fact]
    public void Child_mode_makes_the_consumer_span_current_as_a_child_of_the_remote_context()
    {
        var destination = UniqueDestination("orders");
        using var collector = SpansOf(destination);
        var remote = RemoteContext();
        var message = Incoming(destination, ("traceparent", TraceParent(remote)), ("baggage", "tenant=acme"), ("tracestate", "vendor=v1")) with
        {
            MessageId = "m-42",
            ConversationId = "conv-1",
            BodySize = 123,
            RoutingKey = "orders.created",
            Subscription = "sub-1",
            DeliveryCount = 2,
            ServerAddress = "broker.local",
            ServerPort = 5672,
        };

        using (var scope = Instrumentation().StartConsumer(message))
        {
            var span = Activity.Current;
            Assert.NotNull(span);
            Assert.Same(scope.Activity, span);
            Assert.Equal(ActivityKind.Consumer, span.Kind);
            Assert.Equal("process " + destination, span.DisplayName);
            Assert.Equal(remote.TraceId, span.TraceId);
            Assert.Equal(remote.SpanId, span.ParentSpanId);
            Assert.True(span.HasRemoteParent);
            Assert.Equal("vendor=v1", span.TraceStateString);
            AssertLinkedTo(remote, span);
            Assert.Equal(ParentingMode.Child, scope.Parenting);
            Assert.Equal(remote.TraceId, scope.RemoteContext.TraceId);
            Assert.Equal(remote.SpanId, scope.RemoteContext.SpanId);
            Assert.Equal("acme", Baggage.Current.GetBaggage("tenant"));
            Assert.Equal(Contents(Baggage.Current), Contents(scope.Baggage));

            Assert.Equal(TestSystem, span.GetTagItem("messaging.system"));
            Assert.Equal(destination, span.GetTagItem("messaging.destination.name"));
            Assert.Equal("process", span.GetTagItem("messaging.operation.type"));
            Assert.Equal("process", span.GetTagItem("messaging.operation.name"));
            Assert.Equal("m-42", span.GetTagItem("messaging.message.id"));
            Assert.Equal("conv-1", span.GetTagItem("messaging.message.conversation_id"));
            Assert.Equal(123L, span.GetTagItem("messaging.message.body.size"));
            Assert.Equal("orders.created", span.GetTagItem("messaging.rabbitmq.destination.routing_key"));
            Assert.Equal("sub-1", span.GetTagItem("messaging.destination.subscription.name"));
            Assert.Equal(2, span.GetTagItem("messaging.message.delivery_count"));
            Assert.Equal("broker.local", span.GetTagItem("server.address"));
            Assert.Equal(5672, span.GetTagItem("server.port"));
        }

        Assert.Single(collector.Exported);
    }

    [Fact]
    public void Link_mode_makes_a_root_with_exactly_one_link_to_the_remote_context()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        var remote = RemoteContext();

        using var scope = Instrumentation(o => o.Parenting = ParentingMode.Link).StartConsumer(Incoming(destination, remote, "tenant=acme"));

        var span = AssertRootWithLinkTo(remote, scope);
        Assert.Same(span, Activity.Current);
        Assert.Equal(ParentingMode.Link, scope.Parenting);
        Assert.Equal("acme", Baggage.Current.GetBaggage("tenant"));
    }

    [Theory]
    [InlineData(ParentingMode.Child)]
    [InlineData(ParentingMode.Link)]
    public void A_sampler_sees_the_remote_context_at_creation_as_the_parent_or_as_the_link(ParentingMode mode)
    {
        var destination = UniqueDestination();
        var remote = RemoteContext();
        var seen = new ConcurrentQueue<(ActivityContext Parent, ActivityLink[] Links)>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == MessagingTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
            {
                if (options.Name != "process " + destination)
                {
                    return ActivitySamplingResult.None;
                }

                seen.Enqueue((options.Parent, [.. options.Links ?? []]));
                return ActivitySamplingResult.AllDataAndRecorded;
            },
        };
        ActivitySource.AddActivityListener(listener);

        using (var scope = Instrumentation(o => o.Parenting = mode).StartConsumer(Incoming(destination, remote, "tenant=acme")))
        {
            // Whatever a sampler saw, the span ends up with exactly one link to the creation context.
            AssertLinkedTo(remote, scope.Activity!);
        }

        var (parent, links) = Assert.Single(seen);
        if (mode == ParentingMode.Child)
        {
            // The link would repeat the parent, which the sampler already has: it is added after the start.
            Assert.Equal(remote.SpanId, parent.SpanId);
            Assert.Empty(links);
        }
        else
        {
            Assert.Equal(default, parent);
            Assert.Equal(remote.SpanId, Assert.Single(links).Context.SpanId);
        }
    }

    [Fact]
    public void Untrusted_makes_a_root_with_a_link_and_no_baggage_whatever_the_policy_says()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        var remote = RemoteContext();
        Baggage.Current = Bag(("outer", "1"));
        var instrumentation = Instrumentation(o =>
        {
            o.Trust = ContextTrust.Untrusted;
            o.Parenting = ParentingMode.Child;
            o.ParentingPolicy = _ => ParentingMode.Child;
        });

        using (var scope = instrumentation.StartConsumer(Incoming(destination, remote, "tenant=acme,user=bob")))
        {
            AssertRootWithLinkTo(remote, scope);
            Assert.Equal(ParentingMode.Link, scope.Parenting);
            Assert.Equal(0, Baggage.Current.Count);
            Assert.Equal(0, scope.Baggage.Count);
        }

        Assert.Equal(Contents(Bag(("outer", "1"))), Contents(Baggage.Current));
    }

    [Fact]
    public void DropBaggage_keeps_the_parent_and_empties_the_baggage()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        var remote = RemoteContext();
        Baggage.Current = Bag(("outer", "1"));

        using var scope = Instrumentation(o => o.Trust = ContextTrust.DropBaggage).StartConsumer(Incoming(destination, remote, "tenant=acme"));

        var span = Activity.Current;
        Assert.NotNull(span);
        Assert.Equal(remote.TraceId, span.TraceId);
        Assert.Equal(remote.SpanId, span.ParentSpanId);
        AssertLinkedTo(remote, span);
        Assert.Equal(ParentingMode.Child, scope.Parenting);
        Assert.Equal(0, Baggage.Current.Count);
        Assert.Equal(0, scope.Baggage.Count);
    }

    [Fact]
    public void Parenting_policy_decides_per_message_from_the_incoming_message()
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        var seen = new List<IncomingMessage>();
        var instrumentation = Instrumentation(o =>
        {
            o.Parenting = ParentingMode.Child;
            o.ParentingPolicy = message =>
            {
                seen.Add(message);
                return message.Redelivered ? ParentingMode.Link : ParentingMode.Child;
            };
        });

        var firstRemote = RemoteContext();
        var first = Incoming(destination, firstRemote) with { MessageId = "first" };
        using (var scope = instrumentation.StartConsumer(first))
        {
            Assert.Equal(ParentingMode.Child, scope.Parenting);
            Assert.Equal(firstRemote.SpanId, Activity.Current!.ParentSpanId);
        }

        var redeliveredRemote = RemoteContext();
        var redelivered = Incoming(destination, redeliveredRemote) with { MessageId = "again", Redelivered = true };
        using (var scope = instrumentation.StartConsumer(redelivered))
        {
            AssertRootWithLinkTo(redeliveredRemote, scope);
            Assert.Equal(ParentingMode.Link, scope.Parenting);
        }

        Assert.Equal(new[] { "first", "again" }, seen.Select(m => m.MessageId));
        Assert.All(seen, m => Assert.Equal(destination, m.Destination));
    }

    [Theory]
    [InlineData(ParentingMode.Child)]
    [InlineData(ParentingMode.Link)]
    public void Throwing_parenting_policy_falls_back_to_the_default_and_warns(ParentingMode fallback)
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        using var logs = new FakeLoggerProvider();
        using var loggerFactory = new LoggerFactory([logs]);
        var remote = RemoteContext();
        var instrumentation = Instrumentation(
            o =>
            {
                o.Parenting = fallback;
                o.ParentingPolicy = _ => throw new InvalidOperationException("policy bug");
            },
            loggerFactory);

        using (var scope = instrumentation.StartConsumer(Incoming(destination, remote, "k=v")))
        {
            Assert.Equal(fallback, scope.Parenting);
            if (fallback == ParentingMode.Child)
            {
                Assert.Equal(remote.SpanId, Activity.Current!.ParentSpanId);
                AssertLinkedTo(remote, Activity.Current);
            }
            else
            {
                AssertRootWithLinkTo(remote, scope);
            }

            Assert.Equal("v", Baggage.Current.GetBaggage("k"));
        }

        var warning = Assert.Single(logs.Collector.GetSnapshot(), e => e.Id.Id == 3);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.IsType<InvalidOperationException>(warning.Exception);
    }

    [Theory]
    [InlineData(ParentingMode.Child)]
    [InlineData(ParentingMode.Link)]
    public void Missing_context_makes_a_root_without_link_and_is_counted_and_logged_once(ParentingMode mode)
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        using var metrics = new MetricCollector<long>(Instruments.ContextMissing);
        using var logs = new FakeLoggerProvider();
        using var loggerFactory = new LoggerFactory([logs]);
        var instrumentation = Instrumentation(o => o.Parenting = mode, loggerFactory);

        using (var scope = instrumentation.StartConsumer(Incoming(destination, ("baggage", "k=v"), ("other", "x"))))
        {
            AssertRootWithoutLinks(scope);
            Assert.Equal("v", Baggage.Current.GetBaggage("k"));
        }

        using (var scope = instrumentation.StartConsumer(Incoming(destination)))
        {
            AssertRootWithoutLinks(scope);
        }

        var counted = Of(metrics, destination);
        Assert.Equal(2, counted.Count);
        Assert.All(counted, m => Assert.Equal("missing", m.Tag("reason")));
        Assert.All(counted, m => Assert.Equal(1, m.Value));

        // Rate-limited: one warning for the two messages.
        var warning = Assert.Single(logs.Collector.GetSnapshot(), e => e.Id.Id == 1);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal("missing", warning.GetStructuredStateValue("Reason"));
    }

    public static TheoryData<object?> MalformedTraceParents => new()
    {
        "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // all-zero span id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", // no flags
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", // short trace id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // forbidden version
        "",
        new byte[] { 0xFF, 0xFE, 0x00, 0x01 },
    };

    [Theory]
    [MemberData(nameof(MalformedTraceParents))]
    public void Malformed_context_makes_a_root_without_link_and_is_counted_as_malformed(object? traceParent)
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        using var metrics = new MetricCollector<long>(Instruments.ContextMissing);

        using (var scope = Instrumentation(o => o.Parenting = ParentingMode.Link).StartConsumer(Incoming(destination, ("traceparent", traceParent), ("baggage", "k=v"))))
        {
            AssertRootWithoutLinks(scope);
            Assert.Equal("v", Baggage.Current.GetBaggage("k"));
        }

        var counted = Assert.Single(Of(metrics, destination));
        Assert.Equal("malformed", counted.Tag("reason"));
    }

    [Theory]
    [InlineData(ParentingMode.Child, false)]
    [InlineData(ParentingMode.Link, false)]
    [InlineData(ParentingMode.Link, true)]
    public void Unrelated_ambient_activity_never_becomes_the_consumer_parent(ParentingMode mode, bool withContext)
    {
        var destination = UniqueDestination();
        using var collector = SpansOf(destination);
        using var ambient = AmbientSource.StartRoot("unrelated ambient work");
        var remote = RemoteContext();
        var message = withContext ? Incoming(destination, remote) : Incoming(destination);

        using (var scope = Instrumentation(o => o.Parenting = mode).StartConsumer(message))
        {
            var span = Activity.Current;
            Assert.NotNull(span);
            Assert.Same(scope.Activity, span);
            Assert.Null(span.Parent);
            Assert.Equal(default, span.ParentSpanId);
            Assert.NotEqual(ambient.TraceId, span.TraceId);
            Assert.DoesNotContain(span.Links, l => l.Context.TraceId == ambient.TraceId);
            if (withContext)
            {
                AssertRootWithLinkTo(remote, scope);
            }
            else
            {
                AssertRootWithoutLinks(scope);
            }
        }

        Assert.Same(ambient, Activity.Current);
    }

    [Fact]
    public void A_throwing_listener_leaves_the_ambient_activity_in_place()
    {
        var destination = UniqueDestination();

        // The subject is a listener whose sampling callback throws: a raw ActivityListener, no exporter.
        using var listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == MessagingTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                options.Name == "process " + destination ? throw new InvalidOperationException("listener bug") : ActivitySamplingResult.None,
        };
        ActivitySource.AddActivityListener(listener);
        using var outer = AmbientSource.StartRoot();

        Assert.Throws<InvalidOperationException>(() => Instrumentation().StartConsumer(Incoming(destination, RemoteContext())));

        Assert.Same(outer, Activity.Current);
    }

    private static Activity AssertRootWithLinkTo(ActivityContext remote, ConsumerScope scope)
    {
        var span = scope.Activity;
        Assert.NotNull(span);
        Assert.Null(span.Parent);
        Assert.Equal(default, span.ParentSpanId);
        Assert.False(span.HasRemoteParent);
        Assert.NotEqual(remote.TraceId, span.TraceId);
        AssertLinkedTo(remote, span);
        return span;
    }

    /// <summary>Exactly one link, to the creation context: in Link mode, and in Child mode beside the parent.</summary>
    private static void AssertLinkedTo(ActivityContext remote, Activity span)
    {
        var link = Assert.Single(span.Links);
        Assert.Equal(remote.TraceId, link.Context.TraceId);
        Assert.Equal(remote.SpanId, link.Context.SpanId);
    }

    private static void AssertRootWithoutLinks(ConsumerScope scope)
    {
        var span = scope.Activity;
        Assert.NotNull(span);
        Assert.Same(span, Activity.Current);
        Assert.Null(span.Parent);
        Assert.Equal(default, span.ParentSpanId);
        Assert.Empty(span.Links);
        Assert.Null(scope.Parenting);
        Assert.Equal(default, scope.RemoteContext.TraceId);
    }
}

using System.Diagnostics;
using Messaging.Testing.Internal;

namespace Messaging.Testing;

/// <summary>
/// A message one of the host's workers handled and settled: what arrived, its CONSUMER span(s), the baggage the
/// handler saw and the outcome. The <c>Should…</c> methods assert on it and throw a
/// <see cref="MessagingTestHarnessException"/> describing what was seen when the expectation does not hold; each
/// returns this message, so assertions chain.
/// </summary>
public sealed class ConsumedMessage
{
    private readonly IMessageSerializer _serializer;
    private readonly object _bodyGate = new();
    private Type? _bodyType;
    private object? _body;

    internal ConsumedMessage(
        ConsumerWorker worker,
        ReceivedMessage received,
        IMessageSerializer serializer,
        ConsumeOutcome outcome,
        string reason,
        Exception? settlementError,
        HandlerAttempts? attempts)
    {
        _serializer = serializer;
        var message = received.Message;
        Worker = worker.Name;
        MessageType = MessageTypeOf(worker.GetType());
        System = message.System;
        Destination = message.Destination;
        MessageId = message.MessageId;
        Redelivered = message.Redelivered;
        Headers = Describe.Copy(message.Headers);
        Body = received.Body.ToArray();
        Outcome = outcome;
        Reason = reason;
        SettlementError = settlementError;
        Attempts = attempts?.Count ?? 0;
        Exception = attempts?.LastError;
        Spans = attempts?.Spans ?? [];
        Span = attempts?.LastSpan;
        ProducerContext = attempts?.RemoteContext ?? default;
        Parenting = attempts?.Parenting;
        Baggage = attempts?.Baggage ?? new Dictionary<string, string>();
    }

    /// <summary>Gets the name of the worker that handled the message.</summary>
    public string Worker { get; }

    /// <summary>Gets the worker's message type (its <c>ConsumerWorker&lt;TMessage&gt;</c> argument), when it has one.</summary>
    public Type? MessageType { get; }

    /// <summary>Gets the <c>messaging.system</c>, for example <c>rabbitmq</c> or <c>inmemory</c>.</summary>
    public string System { get; }

    /// <summary>Gets the queue the message was consumed from.</summary>
    public string Destination { get; }

    /// <summary>Gets the message id, when the producer set one.</summary>
    public string? MessageId { get; }

    /// <summary>Gets a value indicating whether the broker had delivered the message before.</summary>
    public bool Redelivered { get; }

    /// <summary>Gets the headers as they arrived, those readable as text (names compared ignoring case; several values joined by commas).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>Gets a copy of the raw body.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Gets how the worker settled the message.</summary>
    public ConsumeOutcome Outcome { get; }

    /// <summary>Gets why it was dead-lettered (the exception type of the last attempt) or requeued (<c>shutdown</c>); empty when acked.</summary>
    public string Reason { get; }

    /// <summary>Gets how many times the handler ran for this delivery.</summary>
    public int Attempts { get; }

    /// <summary>Gets what the last attempt's handler threw, or <see langword="null"/> when it completed.</summary>
    public Exception? Exception { get; }

    /// <summary>Gets what the transport threw while settling, or <see langword="null"/> when the broker was told.</summary>
    public Exception? SettlementError { get; }

    /// <summary>Gets the CONSUMER span of the last attempt, or <see langword="null"/> when none was recorded.</summary>
    public Activity? Span { get; }

    /// <summary>Gets the CONSUMER spans of every attempt that recorded one, in order.</summary>
    public IReadOnlyList<Activity> Spans { get; }

    /// <summary>Gets the producer context that arrived with the message (invalid when missing or malformed).</summary>
    public ActivityContext ProducerContext { get; }

    /// <summary>Gets how the span relates to <see cref="ProducerContext"/>, or <see langword="null"/> when no valid context arrived.</summary>
    public ParentingMode? Parenting { get; }

    /// <summary>Gets the baggage the handler's last attempt started with (after trust and the inbound policy).</summary>
    public IReadOnlyDictionary<string, string> Baggage { get; }

    /// <summary>Deserialises the body with the worker's serializer.</summary>
    /// <typeparam name="T">The body type.</typeparam>
    /// <returns>The body.</returns>
    public T GetBody<T>()
    {
        lock (_bodyGate)
        {
            if (_bodyType != typeof(T))
            {
                _body = _serializer.Deserialize<T>(Body);
                _bodyType = typeof(T);
            }

            return (T)_body!;
        }
    }

    /// <summary>Asserts that the message was acknowledged and the broker was told.</summary>
    /// <returns>This message.</returns>
    public ConsumedMessage ShouldBeAcked()
    {
        if (Outcome != ConsumeOutcome.Acked || SettlementError is not null)
        {
            throw Fail("to be acked");
        }

        return this;
    }

    /// <summary>Asserts that the message was dead-lettered, optionally for <paramref name="reason"/> (compared exactly).</summary>
    /// <param name="reason">The expected reason, for example the exception type's full name; <see langword="null"/> for any.</param>
    /// <returns>This message.</returns>
    public ConsumedMessage ShouldBeDeadLettered(string? reason = null)
    {
        if (Outcome != ConsumeOutcome.DeadLettered || (reason is not null && !string.Equals(Reason, reason, StringComparison.Ordinal)))
        {
            throw Fail(reason is null ? "to be dead-lettered" : $"to be dead-lettered with reason '{reason}'");
        }

        return this;
    }

    /// <summary>Asserts that the message was dead-lettered because its handler threw <typeparamref name="TException"/> on the last attempt.</summary>
    /// <typeparam name="TException">The exception type; the dead-letter reason is its full name.</typeparam>
    /// <returns>This message.</returns>
    public ConsumedMessage ShouldBeDeadLettered<TException>()
        where TException : Exception =>
        ShouldBeDeadLettered(typeof(TException).FullName);

    /// <summary>Asserts that the message was returned to its queue.</summary>
    /// <returns>This message.</returns>
    public ConsumedMessage ShouldBeRequeued()
    {
        if (Outcome != ConsumeOutcome.Requeued)
        {
            throw Fail("to be requeued");
        }

        return this;
    }

    /// <summary>
    /// Asserts that the CONSUMER span continues the producer's trace: same trace id, and the producer span as its parent
    /// (<see cref="ParentingMode.Child"/>).
    /// </summary>
    /// <param name="published">What the publish returned.</param>
    /// <returns>This message.</returns>
    public ConsumedMessage ShouldContinueTraceOf(PublishResult published) =>
        ShouldContinueTraceOf(ProducerContextOf(published, nameof(published)));

    /// <summary>Asserts that the CONSUMER span continues the trace of a publish the harness saw; see <see cref="ShouldContinueTraceOf(PublishResult)"/>.</summary>
    /// <param name="published">The publish.</param>
    /// <returns>This message.</returns>
    public ConsumedMessage ShouldContinueTraceOf(PublishedMessage published) =>
        ShouldContinueTraceOf(ProducerContextOf(published, nameof(published)));

    /// <summary>Asserts that the CONSUMER span is in <paramref name="producer"/>'s trace with <paramref name="producer"/>'s span as its parent.</summary>
    /// <param name="producer">The producer context (trace and span id).</param>
    /// <returns>This message.</returns>
    public ConsumedMessage ShouldContinueTraceOf(ActivityContext producer)
    {
        ProducerContextOf(producer, nameof(producer));
        var span = RequireSpan("to continue the producer's trace");
        if (span.TraceId != producer.TraceId || span.ParentSpanId != producer.SpanId)
        {
            throw Fail($"to continue the producer's trace: a CONSUMER span in trace {producer.TraceId.ToHexString()} with parent {producer.SpanId.ToHexString()}");
        }

        return this;
    }

    /// <summary>Asserts that the CONSUMER span has a span link to the producer's context (both parenting modes add one).</summary>
    /// <param name="published">What the publish returned.</param>
    /// <returns>This message.</returns>
    public ConsumedMessage ShouldBeLinkedTo(PublishResult published) =>
        ShouldBeLinkedTo(ProducerContextOf(published, nameof(published)));

    /// <summary>Asserts that the CONSUMER span links to a publish the harness saw; see <see cref="ShouldBeLinkedTo(PublishResult)"/>.</summary>
    /// <param name="published">The publish.</param>
    /// <returns>This message.</returns>
    public ConsumedMessage ShouldBeLinkedTo(PublishedMessage published) =>
        ShouldBeLinkedTo(ProducerContextOf(published, nameof(published)));

    /// <summary>Asserts that the CONSUMER span has a span link to <paramref name="producer"/>.</summary>
    /// <param name="producer">The producer context (trace and span id).</param>
    /// <returns>This message.</returns>
    public ConsumedMessage ShouldBeLinkedTo(ActivityContext producer)
    {
        ProducerContextOf(producer, nameof(producer));
        var span = RequireSpan("to be linked to the producer");
        if (!span.Links.Any(l => l.Context.TraceId == producer.TraceId && l.Context.SpanId == producer.SpanId))
        {
            throw Fail($"to have a span link to {Describe.Context(producer)}");
        }

        return this;
    }

    /// <summary>Asserts that the handler's baggage is exactly <paramref name="expected"/>: the same keys (compared exactly) with the same values.</summary>
    /// <param name="expected">The expected members.</param>
    /// <returns>This message.</returns>
    public ConsumedMessage ShouldHaveBaggage(IEnumerable<KeyValuePair<string, string>> expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var wanted = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var member in expected)
        {
            ArgumentNullException.ThrowIfNull(member.Key, nameof(expected));
            wanted[member.Key] = member.Value;
        }

        var equal = wanted.Count == Baggage.Count
            && wanted.All(p => Baggage.TryGetValue(p.Key, out var value) && string.Equals(value, p.Value, StringComparison.Ordinal));
        if (!equal)
        {
            throw Fail($"to have the baggage {Describe.Baggage(wanted)}");
        }

        return this;
    }

    /// <summary>Asserts that the handler's baggage holds <paramref name="key"/> with <paramref name="value"/> (other members may be there too).</summary>
    /// <param name="key">The key, compared exactly.</param>
    /// <param name="value">The value, compared exactly.</param>
    /// <returns>This message.</returns>
    public ConsumedMessage ShouldHaveBaggageMember(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        if (!Baggage.TryGetValue(key, out var actual) || !string.Equals(actual, value, StringComparison.Ordinal))
        {
            throw Fail($"to have the baggage member {key}={value}");
        }

        return this;
    }

    /// <summary>Describes the message in one paragraph: where it came from, its outcome, its span and its baggage.</summary>
    /// <returns>The description.</returns>
    public override string ToString()
    {
        var text = $"message {Describe.Id(MessageId)} on '{Destination}' (worker '{Worker}', {System}): {Describe.Outcome(Outcome, Reason, Attempts)}";
        if (Exception is not null)
        {
            text += $"; the last attempt threw {Exception.GetType().FullName}: {Exception.Message}";
        }

        if (SettlementError is not null)
        {
            text += $"; settling it failed with {SettlementError.GetType().FullName}: {SettlementError.Message}";
        }

        var parenting = Parenting?.ToString() ?? "none (no valid context arrived)";
        return text + $"; {Describe.Span(Span)}; producer context that arrived: {Describe.Context(ProducerContext)}, parenting {parenting}; baggage {Describe.Baggage(Baggage)}";
    }

    /// <summary>A one-line summary for "seen instead" lists.</summary>
    internal string Summary() =>
        $"message {Describe.Id(MessageId)} on '{Destination}' (worker '{Worker}'): {Describe.Outcome(Outcome, Reason, Attempts)}";

    /// <summary>Whether the worker's message type is <typeparamref name="T"/> (or derives from it) and the body matches.</summary>
    internal bool Matches<T>(Func<T, bool>? predicate)
    {
        if (MessageType is null || !typeof(T).IsAssignableFrom(MessageType))
        {
            return false;
        }

        if (predicate is null)
        {
            return true;
        }

        T body;
        try
        {
            body = GetBody<T>();
        }
#pragma warning disable CA1031 // A body the worker could not read either does not match any predicate.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }

        return predicate(body);
    }

    private static Type? MessageTypeOf(Type? worker)
    {
        for (; worker is not null; worker = worker.BaseType)
        {
            if (worker.IsGenericType && worker.GetGenericTypeDefinition() == typeof(ConsumerWorker<>))
            {
                return worker.GetGenericArguments()[0];
            }
        }

        return null;
    }

    private static ActivityContext ProducerContextOf(PublishResult published, string parameter) =>
        ProducerContextOf(published.ProducerContext, parameter);

    private static ActivityContext ProducerContextOf(PublishedMessage published, string parameter)
    {
        ArgumentNullException.ThrowIfNull(published, parameter);
        return ProducerContextOf(published.ProducerContext, parameter);
    }

    private static ActivityContext ProducerContextOf(ActivityContext context, string parameter) =>
        Describe.IsValid(context)
            ? context
            : throw new ArgumentException("The producer context is not valid: the publish had neither a recorded PRODUCER span nor a current context to inject.", parameter);

    private Activity RequireSpan(string expectation) =>
        Span ?? throw Fail(
            expectation + ", but no CONSUMER span was recorded for it. The harness listens to the 'Messaging' activity source, so the "
            + "host turned tracing off (MessagingOptions.DisableTracing) or its sampler dropped the span");

    private MessagingTestHarnessException Fail(string expectation) =>
        new($"Expected message {Describe.Id(MessageId)} on '{Destination}' {expectation}.\nSeen: {this}.");
}

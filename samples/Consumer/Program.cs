using System.CommandLine;
using Messaging;
using Messaging.Samples;
using Messaging.Samples.Consumer;

SampleHosting.UseUtf8Console();

var transport = SampleCommandLine.Transport(SampleCommandLine.InMemory);
var uri = SampleCommandLine.Uri();
var queue = SampleCommandLine.Queue();
var connectionString = ServiceBusSettings.ConnectionStringOption();
var topic = ServiceBusSettings.TopicOption();
var subscription = ServiceBusSettings.SubscriptionOption();
var queueType = SampleCommandLine.QueueType(
    "The type of queue the worker declares: classic, or quorum (replicated across a cluster; dead-lettering through the broker).");
var count = new Option<int>("--count")
{
    Description = "Exit (code 0) after handling this many messages. Default: run until stopped (Ctrl+C); "
        + "in-memory demo: the number of demo messages, 3.",
};
var baggage = SampleCommandLine.Baggage(
    "In-memory demo only: baggage for the demo messages, KEY=VALUE (repeatable; value taken literally after the first '='). "
    + "Default: tenant.id=acme corp+1 and cohort=beta.");
var parenting = new Option<string>("--parenting")
{
    Description = "How consumer spans relate to the producer: child (same trace) or link (new trace with a span link).",
    DefaultValueFactory = _ => "child",
};
parenting.AcceptOnlyFromAmong("child", "link");
var json = SampleCommandLine.Json();

var root = new RootCommand(
    "Messaging sample consumer: a hosted worker that handles orders with the producer's trace context and baggage. "
    + "Without arguments: a one-process demo on the in-memory transport.")
{
    transport,
    uri,
    queue,
    connectionString,
    topic,
    subscription,
    queueType,
    count,
    baggage,
    parenting,
    json,
};

root.SetAction((parseResult, cancellationToken) =>
{
    int? countValue = parseResult.GetResult(count) is null ? null : parseResult.GetValue(count);
    if (countValue is < 1)
    {
        return Task.FromResult(SampleCommandLine.Fail("--count must be at least 1."));
    }

    // The URI matters only for RabbitMQ: an odd $RABBITMQ_URI must not break the in-memory transport.
    if (!SampleCommandLine.TryParseAmqpUris(parseResult.GetValue(uri), out var amqpUris, out var uriError)
        && parseResult.GetValue(transport) == SampleCommandLine.RabbitMq)
    {
        return Task.FromResult(SampleCommandLine.Fail(uriError));
    }

    var baggageItems = parseResult.GetValue(baggage) ?? [];
    if (!SampleCommandLine.TryParseBaggage(baggageItems, out var members, out var baggageError))
    {
        return Task.FromResult(SampleCommandLine.Fail(baggageError));
    }

    if (string.IsNullOrWhiteSpace(parseResult.GetValue(queue)))
    {
        return Task.FromResult(SampleCommandLine.Fail("--queue must not be empty."));
    }

    ServiceBusSettings? serviceBus = null;
    if (parseResult.GetValue(transport) == ServiceBusSettings.Transport
        && !ServiceBusSettings.TryRead(parseResult, connectionString, topic, subscription, consumer: true, out serviceBus, out var serviceBusError))
    {
        return Task.FromResult(SampleCommandLine.Fail(serviceBusError));
    }

    if (!SampleCommandLine.TryCheckPropagators(out var propagatorError))
    {
        return Task.FromResult(SampleCommandLine.Fail(propagatorError));
    }

    var settings = new ConsumerSettings(
        parseResult.GetValue(transport)!,
        amqpUris,
        parseResult.GetValue(queue)!,
        parseResult.GetValue(queueType) == SampleCommandLine.Quorum,
        countValue,
        baggageItems.Length > 0 ? members : ConsumerSettings.DefaultDemoBaggage,
        BaggageGiven: baggageItems.Length > 0,
        parseResult.GetValue(parenting) == "link" ? ParentingMode.Link : ParentingMode.Child,
        parseResult.GetValue(json));
    return ConsumerApp.RunAsync(settings, cancellationToken, serviceBus);
});

var parsed = root.Parse(args);
return SampleCommandLine.CheckParseErrors(parsed)
    ?? await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

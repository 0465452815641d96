using System.CommandLine;
using Messaging.Samples;
using Messaging.Samples.Producer;

SampleHosting.UseUtf8Console();

var transport = SampleCommandLine.Transport(SampleCommandLine.RabbitMq);
var uri = SampleCommandLine.Uri();
var queue = SampleCommandLine.Queue();
var connectionString = ServiceBusSettings.ConnectionStringOption();
var topic = ServiceBusSettings.TopicOption();
var queueType = SampleCommandLine.QueueType(
    "classic: the producer declares the queue (durable, no arguments). quorum: it declares nothing; start the Consumer "
    + "with --queue-type quorum first, which declares the quorum queue with its dead-letter arguments.");
var count = new Option<int>("--count")
{
    Description = "How many messages to publish, each under its own new trace.",
    DefaultValueFactory = _ => 3,
};
var baggage = SampleCommandLine.Baggage(
    "Baggage for every message, KEY=VALUE (repeatable). The value is taken literally after the first '='; the library encodes it.");
var json = SampleCommandLine.Json();

var root = new RootCommand("Messaging sample producer: publishes orders with trace context and baggage (persistent, with publisher confirms).")
{
    transport,
    uri,
    queue,
    connectionString,
    topic,
    queueType,
    count,
    baggage,
    json,
};

root.SetAction((parseResult, cancellationToken) =>
{
    if (parseResult.GetValue(count) < 1)
    {
        return Task.FromResult(SampleCommandLine.Fail("--count must be at least 1."));
    }

    // The URI matters only for RabbitMQ: an odd $RABBITMQ_URI must not break the in-memory transport.
    if (!SampleCommandLine.TryParseAmqpUris(parseResult.GetValue(uri), out var amqpUris, out var uriError)
        && parseResult.GetValue(transport) == SampleCommandLine.RabbitMq)
    {
        return Task.FromResult(SampleCommandLine.Fail(uriError));
    }

    if (!SampleCommandLine.TryParseBaggage(parseResult.GetValue(baggage) ?? [], out var members, out var baggageError))
    {
        return Task.FromResult(SampleCommandLine.Fail(baggageError));
    }

    if (string.IsNullOrWhiteSpace(parseResult.GetValue(queue)))
    {
        return Task.FromResult(SampleCommandLine.Fail("--queue must not be empty."));
    }

    ServiceBusSettings? serviceBus = null;
    if (parseResult.GetValue(transport) == ServiceBusSettings.Transport
        && !ServiceBusSettings.TryRead(parseResult, connectionString, topic, null, consumer: false, out serviceBus, out var serviceBusError))
    {
        return Task.FromResult(SampleCommandLine.Fail(serviceBusError));
    }

    if (!SampleCommandLine.TryCheckPropagators(out var propagatorError))
    {
        return Task.FromResult(SampleCommandLine.Fail(propagatorError));
    }

    var settings = new ProducerSettings(
        parseResult.GetValue(transport)!,
        amqpUris,
        parseResult.GetValue(queue)!,
        parseResult.GetValue(queueType) == SampleCommandLine.Quorum,
        parseResult.GetValue(count),
        members,
        parseResult.GetValue(json));
    return ProducerApp.RunAsync(settings, cancellationToken, serviceBus);
});

var parsed = root.Parse(args);
return SampleCommandLine.CheckParseErrors(parsed)
    ?? await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

using System.Globalization;
using System.Runtime.InteropServices;
using Messaging.ServiceBus.TestBroker;

const string Usage = """
    Usage: Messaging.ServiceBus.TestBroker [options]
      --port N                 listen on 127.0.0.1:N (default 0: a free port)
      --queue NAME             declare a queue (repeatable)
      --topic T                declare a topic (repeatable)
      --subscription S         declare a subscription of the last --topic (repeatable)
      --lock-duration SECONDS  peek-lock duration (default 30)
      --max-delivery-count N   deliveries before dead-lettering (default 10)
      --no-auto-create         unknown entities are not found (default: created on first attach)
      --ignore-stdin           keep running when standard input closes (stop with SIGTERM or Ctrl+C)
      --verbose                log broker events to standard error
    Prints the connection string as its first line, then runs until standard input closes, SIGTERM or Ctrl+C.
    """;

var options = new ServiceBusTestBrokerOptions();
var port = 0;
var watchStdin = true;
string? currentTopic = null;
try
{
    for (var i = 0; i < args.Length; i++)
    {
        string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
        switch (args[i])
        {
            case "--port":
                port = ParseInt(Value(), "--port", 0, 65535);
                break;
            case "--queue":
                options.Queues.Add(Value());
                break;
            case "--topic":
                currentTopic = Value();
                if (!options.Topics.ContainsKey(currentTopic))
                {
                    options.Topics[currentTopic] = [];
                }

                break;
            case "--subscription":
                var subscription = Value();
                if (currentTopic is null)
                {
                    throw new ArgumentException($"--subscription {subscription} needs a --topic before it.");
                }

                options.Topics[currentTopic].Add(subscription);
                break;
            case "--lock-duration":
                options.LockDuration = TimeSpan.FromSeconds(ParseInt(Value(), "--lock-duration", 1, 300));
                break;
            case "--max-delivery-count":
                options.MaxDeliveryCount = ParseInt(Value(), "--max-delivery-count", 1, 2000);
                break;
            case "--no-auto-create":
                options.CreateEntitiesOnDemand = false;
                break;
            case "--ignore-stdin":
                watchStdin = false;
                break;
            case "--verbose":
                options.Log = line => Console.Error.WriteLine($"[broker] {line}");
                break;
            case "--help" or "-h":
                Console.WriteLine(Usage);
                return 0;
            default:
                throw new ArgumentException($"Unknown option '{args[i]}'.");
        }
    }
}
catch (ArgumentException exception)
{
    Console.Error.WriteLine($"error: {exception.Message}");
    Console.Error.WriteLine(Usage);
    return 2;
}

ServiceBusTestBroker broker;
try
{
    broker = await ServiceBusTestBroker.StartAsync(port, options);
}
catch (Exception exception) when (exception is System.Net.Sockets.SocketException or ArgumentException or InvalidOperationException)
{
    Console.Error.WriteLine($"error: the broker could not start: {exception.Message}");
    return 1;
}

await using (broker)
{
    Console.WriteLine(broker.ConnectionString);
    Console.Out.Flush();

    var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        stop.TrySetResult();
    };
    using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
    {
        context.Cancel = true;
        stop.TrySetResult();
    });
    if (watchStdin)
    {
        _ = Task.Run(async () =>
        {
            using var input = Console.OpenStandardInput();
            var buffer = new byte[256];
            while (await input.ReadAsync(buffer) > 0)
            {
            }

            stop.TrySetResult();
        });
    }

    await stop.Task;
}

return 0;

static int ParseInt(string text, string option, int min, int max) =>
    int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
        ? value
        : throw new ArgumentException($"{option} must be a whole number from {min} to {max}, not '{text}'.");

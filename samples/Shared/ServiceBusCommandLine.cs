using System.CommandLine;

namespace Messaging.Samples;

/// <summary>The Service Bus flags both samples share: <c>--connection-string</c>, and <c>--topic</c> with <c>--subscription</c>.</summary>
internal sealed record ServiceBusSettings(string ConnectionString, string? Topic, string? Subscription)
{
    public const string Transport = "servicebus";
    public const string ConnectionStringEnvironmentVariable = "SERVICEBUS_CONNECTION_STRING";
    public const string Connection = "Messaging:ServiceBus";

    public static Option<string> ConnectionStringOption() => new("--connection-string")
    {
        Description = $"Service Bus: the connection string (Endpoint=sb://…; UseDevelopmentEmulator=true for an emulator or the test broker); ${ConnectionStringEnvironmentVariable} when not given.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(ConnectionStringEnvironmentVariable) ?? string.Empty,
    };

    public static Option<string> TopicOption() => new("--topic") { Description = "Service Bus: send to (or, with --subscription, consume from) this topic instead of --queue." };

    public static Option<string> SubscriptionOption() => new("--subscription") { Description = "Service Bus: the subscription of --topic to consume." };

    /// <summary>Reads and checks the flags when the transport is Service Bus; <paramref name="error"/> says what is wrong.</summary>
    public static bool TryRead(ParseResult parseResult, Option<string> connectionString, Option<string> topic, Option<string>? subscription, bool consumer, out ServiceBusSettings? settings, out string error)
    {
        settings = null;
        error = string.Empty;
        var cs = parseResult.GetValue(connectionString);
        var t = parseResult.GetValue(topic);
        var s = subscription is null ? null : parseResult.GetValue(subscription);
        if (string.IsNullOrWhiteSpace(cs))
        {
            error = $"--transport servicebus needs --connection-string (or ${ConnectionStringEnvironmentVariable}).";
            return false;
        }

        if (consumer && (t is null) != (s is null))
        {
            error = "--topic and --subscription go together: a consumer reads a topic through one of its subscriptions.";
            return false;
        }

        settings = new ServiceBusSettings(cs, t, s);
        return true;
    }

    /// <summary>The entity a producer sends to: the topic, or the queue.</summary>
    public string Entity(string queue) => Topic ?? queue;
}

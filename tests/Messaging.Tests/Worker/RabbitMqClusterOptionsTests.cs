using System.Text;
using Messaging.Transports.RabbitMq;
using RabbitMQ.Client;
using Xunit;

namespace Messaging.Tests.Worker;

/// <summary>Queue types, broker dead-lettering and several endpoints: option validation and what is declared.</summary>
public sealed class RabbitMqClusterOptionsTests
{
    private static readonly Dictionary<string, object?> Broker310 = new() { ["version"] = "3.10.8"u8.ToArray() };

    [Fact]
    public void A_classic_queue_keeps_its_plain_declaration_and_the_publish_mode_by_default()
    {
        var options = Valid();

        Assert.Equal(RabbitMqDeadLetterMode.Publish, options.EffectiveDeadLettering);
        Assert.Null(RabbitMqTopology.QueueArguments(options, atLeastOnceSupported: true));
        Assert.Null(RabbitMqTopology.DeadLetterQueueArguments(options));
    }

    [Fact]
    public void A_quorum_queue_dead_letters_through_the_broker_at_least_once_by_default()
    {
        var options = Valid(o =>
        {
            o.QueueType = RabbitMqQueueType.Quorum;
            o.DeliveryLimit = 5;
        });

        var arguments = RabbitMqTopology.QueueArguments(options, atLeastOnceSupported: true);

        Assert.Equal(RabbitMqDeadLetterMode.Broker, options.EffectiveDeadLettering);
        Assert.Equal(
            new Dictionary<string, object?>
            {
                ["x-queue-type"] = "quorum",
                ["x-delivery-limit"] = 5,
                ["x-dead-letter-exchange"] = string.Empty,
                ["x-dead-letter-routing-key"] = "orders.dead-letter",
                ["x-dead-letter-strategy"] = "at-least-once",
                ["x-overflow"] = "reject-publish",
            },
            arguments);
        Assert.Equal(new Dictionary<string, object?> { ["x-queue-type"] = "quorum" }, RabbitMqTopology.DeadLetterQueueArguments(options));
    }

    [Fact]
    public void A_broker_older_than_3_10_gets_no_at_least_once_strategy_unless_asked_for()
    {
        var options = Valid(o => o.QueueType = RabbitMqQueueType.Quorum);
        var explicitly = Valid(o =>
        {
            o.QueueType = RabbitMqQueueType.Quorum;
            o.DeadLetterStrategy = RabbitMqDeadLetterStrategy.AtLeastOnce;
        });

        var arguments = RabbitMqTopology.QueueArguments(options, atLeastOnceSupported: false)!;

        Assert.False(arguments.ContainsKey("x-dead-letter-strategy"));
        Assert.False(arguments.ContainsKey("x-overflow"));
        Assert.Equal("at-least-once", RabbitMqTopology.QueueArguments(explicitly, atLeastOnceSupported: false)!["x-dead-letter-strategy"]);
        Assert.False(RabbitMqTopology.QueueArguments(
            Valid(o =>
            {
                o.QueueType = RabbitMqQueueType.Quorum;
                o.DeadLetterStrategy = RabbitMqDeadLetterStrategy.AtMostOnce;
            }),
            atLeastOnceSupported: true)!.ContainsKey("x-dead-letter-strategy"));
    }

    [Theory]
    [InlineData("3.10.8", true)]
    [InlineData("3.13.0", true)]
    [InlineData("4.0.5", true)]
    [InlineData("3.9.29", false)]
    [InlineData("3.8", false)]
    [InlineData("garbage", false)]
    [InlineData("", false)]
    public void The_broker_version_decides_whether_at_least_once_is_supported(string version, bool supported)
    {
        Assert.Equal(supported, RabbitMqTopology.SupportsAtLeastOnceDeadLettering(new Dictionary<string, object?> { ["version"] = Encoding.UTF8.GetBytes(version) }));
        Assert.False(RabbitMqTopology.SupportsAtLeastOnceDeadLettering(null));
        Assert.True(RabbitMqTopology.SupportsAtLeastOnceDeadLettering(Broker310));
    }

    [Fact]
    public void A_named_dead_letter_exchange_and_routing_key_are_declared_as_given()
    {
        var options = Valid(o =>
        {
            o.DeadLettering = RabbitMqDeadLetterMode.Broker;
            o.DeadLetterExchange = "dlx";
            o.DeadLetterRoutingKey = "orders";
        });

        var arguments = RabbitMqTopology.QueueArguments(options, atLeastOnceSupported: true)!;

        Assert.Equal(
            new Dictionary<string, object?> { ["x-dead-letter-exchange"] = "dlx", ["x-dead-letter-routing-key"] = "orders" },
            arguments);
    }

    [Fact]
    public void Without_a_dead_letter_queue_broker_mode_declares_only_a_named_exchange()
    {
        var none = Valid(o =>
        {
            o.DeadLettering = RabbitMqDeadLetterMode.Broker;
            o.DeadLetterQueue = string.Empty;
        });
        var exchangeOnly = Valid(o =>
        {
            o.QueueType = RabbitMqQueueType.Quorum;
            o.DeadLetterQueue = string.Empty;
            o.DeadLetterExchange = "dlx";
        });

        Assert.Null(RabbitMqTopology.QueueArguments(none, atLeastOnceSupported: true));
        var arguments = RabbitMqTopology.QueueArguments(exchangeOnly, atLeastOnceSupported: true)!;
        Assert.Equal("dlx", arguments["x-dead-letter-exchange"]);
        Assert.False(arguments.ContainsKey("x-dead-letter-routing-key")); // the message's own routing key
    }

    [Fact]
    public void Every_invalid_queue_option_is_reported()
    {
        var classic = new RabbitMqConsumerOptions
        {
            Queue = "orders",
            QueueType = (RabbitMqQueueType)7,
            DeliveryLimit = 3,
            DeadLetterStrategy = RabbitMqDeadLetterStrategy.AtLeastOnce,
            DeadLettering = (RabbitMqDeadLetterMode)9,
        };
        var quorum = new RabbitMqConsumerOptions
        {
            Queue = "orders",
            QueueType = RabbitMqQueueType.Quorum,
            DeliveryLimit = 0,
            DeadLetterStrategy = (RabbitMqDeadLetterStrategy)4,
            DeadLetterQueue = "orders",
        };
        var publish = new RabbitMqConsumerOptions
        {
            Queue = "orders",
            DeadLettering = RabbitMqDeadLetterMode.Publish,
            DeadLetterExchange = "dlx",
            DeadLetterQueue = "  ",
        };

        Assert.Equal(
            [
                "QueueType has an unknown value '7'.",
                "DeadLettering has an unknown value '9'.",
                "DeliveryLimit needs QueueType Quorum: classic queues keep no delivery count (was 7).",
                "DeadLetterStrategy needs QueueType Quorum: only quorum queues choose a dead-letter strategy (was 7).",
            ],
            Errors(classic));
        Assert.Equal(
            [
                "DeadLetterStrategy has an unknown value '4'.",
                "DeliveryLimit must be at least 1 (was 0).",
                "DeadLetterQueue must differ from Queue ('orders'): a message would be dead-lettered into the queue it left.",
            ],
            Errors(quorum));
        Assert.Equal(
            [
                "DeadLetterExchange, DeadLetterRoutingKey and DeadLetterStrategy apply to DeadLettering Broker only; Publish copies to DeadLetterQueue itself.",
                "DeadLetterQueue must be a queue name, or empty for none (was whitespace).",
            ],
            Errors(publish));
        Assert.Contains("DeliveryLimit must be at least 1", Assert.Throws<ArgumentException>(quorum.Validate).Message, StringComparison.Ordinal);
        Assert.Empty(Errors(Valid(o =>
        {
            o.QueueType = RabbitMqQueueType.Quorum;
            o.DeliveryLimit = 1;
            o.DeadLetterStrategy = RabbitMqDeadLetterStrategy.AtMostOnce;
            o.DeadLetterExchange = "dlx";
            o.DeadLetterRoutingKey = "rk";
        })));
    }

    [Fact]
    public void Hosts_share_the_uri_credentials_and_port_and_every_endpoint_is_listed_once()
    {
        var options = new RabbitMqConnectionOptions { Uri = new Uri("amqp://app:secret@node-1:5673/orders") };
        options.Endpoints.Add(new Uri("amqp://node-2:5674/"));
        options.Hosts.Add("node-3");
        options.Hosts.Add("node-4:5680");
        options.Hosts.Add("[::1]:5681");
        options.Hosts.Add("NODE-2:5674");

        var endpoints = options.AllEndpoints(new ConnectionFactory { Uri = options.Uri });

        Assert.Equal(
            ["node-1:5673", "node-2:5674", "node-3:5673", "node-4:5680", "::1:5681"],
            endpoints.Select(e => $"{e.HostName}:{e.Port}"));
        Assert.All(endpoints, e => Assert.False(e.Ssl.Enabled));
        options.Validate();
    }

    [Fact]
    public void Hosts_of_an_amqps_uri_use_tls_with_their_own_server_name()
    {
        var options = new RabbitMqConnectionOptions { Uri = new Uri("amqps://app:secret@node-1/") };
        options.Hosts.Add("node-2");

        options.Endpoints.Add(new Uri("amqps://node-3:5690/"));
        options.Endpoints.Add(new Uri("amqp://node-4/"));
        var factory = new ConnectionFactory { Uri = options.Uri };
        factory.Ssl.CheckCertificateRevocation = true;

        var endpoints = options.AllEndpoints(factory);

        Assert.Equal(["node-1:5671", "node-3:5690", "node-4:5672", "node-2:5671"], endpoints.Select(e => $"{e.HostName}:{e.Port}"));
        Assert.Equal([true, true, false, true], endpoints.Select(e => e.Ssl.Enabled));
        Assert.Equal(["node-1", "node-3", "node-4", "node-2"], endpoints.Select(e => e.Ssl.ServerName));
        Assert.All(endpoints, e => Assert.True(e.Ssl.CheckCertificateRevocation));
    }

    [Fact]
    public void Invalid_hosts_are_reported_with_their_index()
    {
        var options = new RabbitMqConnectionOptions();
        options.Hosts.Add("node-1:5672");
        options.Hosts.Add("amqp://node-2/");
        options.Hosts.Add("user@node-3");
        options.Hosts.Add(" ");
        options.Hosts.Add("node-4:0");
        options.Hosts.Add("node-5:70000");

        var ex = Assert.Throws<ArgumentException>(options.Validate);

        foreach (var i in new[] { 1, 2, 3, 4, 5 })
        {
            Assert.Contains($"Hosts[{i}] must be 'host' or 'host:port'", ex.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("Hosts[0]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_death_history_is_read_from_x_death_and_never_throws()
    {
        var headers = new Dictionary<string, object?>
        {
            ["x-death"] = new List<object?>
            {
                new Dictionary<string, object?>
                {
                    ["count"] = 2L,
                    ["reason"] = "rejected"u8.ToArray(),
                    ["queue"] = "orders"u8.ToArray(),
                    ["time"] = new AmqpTimestamp(1_700_000_000),
                    ["exchange"] = Array.Empty<byte>(),
                    ["routing-keys"] = new List<object?> { "orders"u8.ToArray() },
                },
                "not a table",
                new Dictionary<string, object?> { ["reason"] = 42 },
            },
        };

        var deaths = RabbitMqDeaths.Read(headers);

        Assert.Equal(2, deaths.Count);
        var first = deaths[0];
        Assert.Equal(("orders", "rejected", 2L, string.Empty, DateTimeOffset.FromUnixTimeSeconds(1_700_000_000)), (first.Queue, first.Reason, first.Count, first.Exchange, first.Time!.Value));
        Assert.Equal(["orders"], first.RoutingKeys);
        Assert.Equal((string.Empty, string.Empty, 0L, null), (deaths[1].Queue, deaths[1].Reason, deaths[1].Count, deaths[1].Time));
        Assert.Empty(RabbitMqDeaths.Read(null));
        Assert.Empty(RabbitMqDeaths.Read(new Dictionary<string, object?> { ["x-death"] = "text" }));
    }

    private static RabbitMqConsumerOptions Valid(Action<RabbitMqConsumerOptions>? configure = null)
    {
        var options = new RabbitMqConsumerOptions { Queue = "orders" };
        configure?.Invoke(options);
        Assert.Empty(Errors(options));
        return options;
    }

    private static List<string> Errors(RabbitMqConsumerOptions options)
    {
        var errors = new List<string>();
        options.Validate(errors);
        return errors;
    }
}

using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;

namespace Messaging.ServiceBus.TestBroker.Internal;

/// <summary>
/// An entity's <c>$management</c> node: the request-response operations the Service Bus client uses for
/// lock renewal, peeking, scheduling, deferred messages and settlement without a receive link.
/// Responses carry <c>statusCode</c>, <c>statusDescription</c> and, on failure, <c>errorCondition</c>.
/// </summary>
internal sealed class ManagementNode(
    BrokerContext context,
    ReplyLinks replies,
    string entityPath,
    MessageStore? store,
    SendTarget? sendTarget) : RequestNode(context, replies)
{
    private const string Prefix = "com.microsoft:";

    protected override AmqpMessage Handle(AmqpMessage request)
    {
        var operation = request.ApplicationProperties.Map["operation"] as string
            ?? throw ManagementException.BadRequest("The request has no 'operation' application property.");
        var body = (request.Sections & SectionFlag.AmqpValue) != 0 ? request.ValueBody.Value as AmqpMap : null;
        return operation switch
        {
            Prefix + "renew-lock" => RenewLock(Require(body)),
            Prefix + "peek-message" => Peek(Require(body)),
            Prefix + "schedule-message" => Schedule(Require(body)),
            Prefix + "cancel-scheduled-message" => CancelScheduled(Require(body)),
            Prefix + "receive-by-sequence-number" => ReceiveBySequenceNumber(Require(body)),
            Prefix + "update-disposition" => UpdateDisposition(Require(body)),
            Prefix + "renew-session-lock" or Prefix + "get-session-state" or Prefix + "set-session-state" or Prefix + "get-message-sessions" =>
                throw ManagementException.NotImplemented($"Sessions are not supported by the test broker (operation '{operation}')."),
            Prefix + "add-rule" or Prefix + "remove-rule" or Prefix + "enumerate-rules" =>
                throw ManagementException.NotImplemented($"Subscription rules are not supported by the test broker: every subscription receives every message (operation '{operation}')."),
            _ => throw ManagementException.NotImplemented($"The operation '{operation}' is not supported by the test broker on '{entityPath}'."),
        };
    }

    protected override AmqpMessage Failure(int statusCode, AmqpSymbol condition, string description)
    {
        var response = CreateResponse(null);
        response.ApplicationProperties.Map["statusCode"] = statusCode;
        response.ApplicationProperties.Map["statusDescription"] = description;
        response.ApplicationProperties.Map["errorCondition"] = condition;
        return response;
    }

    private AmqpMessage RenewLock(AmqpMap body)
    {
        var tokens = Get<Guid[]>(body, "lock-tokens");
        var expirations = Store("renew-lock").RenewLocks(tokens)
            ?? throw new ManagementException((int)AmqpResponseStatusCode.Gone, BrokerAnnotations.MessageLockLostCondition, SettleResult.LockLost.Description!);
        return Ok(new AmqpMap { [new MapKey("expirations")] = expirations });
    }

    private AmqpMessage Peek(AmqpMap body)
    {
        var from = Get<long>(body, "from-sequence-number");
        var count = Get<int>(body, "message-count");
        if (count < 1)
        {
            throw ManagementException.BadRequest($"message-count must be at least 1, not {count}.");
        }

        var messages = Store("peek-message").Peek(from, count);
        if (messages.Count == 0)
        {
            return Status(CreateResponse(null), AmqpResponseStatusCode.NoContent, "No messages to peek.");
        }

        var list = messages.Select(bytes => (object)new AmqpMap { [new MapKey("message")] = new ArraySegment<byte>(bytes) }).ToList();
        return Ok(new AmqpMap { [new MapKey("messages")] = list });
    }

    private AmqpMessage Schedule(AmqpMap body)
    {
        var target = sendTarget ?? throw NotAllowed("schedule-message", "only queues and topics accept messages");
        var entries = Get<List<object>>(body, "messages");
        var contents = new List<MessageContent>(entries.Count);
        foreach (var entry in entries)
        {
            if (entry is not AmqpMap map || map[new MapKey("message")] is not ArraySegment<byte> encoded)
            {
                throw ManagementException.BadRequest("Each entry of 'messages' must be a map with the encoded 'message'.");
            }

            var content = MessageContent.Decode(encoded);
            if (content.ScheduledEnqueueTimeUtc is null)
            {
                throw ManagementException.BadRequest("A scheduled message must carry the x-opt-scheduled-enqueue-time annotation.");
            }

            contents.Add(content);
        }

        return Ok(new AmqpMap { [new MapKey("sequence-numbers")] = target.Send(contents) });
    }

    private AmqpMessage CancelScheduled(AmqpMap body)
    {
        var target = sendTarget ?? throw NotAllowed("cancel-scheduled-message", "only queues and topics schedule messages");
        var missing = target.CancelScheduled(Get<long[]>(body, "sequence-numbers"));
        if (missing.Count > 0)
        {
            throw MessageNotFound($"No scheduled message with sequence number {string.Join(", ", missing)} in '{entityPath}'.");
        }

        return Ok(new AmqpMap());
    }

    private AmqpMessage ReceiveBySequenceNumber(AmqpMap body)
    {
        var sequenceNumbers = Get<long[]>(body, "sequence-numbers");
        var settleMode = body.TryGetValue<uint>(new MapKey("receiver-settle-mode"), out var mode) ? mode : 1u;
        var received = Store("receive-by-sequence-number").ReceiveDeferred(sequenceNumbers, peekLock: settleMode != 0)
            ?? throw MessageNotFound($"Not all of the sequence numbers {string.Join(", ", sequenceNumbers)} are deferred messages of '{entityPath}'.");
        var list = received.Select(item =>
        {
            var map = new AmqpMap { [new MapKey("message")] = new ArraySegment<byte>(item.Message) };
            if (item.LockToken is { } token)
            {
                map[new MapKey("lock-token")] = token;
            }

            return (object)map;
        }).ToList();
        return Ok(new AmqpMap { [new MapKey("messages")] = list });
    }

    private AmqpMessage UpdateDisposition(AmqpMap body)
    {
        var tokens = Get<Guid[]>(body, "lock-tokens");
        var status = Get<string>(body, "disposition-status");
        body.TryGetValue<AmqpMap>(new MapKey("properties-to-modify"), out var properties);
        body.TryGetValue<string>(new MapKey("deadletter-reason"), out var reason);
        body.TryGetValue<string>(new MapKey("deadletter-description"), out var description);
        var request = SettleRequest.FromDispositionStatus(status, properties, reason, description)
            ?? throw ManagementException.BadRequest($"Unknown disposition-status '{status}' (completed, abandoned, defered, suspended).");
        var target = Store("update-disposition");
        foreach (var token in tokens)
        {
            var result = target.Settle(token, request, viaManagement: true);
            if (!result.Succeeded)
            {
                var statusCode = result.Condition.Equals(BrokerAnnotations.MessageLockLostCondition) ? AmqpResponseStatusCode.Gone : AmqpResponseStatusCode.BadRequest;
                throw new ManagementException((int)statusCode, result.Condition, result.Description ?? "The settlement was refused.");
            }
        }

        return Ok(new AmqpMap());
    }

    private MessageStore Store(string operation) =>
        store ?? throw NotAllowed(operation, "a topic holds no messages; use <topic>/Subscriptions/<name>");

    private ManagementException NotAllowed(string operation, string reason) =>
        new((int)AmqpResponseStatusCode.BadRequest, AmqpErrorCode.NotAllowed, $"'{operation}' is not possible on '{entityPath}': {reason}.");

    private static ManagementException MessageNotFound(string message) =>
        new((int)AmqpResponseStatusCode.NotFound, BrokerAnnotations.MessageNotFoundCondition, message);

    private static AmqpMap Require(AmqpMap? body) =>
        body ?? throw ManagementException.BadRequest("The request body must be an AMQP value holding a map.");

    private static T Get<T>(AmqpMap body, string key)
    {
        var value = body[new MapKey(key)];
        return value switch
        {
            T typed => typed,
            null => throw ManagementException.BadRequest($"The request has no '{key}'."),
            _ => throw ManagementException.BadRequest($"'{key}' must be a {typeof(T).Name}, not a {value.GetType().Name}."),
        };
    }

    private static AmqpMessage Ok(AmqpMap body) => Status(CreateResponse(body), AmqpResponseStatusCode.OK, "OK");

    private static AmqpMessage Status(AmqpMessage response, AmqpResponseStatusCode statusCode, string description)
    {
        response.ApplicationProperties.Map["statusCode"] = (int)statusCode;
        response.ApplicationProperties.Map["statusDescription"] = description;
        return response;
    }
}

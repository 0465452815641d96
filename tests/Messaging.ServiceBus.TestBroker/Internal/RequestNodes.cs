using System.Collections.Concurrent;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;

namespace Messaging.ServiceBus.TestBroker.Internal;

/// <summary>
/// The links responses go out on. A client's request-response pair is a sender to the node and a
/// receiver from it whose target is a unique reply-to address; the broker finds the receiver by that address.
/// </summary>
internal sealed class ReplyLinks
{
    private readonly ConcurrentDictionary<string, SendingAmqpLink> _links = new(StringComparer.Ordinal);

    public void Add(SendingAmqpLink link)
    {
        if ((link.Settings.Target as Target)?.Address?.ToString() is not { Length: > 0 } replyTo)
        {
            throw new AmqpException(AmqpErrorCode.InvalidField, "A link receiving responses must have a target address (the requests' reply-to).");
        }

        _links[replyTo] = link;
        link.SafeAddClosed((_, _) => _links.TryRemove(new KeyValuePair<string, SendingAmqpLink>(replyTo, link)));
    }

    public bool TrySend(string replyTo, AmqpConnection connection, AmqpMessage response)
    {
        if (!_links.TryGetValue(replyTo, out var link) || link.Session.Connection != connection)
        {
            return false;
        }

        try
        {
            link.SendMessageNoWait(response, new ArraySegment<byte>(Guid.NewGuid().ToByteArray()), AmqpConstants.NullBinary);
            return true;
        }
        catch (Exception exception) when (exception is InvalidOperationException or AmqpException or ObjectDisposedException)
        {
            return false;
        }
    }
}

/// <summary>A request-response node ($cbs, an entity's $management): answers every request, never leaves one hanging.</summary>
internal abstract class RequestNode(BrokerContext context, ReplyLinks replies)
{
    protected BrokerContext Context { get; } = context;

    public void Attach(ReceivingAmqpLink link) => link.RegisterMessageListener(request => OnRequest(link, request));

    protected abstract AmqpMessage Handle(AmqpMessage request);

    protected abstract AmqpMessage Failure(int statusCode, AmqpSymbol condition, string description);

    protected static AmqpMessage CreateResponse(AmqpMap? body) =>
        AmqpMessage.Create(new AmqpValue { Value = body ?? new AmqpMap() });

    private void OnRequest(ReceivingAmqpLink link, AmqpMessage request)
    {
        AmqpMessage response;
        try
        {
            response = Handle(request);
        }
        catch (ManagementException exception)
        {
            response = Failure(exception.StatusCode, exception.Condition, exception.Message);
        }
        catch (Exception exception)
        {
            response = Failure((int)AmqpResponseStatusCode.InternalServerError, AmqpErrorCode.InternalError, exception.Message);
        }

        var replyTo = request.Properties.ReplyTo?.ToString();
        response.Properties.CorrelationId = request.Properties.MessageId;
        link.DisposeMessage(request, AmqpConstants.AcceptedOutcome, true, request.Batchable);
        request.Dispose();

        if (replyTo is null || !replies.TrySend(replyTo, link.Session.Connection, response))
        {
            Context.Log($"A request on '{link.Name}' has no reply link for reply-to '{replyTo}'; closing the request link.");
            response.Dispose();
            link.SafeClose(new AmqpException(AmqpErrorCode.PreconditionFailed, "Requests need a reply-to address with an attached receiving link on this connection."));
        }
    }
}

/// <summary>A management request the broker answers with an error status.</summary>
internal sealed class ManagementException(int statusCode, AmqpSymbol condition, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;

    public AmqpSymbol Condition { get; } = condition;

    public static ManagementException BadRequest(string message) =>
        new((int)AmqpResponseStatusCode.BadRequest, BrokerAnnotations.ArgumentErrorCondition, message);

    public static ManagementException NotImplemented(string message) =>
        new((int)AmqpResponseStatusCode.NotImplemented, AmqpErrorCode.NotImplemented, message);
}

/// <summary>The claims-based security node: checks each put-token's shared access signature.</summary>
internal sealed class CbsNode(BrokerContext context, ReplyLinks replies) : RequestNode(context, replies)
{
    private const string StatusCode = "status-code";
    private const string StatusDescription = "status-description";

    protected override AmqpMessage Handle(AmqpMessage request)
    {
        var operation = request.ApplicationProperties.Map["operation"] as string;
        if (operation != "put-token")
        {
            return Failure((int)AmqpResponseStatusCode.BadRequest, AmqpErrorCode.NotImplemented, $"The $cbs node supports only put-token, not '{operation}'.");
        }

        var type = request.ApplicationProperties.Map["type"] as string;
        if (type != "servicebus.windows.net:sastoken")
        {
            return Failure(
                (int)AmqpResponseStatusCode.Unauthorized,
                AmqpErrorCode.UnauthorizedAccess,
                $"The test broker accepts shared access signatures only (token type '{type}'); use a connection string with SharedAccessKeyName and SharedAccessKey.");
        }

        var token = (request.Sections & SectionFlag.AmqpValue) != 0 ? request.ValueBody.Value as string : null;
        var refusal = SharedAccessSignatures.Validate(token, Context.Options.SharedAccessKeyName, Context.Options.SharedAccessKey, DateTimeOffset.UtcNow);
        if (refusal is not null)
        {
            Context.Log($"put-token refused: {refusal}");
            return Failure((int)AmqpResponseStatusCode.Unauthorized, AmqpErrorCode.UnauthorizedAccess, refusal);
        }

        var response = CreateResponse(null);
        response.ApplicationProperties.Map[StatusCode] = (int)AmqpResponseStatusCode.Accepted;
        response.ApplicationProperties.Map[StatusDescription] = "Accepted";
        return response;
    }

    protected override AmqpMessage Failure(int statusCode, AmqpSymbol condition, string description)
    {
        var response = CreateResponse(null);
        response.ApplicationProperties.Map[StatusCode] = statusCode;
        response.ApplicationProperties.Map[StatusDescription] = description;
        return response;
    }
}

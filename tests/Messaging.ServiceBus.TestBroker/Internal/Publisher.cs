using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;

namespace Messaging.ServiceBus.TestBroker.Internal;

/// <summary>A client's send link to a queue or topic: every transfer is accepted into the entity or rejected with the reason.</summary>
internal sealed class Publisher
{
    private readonly SendTarget _target;
    private readonly ReceivingAmqpLink _link;

    public Publisher(SendTarget target, ReceivingAmqpLink link)
    {
        _target = target;
        _link = link;
        link.RegisterMessageListener(OnMessage);
    }

    private void OnMessage(AmqpMessage message)
    {
        DeliveryState outcome;
        try
        {
            if (message.TxnId.Array is not null)
            {
                throw new AmqpException(AmqpErrorCode.NotImplemented, "Transactions are not supported by the test broker.");
            }

            _target.Send(MessageContent.DecodeTransfer(message));
            outcome = AmqpConstants.AcceptedOutcome;
        }
        catch (AmqpException exception)
        {
            outcome = new Rejected { Error = exception.Error };
        }
        catch (Exception exception)
        {
            outcome = new Rejected { Error = new Error { Condition = AmqpErrorCode.InternalError, Description = exception.Message } };
        }

        _link.DisposeMessage(message, outcome, true, message.Batchable);
        message.Dispose();
    }
}

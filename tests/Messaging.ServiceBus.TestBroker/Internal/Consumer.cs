using Microsoft.Azure.Amqp;

namespace Messaging.ServiceBus.TestBroker.Internal;

/// <summary>
/// A client's receive link on a store. The broker keeps its own count of the credit the client granted
/// (guarded by the store's lock) and hands over a message only against credit, so nothing waits inside
/// the link while its lock runs.
/// </summary>
internal sealed class Consumer
{
    private readonly MessageStore _store;

    public Consumer(MessageStore store, SendingAmqpLink link)
    {
        _store = store;
        Link = link;
        link.RegisterCreditListener(OnCredit);
        link.RegisterDispositionListener(OnDisposition);
        link.SafeAddClosed((_, _) => _store.RemoveConsumer(this));
    }

    public SendingAmqpLink Link { get; }

    /// <summary>Credit not yet used; guarded by the store's lock.</summary>
    public long Credit { get; set; }

    /// <summary>Receive-and-delete: the client settles on send, so a delivery removes the message.</summary>
    public bool SettleOnSend => Link.Settings.SettleType == SettleMode.SettleOnSend;

    public void Send(AmqpMessage message, Guid deliveryTag)
    {
        try
        {
            Link.SendMessageNoWait(message, new ArraySegment<byte>(deliveryTag.ToByteArray()), AmqpConstants.NullBinary);
        }
        catch (Exception exception) when (exception is InvalidOperationException or AmqpException or ObjectDisposedException)
        {
            // The link closed between the dispatch and the send: the lock expires and the message is delivered again.
            message.Dispose();
        }
    }

    private void OnCredit(uint credit, bool drain, ArraySegment<byte> txnId) =>
        _store.OnCredit(this, credit, drain);

    private void OnDisposition(Delivery delivery)
    {
        if (SettleOnSend)
        {
            // Receive-and-delete: the message left the store when it was sent; the client's accept settles nothing.
            return;
        }

        var reply = _store.SettleFromLink(delivery.DeliveryTag, delivery.State);
        if (reply is not null && !delivery.Settled)
        {
            Link.DisposeDelivery(delivery, true, reply);
        }

        if (reply is not null)
        {
            delivery.Dispose();
        }
    }
}

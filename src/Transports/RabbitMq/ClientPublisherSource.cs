using System.Diagnostics;
using RabbitMQ.Client;

namespace Messaging.Transports.RabbitMq;

/// <summary>
/// Whether RabbitMQ.Client's own publisher instrumentation may write into a message's headers. RabbitMQ.Client starts
/// its publish span, and injects that span's context into the headers, only while its
/// <see cref="RabbitMQActivitySource.PublisherSourceName"/> source has listeners. That source is private to
/// RabbitMQ.Client; it is found by name through an <see cref="ActivityListener"/> that is shown every source of the
/// process and listens to none of them, so it adds no work to any activity.
/// </summary>
internal static class ClientPublisherSource
{
    private static ActivitySource? _source;

    // Never disposed: it only observes which sources exist, for the life of the process.
    private static readonly ActivityListener Observer = CreateObserver();

    /// <summary>
    /// Gets a value indicating whether RabbitMQ.Client may record a publish span (and write its context into the
    /// headers): <see langword="true"/> while its publisher source has listeners, or when the source was not found.
    /// </summary>
    public static bool MayInject
    {
        get
        {
            GC.KeepAlive(Observer);
            return Volatile.Read(ref _source) is not { } source || source.HasListeners();
        }
    }

    private static ActivityListener CreateObserver()
    {
        // Reading a static of RabbitMQ.Client's instrumentation creates its sources before the observer is added.
        _ = RabbitMQActivitySource.UseRoutingKeyAsOperationName;
        var observer = new ActivityListener
        {
            ShouldListenTo = static source =>
            {
                // The first source of that name is RabbitMQ.Client's own: it was created before the observer was added.
                if (source.Name == RabbitMQActivitySource.PublisherSourceName)
                {
                    Interlocked.CompareExchange(ref _source, source, null);
                }

                return false;
            },
        };
        ActivitySource.AddActivityListener(observer);
        return observer;
    }
}

using RabbitMQ.Client;

namespace Messaging.Transports.RabbitMq;

/// <summary>What the worker and the publisher share when they recover from a lost connection or channel.</summary>
internal static class RabbitMqRecovery
{
    /// <summary>The first pause after a failure; each further failure doubles it up to a maximum.</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>The back-off after a failed attempt: doubled, at most <paramref name="max"/>.</summary>
    public static TimeSpan NextDelay(TimeSpan delay, TimeSpan max) => TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, max.Ticks));

    /// <summary>Closes a channel unless it is closed already; a channel that is gone is not an error here.</summary>
    public static async ValueTask CloseQuietlyAsync(IChannel channel)
    {
        try
        {
            if (channel.IsOpen)
            {
                await channel.CloseAsync().ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // Closing a channel that is already gone.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}

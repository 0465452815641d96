namespace Messaging.Testing;

/// <summary>Settings of the test harness.</summary>
public sealed class MessagingTestHarnessOptions
{
    /// <summary>The default of <see cref="Timeout"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long a wait lasts when the call gives no timeout. Default: <see cref="DefaultTimeout"/>.</summary>
    public TimeSpan Timeout { get; set; } = DefaultTimeout;

    /// <summary>
    /// Gets or sets the clock the harness's timeouts run on. Default: the system clock — not the host's
    /// <see cref="System.TimeProvider"/>, so a fake clock given to the workers does not stop the test's timeouts.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal void Validate()
    {
        if (Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "The harness's timeout must be positive.");
        }

        if (TimeProvider is null)
        {
            throw new ArgumentException("The harness's TimeProvider must not be null.", nameof(TimeProvider));
        }
    }
}

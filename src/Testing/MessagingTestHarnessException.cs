namespace Messaging.Testing;

/// <summary>
/// A harness expectation that did not hold: a wait that timed out, or an assertion on a handled or published
/// message that failed. The message says what was expected and what was seen instead. Test frameworks report it as
/// a failed test.
/// </summary>
public sealed class MessagingTestHarnessException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MessagingTestHarnessException()
        : base("A messaging test harness expectation did not hold.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was expected and what was seen instead.</param>
    public MessagingTestHarnessException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was expected and what was seen instead.</param>
    /// <param name="innerException">The failure behind it.</param>
    public MessagingTestHarnessException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

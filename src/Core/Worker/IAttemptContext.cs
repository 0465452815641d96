namespace Messaging;

/// <summary>
/// One handler attempt as the worker keeps it: the attempt's <see cref="MessageContext{TMessage}"/>, which also holds
/// the attempt's own DI scope (created on first use). One object per attempt rather than a context and a holder of
/// services. Saves 40 B/msg (e2e quiet and traced, 2026-12).
/// </summary>
internal interface IAttemptContext
{
    /// <summary>Disposes the attempt's DI scope, if one was created.</summary>
    /// <returns>A task that completes when the scope was disposed.</returns>
    ValueTask DisposeServicesAsync();
}

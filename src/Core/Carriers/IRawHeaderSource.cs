using Messaging.Propagation;

namespace Messaging;

/// <summary>
/// A carrier the library's propagators can read without allocating: the same lookup as
/// <see cref="IHeaderCarrier.GetValues(string)"/>, reporting the single value as stored.
/// </summary>
internal interface IRawHeaderSource
{
    /// <summary>Finds the readable values of the header <paramref name="name"/>, matched ignoring case.</summary>
    /// <param name="name">The header name.</param>
    /// <param name="value">The value, when there is exactly one.</param>
    /// <returns>Whether there is no readable value, exactly one, or several.</returns>
    PropagationHelpers.ValueCount Find(string name, out HeaderValue value);
}

namespace Messaging;

/// <summary>Thrown inside the worker when a body cannot be deserialised; such a message is dead-lettered at once.</summary>
internal sealed class UndeserializableMessageException(Exception inner) : Exception("The message body could not be deserialised.", inner);

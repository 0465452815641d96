namespace Messaging;

/// <summary>What a consumer may choose for itself: trust and parenting (a worker's options over the application's).</summary>
internal sealed record ConsumerSettings(ContextTrust Trust, ParentingMode Parenting, Func<IncomingMessage, ParentingMode>? ParentingPolicy);

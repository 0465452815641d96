using System.Diagnostics.CodeAnalysis;
using Xunit;

namespace Messaging.IntegrationTests.Broker;

/// <summary>
/// The <c>broker</c> test collection: every class marked <c>[Collection(BrokerCollection.Name)]</c>
/// shares one <see cref="BrokerFixture"/> (one RabbitMQ node per test run). Tests in a collection run
/// one at a time, so fault injection in one test cannot disturb another.
/// </summary>
[CollectionDefinition(Name)]
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "xunit collection definitions are conventionally named *Collection.")]
public sealed class BrokerCollection : ICollectionFixture<BrokerFixture>
{
    /// <summary>The collection name, <c>broker</c>.</summary>
    public const string Name = "broker";
}

using Xunit;

namespace Messaging.Tests.Core;

/// <summary>
/// What must stay out of the public surface. The surface itself is tracked per package in PublicAPI.Shipped.txt and
/// PublicAPI.Unshipped.txt by the public API analyzers.
/// </summary>
public sealed class PublicSurfaceTests
{
    [Theory]
    [InlineData("Messaging.BaggageFilter")]
    [InlineData("Messaging.AmbientContext")]
    public void Engine_internals_are_not_public(string typeName)
    {
        var type = typeof(MessagingInstrumentation).Assembly.GetType(typeName);

        Assert.NotNull(type);
        Assert.False(type.IsPublic, $"{typeName} is public");
    }
}

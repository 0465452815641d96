using Microsoft.Extensions.DependencyInjection;

namespace Messaging;

/// <summary>The services of one handler attempt: its own DI scope, created on first use and disposed after the attempt.</summary>
internal sealed class AttemptServices(IServiceScopeFactory? factory, IServiceProvider root)
{
    private AsyncServiceScope? _scope;

    public IServiceProvider Provider => factory is null ? root : (_scope ??= factory.CreateAsyncScope()).ServiceProvider;

    public ValueTask DisposeAsync() => _scope is { } scope ? scope.DisposeAsync() : default;
}

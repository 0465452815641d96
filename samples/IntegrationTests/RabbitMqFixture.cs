using DotNet.Testcontainers.Builders;
using Testcontainers.RabbitMq;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Messaging.Samples.IntegrationTests;

/// <summary>
/// One RabbitMQ broker for the test run: a container started with Testcontainers (image
/// <c>MESSAGING_TESTS_RABBITMQ_IMAGE</c>, default <c>rabbitmq:3-management</c>), or the broker <c>RABBITMQ_URI</c> names.
/// Without a container engine the tests fail, saying what to start — they are never skipped.
/// </summary>
public sealed class RabbitMqFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    public const string ImageVariable = "MESSAGING_TESTS_RABBITMQ_IMAGE";
    public const string UriVariable = "RABBITMQ_URI";
    public const string DefaultImage = "rabbitmq:3-management";

    private IAsyncDisposable? _owner;

    /// <summary>
    /// Set by the repository's fallback (not part of a copy of this sample): starts a broker when no container engine
    /// answers, returning its address, what to dispose and a description.
    /// </summary>
    internal static Func<Task<(Uri Uri, IAsyncDisposable Owner, string Description)>>? Fallback { get; set; }

    /// <summary>Gets the broker's AMQP address, credentials included.</summary>
    public Uri Uri { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(UriVariable) is { Length: > 0 } given)
        {
            Uri = new Uri(given);
            Report($"External - the broker from {UriVariable} ({Uri.Host}:{Uri.Port})");
            return;
        }

        var image = Environment.GetEnvironmentVariable(ImageVariable) is { Length: > 0 } configured ? configured : DefaultImage;
        RabbitMqContainer? container = null;
        try
        {
            // RabbitMQ lets 'guest' in from loopback only, and the tests connect through a published port: use a user of their own.
            container = new RabbitMqBuilder(image).WithUsername("app").WithPassword("app-secret").Build();
            await container.StartAsync();
            _owner = container;
            Uri = new Uri(container.GetConnectionString());
            Report($"Container - {image}, AMQP on {Uri.Host}:{Uri.Port}");
        }
        catch (Exception ex) when (IsEngineUnavailable(ex))
        {
            if (container is not null)
            {
                await container.DisposeAsync();
            }

            if (Fallback is null)
            {
                throw new InvalidOperationException(
                    $"These tests start RabbitMQ in a container ({image}), but no container engine answered. Start Docker (or another "
                    + $"engine serving the Docker API, and set DOCKER_HOST to it), or set {UriVariable} to a broker you run. "
                    + $"Testcontainers said: {ex.Message}",
                    ex);
            }

            var (uri, owner, description) = await Fallback();
            Uri = uri;
            _owner = owner;
            Report($"{description} (no container engine: {ex.GetBaseException().Message})");
        }
    }

    public async Task DisposeAsync()
    {
        if (_owner is not null)
        {
            await _owner.DisposeAsync();
        }
    }

    private static bool IsEngineUnavailable(Exception ex) =>
        ex is DockerUnavailableException || ex.GetBaseException() is System.Net.Sockets.SocketException or HttpRequestException;

    private void Report(string broker) =>
        diagnostics.OnMessage(new DiagnosticMessage($"Sample integration test broker: {broker}"));
}

[CollectionDefinition(Name)]
#pragma warning disable CA1711 // xunit collection definitions are conventionally named *Collection.
public sealed class RabbitMqCollection : ICollectionFixture<RabbitMqFixture>
#pragma warning restore CA1711
{
    public const string Name = "rabbitmq";
}

using Azure.Core;
using Azure.Messaging.ServiceBus;

namespace Messaging.Transports.ServiceBus;

/// <summary>
/// The application's one <see cref="ServiceBusClient"/>, shared by every worker (a processor each) and the publisher
/// (a sender per entity). Validated when the host starts.
/// </summary>
/// <remarks>
/// Where the client comes from, first match wins: the <see cref="ServiceBusClient"/> registered under
/// <see cref="ClientServiceKey"/> (for example by Aspire's <c>AddKeyedAzureServiceBusClient</c>); a
/// <see cref="ServiceBusClient"/> registered without a key (Aspire's <c>AddAzureServiceBusClient</c>); otherwise the
/// library creates one from <see cref="ConnectionString"/>, or from <see cref="FullyQualifiedNamespace"/> with
/// <see cref="Credential"/> (or a <see cref="TokenCredential"/> registered in DI, such as <c>DefaultAzureCredential</c>
/// from Azure.Identity), with <see cref="ClientOptions"/>. A client you register is used as it is and never disposed by
/// the library; the one it creates is disposed when the application stops.
/// </remarks>
public sealed class ServiceBusConnectionOptions
{
    /// <summary>
    /// Gets or sets the connection string (<c>Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…</c>; with
    /// <c>UseDevelopmentEmulator=true</c> for an emulator or test broker on plain TCP). Default: none.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets the namespace host name (<c>contoso.servicebus.windows.net</c>), used with <see cref="Credential"/>. Default: none.</summary>
    public string? FullyQualifiedNamespace { get; set; }

    /// <summary>
    /// Gets or sets the credential for <see cref="FullyQualifiedNamespace"/> (code only, not bound from configuration).
    /// Default (<see langword="null"/>): a <see cref="TokenCredential"/> registered in DI.
    /// </summary>
    public TokenCredential? Credential { get; set; }

    /// <summary>Gets or sets the service key of a keyed <see cref="ServiceBusClient"/> registration to use. Default: none.</summary>
    public string? ClientServiceKey { get; set; }

    /// <summary>Gets the options of the client the library creates (transport, retries, identifier).</summary>
    public ServiceBusClientOptions ClientOptions { get; } = new();

    /// <summary>Validates the options.</summary>
    /// <exception cref="ArgumentException">One or more options are invalid; the message lists every problem.</exception>
    public void Validate() => OptionsErrors.ThrowIfAny(this, Validate);

    internal void Validate(ICollection<string> errors)
    {
        if (!string.IsNullOrWhiteSpace(ConnectionString) && !string.IsNullOrWhiteSpace(FullyQualifiedNamespace))
        {
            errors.Add($"Set either {nameof(ConnectionString)} or {nameof(FullyQualifiedNamespace)}, not both.");
        }

        if (FullyQualifiedNamespace is { } fqns && (fqns.Contains("://", StringComparison.Ordinal) || fqns.Contains('/', StringComparison.Ordinal)))
        {
            errors.Add($"{nameof(FullyQualifiedNamespace)} must be a host name such as 'contoso.servicebus.windows.net', not '{fqns}'.");
        }

        if (ClientServiceKey is { } key && string.IsNullOrWhiteSpace(key))
        {
            errors.Add($"{nameof(ClientServiceKey)} must not be empty when set.");
        }
    }
}

using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Messaging.ServiceBus.TestBroker.Internal;

/// <summary>
/// Checks a shared access signature as Service Bus does: <c>SharedAccessSignature sr=…&amp;sig=…&amp;se=…&amp;skn=…</c>,
/// the signature being the HMAC-SHA256 (keyed with the shared access key) of the encoded resource, a newline and the expiry.
/// </summary>
internal static class SharedAccessSignatures
{
    private const string Scheme = "SharedAccessSignature ";

    /// <summary>Returns why the token is refused, or null when it is valid.</summary>
    public static string? Validate(string? token, string keyName, string key, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(token))
        {
            return "The put-token request carries no token.";
        }

        if (!token.StartsWith(Scheme, StringComparison.Ordinal))
        {
            return "The token is not a shared access signature.";
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in token[Scheme.Length..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var separator = part.IndexOf('=', StringComparison.Ordinal);
            if (separator > 0)
            {
                fields[part[..separator]] = part[(separator + 1)..];
            }
        }

        if (!fields.TryGetValue("sr", out var resource) || !fields.TryGetValue("sig", out var signature)
            || !fields.TryGetValue("se", out var expiry) || !fields.TryGetValue("skn", out var signedKeyName))
        {
            return "The shared access signature lacks one of sr, sig, se and skn.";
        }

        signedKeyName = WebUtility.UrlDecode(signedKeyName);
        if (!string.Equals(signedKeyName, keyName, StringComparison.Ordinal))
        {
            return $"The token is signed with the key named '{signedKeyName}'; the broker has only '{keyName}'.";
        }

        expiry = WebUtility.UrlDecode(expiry);
        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(key));
        var expected = hmac.ComputeHash(Encoding.UTF8.GetBytes(resource + "\n" + expiry));
        byte[] presented;
        try
        {
            presented = Convert.FromBase64String(WebUtility.UrlDecode(signature));
        }
        catch (FormatException)
        {
            return "The token's signature is not base64.";
        }

        if (!CryptographicOperations.FixedTimeEquals(expected, presented))
        {
            return $"The token's signature does not match the broker's key '{keyName}'.";
        }

        if (!long.TryParse(expiry, NumberStyles.None, CultureInfo.InvariantCulture, out var expirySeconds))
        {
            return $"The token's expiry '{expiry}' is not a number of seconds.";
        }

        if (DateTimeOffset.FromUnixTimeSeconds(expirySeconds) <= now)
        {
            return $"The token expired at {DateTimeOffset.FromUnixTimeSeconds(expirySeconds):O}.";
        }

        return null;
    }
}

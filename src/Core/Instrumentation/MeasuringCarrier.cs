using System.Text;

namespace Messaging;

/// <summary>Passes writes through to a carrier and counts the UTF-8 bytes of the names and values written.</summary>
internal sealed class MeasuringCarrier(IHeaderCarrier inner) : IHeaderCarrier
{
    public long Bytes { get; private set; }

    public IEnumerable<string> Keys => inner.Keys;

    public IReadOnlyList<string>? GetValues(string name) => inner.GetValues(name);

    public void SetValue(string name, string value)
    {
        inner.SetValue(name, value);
        Bytes += Encoding.UTF8.GetByteCount(name) + Encoding.UTF8.GetByteCount(value);
    }

    public bool Remove(string name) => inner.Remove(name);
}

namespace Messaging.Samples;

/// <summary>The sample message.</summary>
/// <param name="OrderId">The order's id.</param>
/// <param name="Number">Its position in this run (1, 2, …).</param>
/// <param name="Item">What was ordered.</param>
/// <param name="Quantity">How many.</param>
/// <param name="CreatedAt">When the producer created it.</param>
internal sealed record Order(string OrderId, int Number, string Item, int Quantity, DateTimeOffset CreatedAt)
{
    private static readonly string[] Items = ["coffee beans", "green tea", "croissant", "bagel", "orange juice"];

    public static Order Create(int number) =>
        new($"order-{Guid.NewGuid():N}"[..14], number, Items[(number - 1) % Items.Length], 1 + (number % 3), DateTimeOffset.UtcNow);
}

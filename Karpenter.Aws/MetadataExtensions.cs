namespace Karpenter.Aws;

/// <summary>Reading labels and annotations, which the Kubernetes model types expose as <see cref="IDictionary{TKey, TValue}"/>.</summary>
internal static class MetadataExtensions
{
    /// <summary>The value of <paramref name="key"/>, or null when the map or the key is absent.</summary>
    public static string? ValueOf(this IDictionary<string, string>? map, string key) =>
        map is not null && map.TryGetValue(key, out var value) ? value : null;
}

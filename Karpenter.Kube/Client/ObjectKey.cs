using k8s;
using k8s.Models;

namespace Karpenter.Kube.Client;

/// <summary>
/// The identity a controller works on: namespace (null for cluster-scoped objects) and name, like
/// controller-runtime's <c>NamespacedName</c>. Compared by value; prints as <c>namespace/name</c> or <c>name</c>.
/// </summary>
public readonly record struct ObjectKey(string? Namespace, string Name) : IComparable<ObjectKey>
{
    /// <summary>A key for a cluster-scoped object (or a singleton controller's fixed key).</summary>
    public static ObjectKey Cluster(string name) => new(null, name);

    /// <summary>The key of <paramref name="obj"/>.</summary>
    public static ObjectKey Of(IKubernetesObject<V1ObjectMeta> obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        var meta = obj.Metadata ?? throw new ArgumentException("The object has no metadata.", nameof(obj));
        return new ObjectKey(string.IsNullOrEmpty(meta.NamespaceProperty) ? null : meta.NamespaceProperty, meta.Name);
    }

    /// <summary>Parses <c>namespace/name</c> or <c>name</c>.</summary>
    public static ObjectKey Parse(string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? new ObjectKey(null, text) : new ObjectKey(text[..slash], text[(slash + 1)..]);
    }

    public int CompareTo(ObjectKey other)
    {
        var ns = string.CompareOrdinal(Namespace ?? string.Empty, other.Namespace ?? string.Empty);
        return ns != 0 ? ns : string.CompareOrdinal(Name, other.Name);
    }

    public override string ToString() => Namespace is null ? Name : $"{Namespace}/{Name}";

    public static bool operator <(ObjectKey left, ObjectKey right) => left.CompareTo(right) < 0;

    public static bool operator <=(ObjectKey left, ObjectKey right) => left.CompareTo(right) <= 0;

    public static bool operator >(ObjectKey left, ObjectKey right) => left.CompareTo(right) > 0;

    public static bool operator >=(ObjectKey left, ObjectKey right) => left.CompareTo(right) >= 0;
}

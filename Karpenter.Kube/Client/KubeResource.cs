using System.Reflection;
using System.Text;
using k8s.Models;

namespace Karpenter.Kube.Client;

/// <summary>
/// Where a type lives on the API server, read from its <see cref="KubernetesEntityAttribute"/>: built-in models
/// (<c>V1Pod</c>, <c>V1Lease</c>, …) and custom entities alike.
/// </summary>
public sealed record KubeResource(string Group, string Version, string Kind, string Plural)
{
    /// <summary><c>v1</c> for the core group, otherwise <c>group/version</c>.</summary>
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>The resource as the server names it in messages: <c>pods</c> or <c>nodeclaims.karpenter.sh</c>.</summary>
    public string QualifiedResource => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    /// <summary>The resource of <typeparamref name="T"/>.</summary>
    public static KubeResource Of<T>() => Holder<T>.Value;

    /// <summary>The resource of <paramref name="type"/>; throws a clear error when the type has no usable attribute.</summary>
    public static KubeResource Of(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        var attr = type.GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new InvalidOperationException($"{type.FullName} has no [KubernetesEntity] attribute, so its API path is unknown.");
        if (string.IsNullOrEmpty(attr.ApiVersion) || string.IsNullOrEmpty(attr.Kind) || string.IsNullOrEmpty(attr.PluralName))
        {
            throw new InvalidOperationException(
                $"{type.FullName}'s [KubernetesEntity] must name ApiVersion, Kind and PluralName (got '{attr.ApiVersion}', '{attr.Kind}', '{attr.PluralName}').");
        }

        return new KubeResource(attr.Group ?? string.Empty, attr.ApiVersion, attr.Kind, attr.PluralName);
    }

    /// <summary>
    /// The request path relative to the server root, e.g. <c>api/v1/namespaces/ns/pods/p/status</c>. A null namespace
    /// addresses a cluster-scoped object, or every namespace for a collection.
    /// </summary>
    public string Path(string? @namespace, string? name = null, string? subresource = null)
    {
        var sb = new StringBuilder(Group.Length == 0 ? "api/" : $"apis/{Group}/");
        sb.Append(Version);
        if (!string.IsNullOrEmpty(@namespace))
        {
            sb.Append("/namespaces/").Append(Uri.EscapeDataString(@namespace));
        }

        sb.Append('/').Append(Plural);
        if (!string.IsNullOrEmpty(name))
        {
            sb.Append('/').Append(Uri.EscapeDataString(name));
            if (!string.IsNullOrEmpty(subresource))
            {
                sb.Append('/').Append(subresource);
            }
        }

        return sb.ToString();
    }

    // Computed once per type by the runtime's type initialisation: immutable, so no shared mutable state.
    private static class Holder<T>
    {
#pragma warning disable CA2263 // the generic overload reads this field
        public static readonly KubeResource Value = Of(typeof(T));
#pragma warning restore CA2263
    }
}

using k8s;
using k8s.Models;

namespace Karpenter.Kube.Client;

/// <summary>Small helpers over Kubernetes objects.</summary>
public static class KubeObjects
{
    /// <summary>A deep copy (through JSON), e.g. of a cached object before modifying it.</summary>
    public static T DeepClone<T>(T obj)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(obj);
        return KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(obj));
    }

    /// <summary>Whether the object is being deleted (has a deletionTimestamp).</summary>
    public static bool IsBeingDeleted(this IKubernetesObject<V1ObjectMeta> obj) =>
        obj?.Metadata?.DeletionTimestamp is not null;

    /// <summary>A reference to <paramref name="obj"/> for events and owner lookups.</summary>
    public static V1ObjectReference ToReference<T>(this T obj)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(obj);
        var resource = KubeResource.Of(obj.GetType());
        return new V1ObjectReference
        {
            ApiVersion = obj.ApiVersion ?? resource.ApiVersion,
            Kind = obj.Kind ?? resource.Kind,
            Name = obj.Metadata?.Name,
            NamespaceProperty = obj.Metadata?.NamespaceProperty,
            Uid = obj.Metadata?.Uid,
            ResourceVersion = obj.Metadata?.ResourceVersion,
        };
    }
}

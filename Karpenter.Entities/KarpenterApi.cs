using k8s;
using Karpenter.Kube.Entities;
using Karpenter.Kube.Generation;

namespace Karpenter.Entities;

/// <summary>The kinds of Karpenter's API, for CRD generation, YAML loading and client registration.</summary>
public static class KarpenterApi
{
    /// <summary>Every served version of every kind: NodePool and NodeClaim (karpenter.sh), EC2NodeClass (karpenter.k8s.aws).</summary>
    public static IReadOnlyList<Type> EntityTypes { get; } =
    [
        typeof(V1.NodePool),
        typeof(V1.NodeClaim),
        typeof(Aws.V1.EC2NodeClass),
        typeof(V1Beta1.NodePool),
        typeof(Aws.V1Beta1.EC2NodeClass),
    ];

    /// <summary>The admission webhooks the operator serves: validation of the stored (v1) version of every kind.</summary>
    public static IReadOnlyList<AdmissionWebhook> AdmissionWebhooks { get; } =
    [
        AdmissionWebhook.Validating<V1.NodePool>(),
        AdmissionWebhook.Validating<V1.NodeClaim>(),
        AdmissionWebhook.Validating<Aws.V1.EC2NodeClass>(),
    ];

    /// <summary>
    /// The type map KubernetesYaml needs to load Karpenter's kinds (<c>karpenter.sh/v1/NodePool</c> → <see cref="V1.NodePool"/>, …).
    /// </summary>
    public static IReadOnlyDictionary<string, Type> YamlTypeMap { get; } =
        EntityTypes.ToDictionary(t => EntityMetadata.Of(t).TypeMapKey, t => t, StringComparer.Ordinal);

    /// <summary>
    /// Loads a multi-document YAML manifest into typed objects: Karpenter's kinds as their entity types, everything else
    /// as KubernetesClient knows it. <paramref name="strict"/> refuses unknown fields.
    /// </summary>
    public static IList<object> LoadYaml(string yaml, bool strict = false)
    {
        var map = new Dictionary<string, Type>(YamlTypeMap, StringComparer.Ordinal);
        return KubernetesYaml.LoadAllFromString(yaml, map, strict);
    }
}

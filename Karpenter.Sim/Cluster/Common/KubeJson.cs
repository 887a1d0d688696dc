using k8s;

namespace Karpenter.Sim.Cluster.Common;

/// <summary>Compares API objects (or parts of them) as the API server would store them.</summary>
internal static class KubeJson
{
    /// <summary>True when both serialize to the same JSON; null equals null only (a status never written is not an empty one).</summary>
    public static bool Same(object? a, object? b) =>
        a is null || b is null ? a is null && b is null : KubernetesJson.Serialize(a) == KubernetesJson.Serialize(b);
}

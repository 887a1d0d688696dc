using k8s;
using k8s.Models;

namespace Karpenter.Sim.Cluster.Common;

/// <summary>Facts about pods that several simulated components read the same way (as <c>k8s.io/kubernetes/pkg/api/v1/pod</c>).</summary>
public static class PodFacts
{
    public const string PhasePending = "Pending";
    public const string PhaseRunning = "Running";
    public const string PhaseSucceeded = "Succeeded";
    public const string PhaseFailed = "Failed";

    /// <summary>Succeeded or Failed: its containers will not run again.</summary>
    public static bool IsTerminal(V1Pod pod) => pod?.Status?.Phase is PhaseSucceeded or PhaseFailed;

    /// <summary>Not terminal and not being deleted (what a ReplicaSet counts as one of its replicas).</summary>
    public static bool IsActive(V1Pod pod) => !IsTerminal(pod) && pod.Metadata?.DeletionTimestamp is null;

    /// <summary>The pod's <c>Ready</c> condition is True.</summary>
    public static bool IsReady(V1Pod pod) => Condition(pod, "Ready")?.Status == "True";

    public static V1PodCondition? Condition(V1Pod pod, string type) =>
        pod?.Status?.Conditions?.FirstOrDefault(c => c.Type == type);

    /// <summary>The owner reference with <c>controller: true</c>, if any.</summary>
    public static V1OwnerReference? ControllerOf(IMetadata<V1ObjectMeta> obj) =>
        obj?.Metadata?.OwnerReferences?.FirstOrDefault(o => o.Controller == true);

    /// <summary>When the pod became Ready (its Ready condition's last transition), or null.</summary>
    public static DateTimeOffset? ReadySince(V1Pod pod) =>
        Condition(pod, "Ready") is { Status: "True", LastTransitionTime: { } t } ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;

    /// <summary>A pod is available once Ready for <paramref name="minReadySeconds"/> (<c>podutil.IsPodAvailable</c>).</summary>
    public static bool IsAvailable(V1Pod pod, int minReadySeconds, DateTimeOffset now) =>
        IsReady(pod) && (minReadySeconds == 0 || (ReadySince(pod) is { } since && since.AddSeconds(minReadySeconds) <= now));
}

/// <summary>Lookups in the string maps of Kubernetes objects (labels, annotations), which may be null.</summary>
public static class Maps
{
    public static string? Get(IDictionary<string, string>? map, string key) =>
        map is not null && map.TryGetValue(key, out var value) ? value : null;
}

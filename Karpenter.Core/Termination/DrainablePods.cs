using k8s.Models;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.Termination;

/// <summary>
/// How a drain sees a pod (upstream <c>pkg/utils/pod</c>): which pods a drain waits for, which it evicts, and the order
/// it evicts them in.
/// </summary>
public static class DrainablePods
{
    /// <summary>A terminating pod this long past its deletion timestamp no longer holds a drain up (upstream <c>IsStuckTerminating</c>).</summary>
    public static readonly TimeSpan StuckTerminating = TimeSpan.FromMinutes(1);

    /// <summary>The annotation the kubelet puts on the mirror pod of a static pod.</summary>
    public const string MirrorPodAnnotation = "kubernetes.io/config.mirror";

    private static readonly V1Taint DisruptedNoSchedule = new() { Key = Taints.DisruptedKey, Effect = Taints.EffectNoSchedule };

    public static bool IsTerminal(V1Pod pod) => pod?.Status?.Phase is "Succeeded" or "Failed";

    public static bool IsTerminating(V1Pod pod) => pod?.Metadata?.DeletionTimestamp is not null;

    /// <summary>Terminating for over a minute past its deletion timestamp: the kubelet is gone, nothing will finish it.</summary>
    public static bool IsStuckTerminating(V1Pod pod, DateTimeOffset now) =>
        pod?.Metadata?.DeletionTimestamp is { } deleted && now > Utc(deleted) + StuckTerminating;

    /// <summary>A static pod's mirror: owned by its Node (or annotated by the kubelet); the API server cannot delete it for real.</summary>
    public static bool IsOwnedByNode(V1Pod pod) =>
        OwnedBy(pod, "v1", "Node") || pod?.Metadata?.Annotations?.ContainsKey(MirrorPodAnnotation) == true;

    public static bool IsOwnedByDaemonSet(V1Pod pod) => OwnedBy(pod, "apps/v1", "DaemonSet");

    /// <summary>Critical pods (<c>system-cluster-critical</c>, <c>system-node-critical</c>) are evicted after all others.</summary>
    public static bool IsCritical(V1Pod pod) =>
        pod?.Spec?.PriorityClassName is "system-cluster-critical" or "system-node-critical";

    /// <summary>Pods that tolerate <c>karpenter.sh/disrupted:NoSchedule</c> would land on the node again, so a drain leaves them.</summary>
    public static bool ToleratesDisruptedTaint(V1Pod pod) =>
        pod?.Spec?.Tolerations?.Any(t => Tolerations.Tolerates(t, DisruptedNoSchedule)) == true;

    /// <summary><c>karpenter.sh/do-not-disrupt: "true"</c>: never evicted; the drain waits for it until the grace period ends.</summary>
    public static bool HasDoNotDisrupt(V1Pod pod) =>
        pod?.Metadata?.Annotations?.TryGetValue(Annotations.DoNotDisrupt, out var value) == true && value == "true";

    /// <summary>Whether the drain has to see this pod gone (upstream <c>IsDrainable</c>); do-not-disrupt pods count.</summary>
    public static bool IsDrainable(V1Pod pod, DateTimeOffset now) =>
        !ToleratesDisruptedTaint(pod) && !IsStuckTerminating(pod, now) && !IsOwnedByNode(pod);

    /// <summary>A pod the drain is still waiting for (upstream <c>IsWaitingEviction</c>).</summary>
    public static bool IsWaitingEviction(V1Pod pod, DateTimeOffset now) => !IsTerminal(pod) && IsDrainable(pod, now);

    /// <summary>A pod the drain may evict now (upstream <c>IsEvictable</c>): active, not a mirror, not tolerating the taint, not do-not-disrupt.</summary>
    public static bool IsEvictable(V1Pod pod) =>
        !IsTerminal(pod) && !IsTerminating(pod) && !ToleratesDisruptedTaint(pod) && !IsOwnedByNode(pod) && !HasDoNotDisrupt(pod);

    /// <summary>
    /// The eviction order (graceful node shutdown's): non-critical non-DaemonSet pods, non-critical DaemonSet pods,
    /// critical non-DaemonSet pods, critical DaemonSet pods. A group is evicted only once every earlier group is gone.
    /// </summary>
    public static int Group(V1Pod pod) => (IsCritical(pod) ? 2 : 0) + (IsOwnedByDaemonSet(pod) ? 1 : 0);

    /// <summary>The group being drained now: the lowest <see cref="Group"/> among the pods still waiting, or null when none wait.</summary>
    public static int? CurrentGroup(IEnumerable<V1Pod> podsOnNode, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(podsOnNode);
        int? current = null;
        foreach (var pod in podsOnNode)
        {
            if (IsWaitingEviction(pod, now))
            {
                var group = Group(pod);
                current = current is null ? group : Math.Min(current.Value, group);
            }
        }

        return current;
    }

    private static bool OwnedBy(V1Pod pod, string apiVersion, string kind) =>
        pod?.Metadata?.OwnerReferences?.Any(o => o.ApiVersion == apiVersion && o.Kind == kind) == true;

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}

using k8s.Models;
using Karpenter.Core.Lifecycle;
using Karpenter.Core.Metrics;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Microsoft.Extensions.Logging;

namespace Karpenter.Core.Termination;

/// <summary>
/// The eviction queue of node termination (upstream <c>terminator/eviction.go</c>), as a controller of pods: a pod is
/// evicted through <c>pods/eviction</c> (policy/v1, with its UID as precondition) when it is bound to a Node that is
/// being terminated (deleted, still holding <c>karpenter.sh/termination</c>, tainted <c>karpenter.sh/disrupted</c>),
/// it is evictable, and it belongs to the priority group being drained. <see cref="Terminator"/> enqueues those pods;
/// the reconcile decides again from the cache, so a stale or repeated key does nothing. A PodDisruptionBudget's 429
/// requeues the pod with per-pod exponential backoff (100 ms to 10 s, as upstream); 404 and 409 mean the pod is gone
/// or replaced.
/// </summary>
public sealed class EvictionController(
    IKubeClient client,
    ClusterIndexes indexes,
    IEventRecorder events,
    LifecycleMetrics metrics,
    TimeProvider time,
    ILogger<EvictionController> logger) : IReconciler<V1Pod>
{
    public const string Name = "node.termination.eviction";

    /// <summary>Per-pod retry backoff of a refused eviction (upstream: 100 ms to 10 s).</summary>
    public static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(100);

    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    public async Task<ReconcileResult> ReconcileAsync(V1Pod entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (entity.Spec?.NodeName is not { Length: > 0 } nodeName ||
            indexes.Nodes.Get(ObjectKey.Cluster(nodeName)) is not { } node ||
            !IsTerminating(node) ||
            !DrainablePods.IsEvictable(entity))
        {
            return ReconcileResult.Done;
        }

        var now = time.GetUtcNow();
        if (DrainablePods.CurrentGroup(indexes.PodsOnNode(nodeName), now) != DrainablePods.Group(entity))
        {
            // An earlier group is still draining; Terminator enqueues this pod again when its turn comes.
            return ReconcileResult.Done;
        }

        var ns = entity.Metadata.NamespaceProperty;
        var name = entity.Metadata.Name;
        try
        {
            await client.EvictAsync(name, ns, KubeClientExtensions.Preconditions(entity.Metadata.Uid), cancellationToken);
        }
        catch (KubeApiException e) when (e is KubeNotFoundException or KubeConflictException)
        {
            // 404: the pod is gone. 409: a different pod of that name now exists; it is not the one being drained.
            metrics.EvictionRequests.Add(1, Code(e.StatusCode));
            return ReconcileResult.Done;
        }
        catch (KubeTooManyRequestsException e)
        {
            metrics.EvictionRequests.Add(1, Code(e.StatusCode));
            logger.EvictionBlocked(ns, name);
            events.Publish(new KubeEvent(node, EventTypes.Warning, EventReasons.FailedDraining, $"Failed to drain node, evicting pod {ns}/{name} violates a PDB"));
            return ReconcileResult.RequeueRateLimited;
        }
        catch (KubeApiException e)
        {
            metrics.EvictionRequests.Add(1, Code(e.StatusCode));
            throw;
        }

        metrics.EvictionRequests.Add(1, Code(200));
        var reason = DisruptionReason(node);
        metrics.PodsDrained.Add(1, new System.Diagnostics.TagList { { LifecycleMetrics.ReasonLabel, reason ?? string.Empty } });
        events.Publish(new KubeEvent(entity, EventTypes.Normal, EventReasons.Evicted, reason is null ? "Evicted pod" : $"Evicted pod: {reason}"));
        logger.Evicted(ns, name, nodeName);
        return ReconcileResult.Done;
    }

    /// <summary>Whether the node is in the termination this controller drains: deleted, finalizer held, tainted.</summary>
    public static bool IsTerminating(V1Node node) =>
        node?.Metadata?.DeletionTimestamp is not null &&
        node.Metadata.Finalizers?.Contains(Finalizers.Termination) == true &&
        node.Spec?.Taints?.Any(t => t.Key == Taints.DisruptedKey && t.Effect == Taints.EffectNoSchedule) == true;

    private string? DisruptionReason(V1Node node) =>
        indexes.NodeClaimsForProviderId(node.Spec?.ProviderID) is [var nodeClaim, ..] ? nodeClaim.Condition(ConditionTypes.DisruptionReason)?.Reason : null;

    private static System.Diagnostics.TagList Code(int code) =>
        new() { { LifecycleMetrics.CodeLabel, code.ToString(System.Globalization.CultureInfo.InvariantCulture) } };
}

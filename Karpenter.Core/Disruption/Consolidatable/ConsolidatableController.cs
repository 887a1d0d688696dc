using k8s.Models;
using Karpenter.Core.Lifecycle;
using Karpenter.Entities;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Conditions;
using Karpenter.Kube.Controllers;

namespace Karpenter.Core.Disruption.Consolidatable;

/// <summary>
/// Upstream's <c>nodeclaim.disruption</c> consolidation half: a NodeClaim is <c>Consolidatable</c> once it is
/// initialized and its NodePool's <c>consolidateAfter</c> has passed since its last pod event (or since it initialized).
/// Before that the condition is removed and the NodeClaim requeued for the moment it becomes due; <c>Never</c> removes it.
/// (The <c>Drifted</c> condition belongs to the lifecycle controllers.)
/// </summary>
public sealed class ConsolidatableController(IKubeClient client, ClusterIndexes indexes, TimeProvider time) : IReconciler<NodeClaim>
{
    public const string Name = "nodeclaim.disruption.consolidatable";

    public async Task<ReconcileResult> ReconcileAsync(NodeClaim entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (entity.Metadata.DeletionTimestamp is not null)
        {
            return ReconcileResult.Done;
        }

        var pool = indexes.NodePool(entity.NodePoolName);
        var now = time.GetUtcNow();
        var (consolidatable, due) = Evaluate(entity, pool, now);
        var modified = KubeObjects.DeepClone(entity);
        modified.Status.Conditions ??= [];
        var changed = consolidatable
            ? ConditionList.Set(modified.Status.Conditions, ConditionTypes.Consolidatable, ConditionStatus.True, "Consolidatable", string.Empty, entity.Metadata.Generation, now)
            : ConditionList.Remove(modified.Status.Conditions, ConditionTypes.Consolidatable);
        if (changed)
        {
            await client.PatchStatusFromAsync(entity, modified, cancellationToken: cancellationToken);
        }

        return due is { } at && at > now ? ReconcileResult.After(at - now) : ReconcileResult.Done;
    }

    /// <summary>Whether <paramref name="nodeClaim"/> is consolidatable at <paramref name="now"/>, and when it will be if not yet.</summary>
    public static (bool Consolidatable, DateTimeOffset? Due) Evaluate(NodeClaim nodeClaim, NodePool? nodePool, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        var initialized = nodeClaim.GetCondition(ConditionTypes.Initialized);
        if (nodePool is null || initialized?.Status != ConditionStatus.True ||
            !GoDuration.TryParseNillable(nodePool.Spec.Disruption.ConsolidateAfter, out var after, out _) || after is not { } wait)
        {
            return (false, null);
        }

        var since = nodeClaim.Status.LastPodEventTime ?? initialized.LastTransitionTime;
        var due = new DateTimeOffset(DateTime.SpecifyKind(since, DateTimeKind.Utc)) + wait;
        return due <= now ? (true, null) : (false, due);
    }

    /// <summary>NodeClaims to reconcile when a NodePool changes (its consolidateAfter).</summary>
    public static IEnumerable<ObjectKey> ForNodePool(ClusterIndexes indexes, NodePool nodePool)
    {
        ArgumentNullException.ThrowIfNull(indexes);
        ArgumentNullException.ThrowIfNull(nodePool);
        return [.. indexes.NodeClaimsOfNodePool(nodePool.Metadata.Name).Select(ObjectKey.Of)];
    }
}

/// <summary>
/// Upstream's <c>nodeclaim.podevents</c>: writes <c>status.lastPodEventTime</c> on the NodeClaim of a pod's node when the
/// pod is scheduled there, finishes or starts terminating (at most once per 10 s per NodeClaim), so
/// <see cref="ConsolidatableController"/> waits <c>consolidateAfter</c> from the last pod activity.
/// </summary>
public sealed class PodEventsController(IKubeClient client, ClusterIndexes indexes, TimeProvider time) : IReconciler<V1Pod>
{
    public const string Name = "nodeclaim.podevents";

    /// <summary>Events closer than this to the recorded time are not written again (upstream's dedupe).</summary>
    public static readonly TimeSpan Dedupe = TimeSpan.FromSeconds(10);

    public async Task<ReconcileResult> ReconcileAsync(V1Pod entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (entity.Spec?.NodeName is not { Length: > 0 } nodeName)
        {
            return ReconcileResult.Done;
        }

        var eventTime = EventTime(entity, time.GetUtcNow());
        if (eventTime is null)
        {
            return ReconcileResult.Done;
        }

        foreach (var claim in NodeClaimsOn(indexes, nodeName))
        {
            var last = claim.Status.LastPodEventTime is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : (DateTimeOffset?)null;
            if (last is not null && eventTime.Value - last.Value < Dedupe)
            {
                continue;
            }

            var modified = KubeObjects.DeepClone(claim);
            modified.Status.LastPodEventTime = eventTime.Value.UtcDateTime;
            await client.PatchStatusFromAsync(claim, modified, cancellationToken: cancellationToken);
        }

        return ReconcileResult.Done;
    }

    /// <summary>When the pod last did something a node's idleness depends on: finished or terminating (now), else when it was scheduled (or created).</summary>
    public static DateTimeOffset? EventTime(V1Pod pod, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(pod);
        if (pod.Status?.Phase is "Succeeded" or "Failed" || pod.Metadata?.DeletionTimestamp is not null)
        {
            return now;
        }

        var scheduled = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled" && c.Status == ConditionStatus.True)?.LastTransitionTime;
        var at = scheduled ?? pod.Metadata?.CreationTimestamp;
        return at is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;
    }

    /// <summary>The NodeClaims of the node <paramref name="nodeName"/> (matched by provider ID, as registration links them).</summary>
    public static IReadOnlyList<NodeClaim> NodeClaimsOn(ClusterIndexes indexes, string nodeName)
    {
        ArgumentNullException.ThrowIfNull(indexes);
        return indexes.Nodes.Get(ObjectKey.Cluster(nodeName)) is { } node ? indexes.NodeClaimsForProviderId(node.Spec?.ProviderID) : [];
    }
}

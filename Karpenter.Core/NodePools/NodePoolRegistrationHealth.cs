using Karpenter.Core.Lifecycle;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Conditions;

namespace Karpenter.Core.NodePools;

/// <summary>
/// A NodePool's <c>NodeRegistrationHealthy</c> condition (upstream): <c>Unknown</c> when the NodePool or its NodeClass
/// changes (set by <c>nodepool.readiness</c>), <c>True</c> once a NodeClaim of the NodePool registers a Node, <c>False</c>
/// when, still unknown, a NodeClaim fails to launch or to register in time (the launch failure's reason and message, or
/// <c>RegistrationFailed</c>). It does not gate readiness: it tells an operator that nodes of this NodePool never join,
/// e.g. because of a security group without an outbound rule, while Karpenter keeps paying for them.
/// </summary>
public sealed class NodePoolRegistrationHealth(IKubeClient client, ClusterIndexes indexes, TimeProvider time)
{
    public const string RegistrationFailedReason = "RegistrationFailed";

    /// <summary>Upstream's reason for the reset on a change of the NodePool or its NodeClass.</summary>
    public const string AwaitingReconciliationReason = "AwaitingReconciliation";

    private const int Attempts = 3;

    /// <summary>A NodeClaim of its NodePool registered: the NodePool's nodes can join.</summary>
    public Task RegisteredAsync(NodeClaim nodeClaim, CancellationToken cancellationToken) =>
        UpdateAsync(nodeClaim, (conditions, generation, now) =>
            !ConditionList.IsTrue(conditions, ConditionTypes.NodeRegistrationHealthy) &&
            ConditionList.Set(conditions, ConditionTypes.NodeRegistrationHealthy, ConditionStatus.True, ConditionTypes.NodeRegistrationHealthy, null, generation, now), cancellationToken);

    /// <summary>A NodeClaim of its NodePool is deleted because it did not launch or register in time.</summary>
    public Task FailedAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        var launched = nodeClaim.Condition(ConditionTypes.Launched);
        var (reason, message) = launched is { Status: ConditionStatus.True } || launched is null || string.IsNullOrEmpty(launched.Reason)
            ? (RegistrationFailedReason, "Failed to register node")
            : (launched.Reason, launched.Message ?? string.Empty);
        return UpdateAsync(nodeClaim, (conditions, generation, now) =>
            ConditionList.Get(conditions, ConditionTypes.NodeRegistrationHealthy) is { Status: ConditionStatus.Unknown } &&
            ConditionList.Set(conditions, ConditionTypes.NodeRegistrationHealthy, ConditionStatus.False, reason, message, generation, now), cancellationToken);
    }

    /// <summary>
    /// Resets the condition to <c>Unknown</c> when it is missing, observed an older NodePool generation, or the NodeClass
    /// generation moved (recorded in <c>status.nodeClassObservedGeneration</c>); true when <paramref name="status"/> changed.
    /// </summary>
    public static bool ResetOnChange(NodePool nodePool, NodePoolStatus status, long? nodeClassGeneration, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(nodePool);
        ArgumentNullException.ThrowIfNull(status);
        var conditions = status.Conditions ??= [];
        var generation = nodePool.Metadata.Generation;
        var current = ConditionList.Get(conditions, ConditionTypes.NodeRegistrationHealthy);
        var changed = false;
        if (current is null || current.ObservedGeneration != generation || (nodeClassGeneration is not null && status.NodeClassObservedGeneration != nodeClassGeneration))
        {
            changed |= ConditionList.Set(conditions, ConditionTypes.NodeRegistrationHealthy, ConditionStatus.Unknown, AwaitingReconciliationReason, "object is awaiting reconciliation", generation, now);
        }

        if (nodeClassGeneration is not null && status.NodeClassObservedGeneration != nodeClassGeneration)
        {
            status.NodeClassObservedGeneration = nodeClassGeneration;
            changed = true;
        }

        return changed;
    }

    private async Task UpdateAsync(NodeClaim nodeClaim, Func<IList<k8s.Models.V1Condition>, long?, DateTimeOffset, bool> mutate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        if (nodeClaim.NodePoolName is not { Length: > 0 } name)
        {
            return;
        }

        var pool = indexes.NodePools.Get(ObjectKey.Cluster(name));
        for (var attempt = 0; attempt < Attempts && pool is not null; attempt++)
        {
            // Only the NodePool that made this NodeClaim (a NodePool re-created under the same name is another one).
            if (nodeClaim.Metadata.OwnerReferences?.Any(o => o.Kind == "NodePool" && o.Uid == pool.Metadata.Uid) != true || pool.IsBeingDeleted())
            {
                return;
            }

            var modified = KubeObjects.DeepClone(pool);
            modified.Status ??= new NodePoolStatus();
            if (!mutate(modified.Status.Conditions ??= [], pool.Metadata.Generation, time.GetUtcNow()))
            {
                return;
            }

            try
            {
                await client.PatchStatusFromAsync(pool, modified, optimisticLock: true, cancellationToken);
                return;
            }
            catch (KubeConflictException)
            {
                pool = await client.TryGetAsync<NodePool>(name, null, cancellationToken);
            }
            catch (KubeNotFoundException)
            {
                return;
            }
        }
    }
}

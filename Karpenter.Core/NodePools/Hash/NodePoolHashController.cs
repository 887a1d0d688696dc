using Karpenter.Core.Lifecycle;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;

namespace Karpenter.Core.NodePools.Hash;

/// <summary>
/// <c>nodepool.hash</c> (upstream): stamps a NodePool with the hash of its NodeClaim template
/// (<c>karpenter.sh/nodepool-hash</c>, <see cref="NodePoolHash"/>) and the hash version. When the version a NodePool
/// carries is not this implementation's (first start, or a switch from upstream Karpenter), the NodePool's NodeClaims
/// are re-stamped first: their version always, their hash only if they are not marked drifted, since hashes of two
/// versions cannot be compared. That is what keeps a version change from replacing every node.
/// </summary>
public sealed class NodePoolHashController(IKubeClient client, ClusterIndexes indexes) : IReconciler<NodePool>
{
    public const string Name = "nodepool.hash";

    public async Task<ReconcileResult> ReconcileAsync(NodePool entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (entity.IsBeingDeleted())
        {
            return ReconcileResult.Done;
        }

        var hash = NodePoolHash.Compute(entity);
        var annotations = entity.Metadata.Annotations;
        try
        {
            if (annotations?.TryGetValue(Annotations.NodePoolHashVersion, out var version) != true || version != Annotations.NodePoolHashVersionValue)
            {
                await RestampNodeClaimsAsync(entity.Metadata.Name, hash, cancellationToken);
            }

            if (annotations?.TryGetValue(Annotations.NodePoolHash, out var current) == true && current == hash &&
                annotations.TryGetValue(Annotations.NodePoolHashVersion, out var stamped) && stamped == Annotations.NodePoolHashVersionValue)
            {
                return ReconcileResult.Done;
            }

            var modified = KubeObjects.DeepClone(entity);
            modified.Metadata.Annotations ??= new Dictionary<string, string>();
            modified.Metadata.Annotations[Annotations.NodePoolHash] = hash;
            modified.Metadata.Annotations[Annotations.NodePoolHashVersion] = Annotations.NodePoolHashVersionValue;
            await client.PatchFromAsync(entity, modified, optimisticLock: true, cancellationToken);
        }
        catch (KubeConflictException)
        {
            return ReconcileResult.RequeueRateLimited;
        }
        catch (KubeNotFoundException)
        {
        }

        return ReconcileResult.Done;
    }

    private async Task RestampNodeClaimsAsync(string nodePool, string hash, CancellationToken cancellationToken)
    {
        foreach (var nodeClaim in indexes.NodeClaimsOfNodePool(nodePool))
        {
            if (nodeClaim.Metadata.Annotations?.TryGetValue(Annotations.NodePoolHashVersion, out var version) == true && version == Annotations.NodePoolHashVersionValue)
            {
                continue;
            }

            var modified = KubeObjects.DeepClone(nodeClaim);
            modified.Metadata.Annotations ??= new Dictionary<string, string>();
            modified.Metadata.Annotations[Annotations.NodePoolHashVersion] = Annotations.NodePoolHashVersionValue;
            if (nodeClaim.Condition(ConditionTypes.Drifted) is null)
            {
                modified.Metadata.Annotations[Annotations.NodePoolHash] = hash;
            }

            try
            {
                await client.PatchFromAsync(nodeClaim, modified, optimisticLock: true, cancellationToken);
            }
            catch (KubeNotFoundException)
            {
            }
        }
    }
}

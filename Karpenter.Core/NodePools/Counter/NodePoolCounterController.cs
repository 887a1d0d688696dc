using Karpenter.Core.Lifecycle;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;

namespace Karpenter.Core.NodePools.Counter;

/// <summary>
/// <c>nodepool.counter</c> (upstream): a NodePool's <c>status.nodes</c> and <c>status.resources</c>, the capacity of
/// every launched NodeClaim of the pool (its Node's capacity once registered, else what the launch reported), deleting
/// ones included since they still run. The provisioner's <c>limits</c> and the disruption budgets read these.
/// </summary>
public sealed class NodePoolCounterController(IKubeClient client, ClusterIndexes indexes) : IReconciler<NodePool>
{
    public const string Name = "nodepool.counter";

    public async Task<ReconcileResult> ReconcileAsync(NodePool entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (entity.IsBeingDeleted())
        {
            return ReconcileResult.Done;
        }

        var total = Resources.None;
        var nodes = 0;
        foreach (var nodeClaim in indexes.NodeClaimsOfNodePool(entity.Metadata.Name))
        {
            if (string.IsNullOrEmpty(nodeClaim.Status?.ProviderId))
            {
                continue;
            }

            nodes++;
            var capacity = indexes.NodesForProviderId(nodeClaim.Status.ProviderId) is [var node, ..] && node.Status?.Capacity is { Count: > 0 } nodeCapacity
                ? nodeCapacity
                : nodeClaim.Status.Capacity;
            total += Resources.FromList(capacity);
        }

        var resources = total.ToList();
        if (entity.Status?.Nodes == nodes && SameQuantities(entity.Status.Resources, resources))
        {
            return ReconcileResult.Done;
        }

        var modified = KubeObjects.DeepClone(entity);
        modified.Status ??= new NodePoolStatus();
        modified.Status.Nodes = nodes;
        modified.Status.Resources = resources;
        try
        {
            await client.PatchStatusFromAsync(entity, modified, optimisticLock: true, cancellationToken);
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

    private static bool SameQuantities(Dictionary<string, k8s.Models.ResourceQuantity>? current, Dictionary<string, k8s.Models.ResourceQuantity> desired) =>
        current is not null && Resources.FromList(current) == Resources.FromList(desired) && current.Count == desired.Count;
}

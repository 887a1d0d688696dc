using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Lifecycle;
using Karpenter.Core.Provisioning;
using Karpenter.Core.Scheduling;
using Karpenter.Core.State;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Informers;

namespace Karpenter.Core.Disruption;

/// <summary>
/// Takes a <see cref="ClusterSnapshot"/> from the informer caches (NodeClaims, Nodes, Pods, NodePools through the shared <see cref="ClusterIndexes"/>, and PDBs), the
/// cluster state (schedulable capacity, bound pods, DaemonSets, volumes, marks and nominations) and the cloud
/// provider's instance types.
/// </summary>
public sealed class SnapshotBuilder(ClusterIndexes indexes, InformerFactory informers, ClusterState state, ICloudProvider cloudProvider, TimeProvider time)
{

    /// <summary>Whether every source the snapshot reads has synced.</summary>
    public bool Synced =>
        state.Synced && indexes.Synced && informers.Get<V1PodDisruptionBudget>().HasSynced;

    public async Task<ClusterSnapshot> BuildAsync(IReadOnlySet<string> inFlight, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inFlight);
        var pools = indexes.NodePools.List().Where(p => p.Metadata.DeletionTimestamp is null).ToDictionary(p => p.Metadata.Name, StringComparer.Ordinal);
        var types = new Dictionary<string, IReadOnlyList<InstanceType>>(StringComparer.Ordinal);
        var schedulingPools = new List<SchedulingNodePool>();
        foreach (var pool in pools.Values)
        {
            var poolTypes = await cloudProvider.GetInstanceTypesAsync(pool, cancellationToken);
            types[pool.Metadata.Name] = poolTypes;
            // Replacements launch only from NodePools the provisioner would launch from, modelled as it models them.
            if (SchedulingNodePoolAdapter.NotProvisionableReason(pool) is null &&
                SchedulingNodePoolAdapter.ToSchedulingNodePool(pool, poolTypes, SchedulingNodePoolAdapter.Usage(pool, state, poolTypes), out _) is { } scheduling)
            {
                schedulingPools.Add(scheduling);
            }
        }

        var managed = new List<StateNode>();
        foreach (var claim in indexes.NodeClaims.List())
        {
            var node = claim.Status.NodeName is { Length: > 0 } name ? indexes.Nodes.Get(Kube.Client.ObjectKey.Cluster(name)) : null;
            var nodePods = node is null ? [] : indexes.PodsOnNode(node.Metadata.Name).Where(p => p.Status?.Phase is not ("Succeeded" or "Failed")).ToList();
            managed.Add(new StateNode
            {
                NodeClaim = claim,
                Node = node,
                Pods = nodePods,
                MarkedForDeletion = inFlight.Contains(claim.Metadata.Name) || state.IsMarkedForDeletion(claim.Metadata.Name) || (node is not null && state.IsMarkedForDeletion(node.Metadata.Name)),
                Nominated = state.IsNominated(claim.Metadata.Name) || (node is not null && state.IsNominated(node.Metadata.Name)),
            });
        }

        var wellKnown = new HashSet<string>(cloudProvider.WellKnownLabels, StringComparer.Ordinal);
        return new ClusterSnapshot
        {
            Now = time.GetUtcNow(),
            Nodes = managed,
            NodePools = pools,
            InstanceTypes = types,
            SchedulingNodePools = schedulingPools,
            ExistingNodes = state.ExistingNodes(),
            BoundPods = state.BoundPods(),
            PendingPods = [.. state.PendingPods(), .. state.ReschedulablePods()],
            DaemonSetPods = state.DaemonSetPods(),
            Volumes = state.Volumes(),
            NamespaceLabels = state.NamespaceLabels(),
            PodDisruptionBudgets = informers.Get<V1PodDisruptionBudget>().List(),
            WellKnownLabels = wellKnown,
        };
    }
}

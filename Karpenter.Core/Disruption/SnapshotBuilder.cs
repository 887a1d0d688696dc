using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Lifecycle;
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
            if (DisruptionNodePools.ToScheduling(pool, poolTypes, state.NodePoolUsage(pool.Metadata.Name)) is { } scheduling)
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
            DaemonSetPods = state.DaemonSetPods(),
            Volumes = state.Volumes(),
            PodDisruptionBudgets = informers.Get<V1PodDisruptionBudget>().List(),
            WellKnownLabels = wellKnown,
        };
    }
}

/// <summary>
/// A NodePool as the scheduler models it for replacements (until provisioning's adapter is shared): template
/// requirements and labels, taints, weight, limits with current usage, and its instance types.
/// </summary>
public static class DisruptionNodePools
{
    /// <summary>Null when the NodePool cannot launch (static, or its requirements are invalid).</summary>
    public static SchedulingNodePool? ToScheduling(NodePool nodePool, IReadOnlyList<InstanceType> instanceTypes, Resources usage)
    {
        ArgumentNullException.ThrowIfNull(nodePool);
        ArgumentNullException.ThrowIfNull(instanceTypes);
        if (nodePool.IsStatic)
        {
            return null;
        }

        var errors = new List<string>();
        var requirements = new Requirements();
        foreach (var r in nodePool.Spec.Template.Spec.Requirements)
        {
            var requirement = Requirement.Create(r.Key, r.Operator, r.Values, r.MinValues, out var error);
            if (requirement is null)
            {
                errors.Add(error ?? r.ToString());
                continue;
            }

            requirements.Add(requirement);
        }

        if (errors.Count > 0)
        {
            return null;
        }

        var labels = new Dictionary<string, string>(nodePool.Spec.Template.Metadata?.Labels ?? [], StringComparer.Ordinal) { [Labels.NodePool] = nodePool.Metadata.Name };
        foreach (var (key, value) in labels)
        {
            requirements.Add(Requirement.In(key, value));
        }

        return new SchedulingNodePool
        {
            Name = nodePool.Metadata.Name,
            Weight = nodePool.Spec.Weight ?? 0,
            Requirements = requirements,
            Labels = labels,
            Taints = [.. (nodePool.Spec.Template.Spec.Taints ?? []).Select(t => t.ToV1Taint())],
            StartupTaints = [.. (nodePool.Spec.Template.Spec.StartupTaints ?? []).Select(t => t.ToV1Taint())],
            Limits = nodePool.Spec.Limits is { Count: > 0 } limits ? Resources.FromList(limits) : null,
            Usage = usage,
            InstanceTypes = instanceTypes,
        };
    }
}

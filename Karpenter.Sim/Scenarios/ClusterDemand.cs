using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Provisioning;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Kube.Client;
using Karpenter.Sim.Cluster;
using Karpenter.Sim.World;
using Microsoft.Extensions.DependencyInjection;

namespace Karpenter.Sim.Scenarios;

/// <summary>
/// What a from-scratch view of a world's demand needs right now: the pods running or pending (DaemonSet and static
/// pods excluded), the DaemonSets' pod templates, and each NodePool as the scheduler sees it with no usage yet, with
/// the instance types asked of the operator's own cloud provider (its catalog, prices and the offerings still
/// available). Shared by the lower bound and the fresh plan so that both price the same pods against the same pools.
/// </summary>
/// <param name="Pods">The workload pods (running or pending).</param>
/// <param name="DaemonSetPods">The DaemonSets' pod templates.</param>
/// <param name="NodePools">The NodePools that can launch, with zero usage (a fresh cluster's limits).</param>
/// <param name="Problem">Why no NodePool could be read (null when <paramref name="NodePools"/> is usable).</param>
internal sealed record ClusterDemand(IReadOnlyList<V1Pod> Pods, IReadOnlyList<V1Pod> DaemonSetPods, IReadOnlyList<SchedulingNodePool> NodePools, string? Problem)
{
    public static async Task<ClusterDemand> ReadAsync(SimulatedWorld world, ICloudProvider cloudProvider, CancellationToken cancellationToken)
    {
        var caches = world.ClusterServices.GetRequiredService<ClusterCaches>();
        var pods = world.Pods()
            .Where(p => p.Metadata.DeletionTimestamp is null && p.Status?.Phase is not ("Succeeded" or "Failed"))
            .Where(p => p.Metadata.OwnerReferences?.Any(o => o.Kind is "DaemonSet" or "Node") != true)
            .ToList();
        var daemonSetPods = caches.DaemonSets.List()
            .Where(d => d.Spec?.Template?.Spec is not null)
            .Select(d => new V1Pod { Metadata = d.Spec.Template.Metadata ?? new V1ObjectMeta(), Spec = d.Spec.Template.Spec })
            .ToList();

        KubeList<NodePool> nodePools;
        try
        {
            nodePools = await world.Client.ListAsync<NodePool>(cancellationToken: cancellationToken);
        }
        catch (KubeApiException e)
        {
            return new ClusterDemand(pods, daemonSetPods, [], $"the NodePools could not be listed: {e.Message}");
        }

        var pools = new List<SchedulingNodePool>();
        foreach (var nodePool in nodePools.Items.Where(n => n.Metadata.DeletionTimestamp is null && !n.IsStatic))
        {
            IReadOnlyList<InstanceType> types;
            try
            {
                types = await cloudProvider.GetInstanceTypesAsync(nodePool, cancellationToken);
            }
            catch (Exception e) when (e is KubeApiException or InvalidOperationException or HttpRequestException)
            {
                return new ClusterDemand(pods, daemonSetPods, [], $"the instance types of NodePool {nodePool.Metadata.Name} could not be read: {e.Message}");
            }

            if (SchedulingNodePoolAdapter.ToSchedulingNodePool(nodePool, types, default, out _) is { } pool)
            {
                pools.Add(pool);
            }
        }

        return new ClusterDemand(pods, daemonSetPods, pools, pools.Count == 0 ? "no NodePool offers instance types" : null);
    }
}

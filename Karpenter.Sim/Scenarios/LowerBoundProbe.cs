using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Provisioning;
using Karpenter.Core.Scheduling;
using Karpenter.Core.Scheduling.Bounds;
using Karpenter.Entities.V1;
using Karpenter.Kube.Client;
using Karpenter.Sim.Cluster;
using Karpenter.Sim.World;
using Microsoft.Extensions.DependencyInjection;

namespace Karpenter.Sim.Scenarios;

/// <summary>The lower bound of the hourly cost of the pods at one moment (see <see cref="LowerBoundProbe"/>).</summary>
/// <param name="PerHour">The bound in USD per hour (the configuration LP's, never below the covering LP's), or null when it could not be computed (see <paramref name="Status"/>).</param>
/// <param name="Pods">The pods the bound places (running or pending, DaemonSet pods excluded).</param>
/// <param name="Status">OPTIMAL, or why there is no bound (no NodePool can launch, pods that fit no instance type).</param>
public sealed record BoundEstimate(double? PerHour, int Pods, string Status);

/// <summary>
/// The cost lower bound of a world's pods right now: <see cref="CostLowerBound"/> (the configuration LP of whole-pod
/// node fills, Farley-bounded so that it stays valid when its work budget stops it, and never below the fractional
/// covering LP) over
/// the pods that are running or pending (DaemonSet pods excluded; their requests are charged to every node they
/// would run on instead), against the instance types each NodePool may launch, asked of the operator's own cloud
/// provider, so that the catalog, the prices (the AWS emulator's on-demand and spot prices), the offerings still
/// available (an insufficient-capacity window removes some) and each NodePool's requirements (capacity type,
/// instance category, …), taints and limits are those the operator launches from. Fractional nodes: any real
/// placement costs at least this much per hour.
/// </summary>
public sealed class LowerBoundProbe(SimulatedWorld world, ICloudProvider cloudProvider)
{
    /// <summary>What the bound assumes, for the reports.</summary>
    public const string Assumptions =
        "configuration LP (node-fill patterns of whole pods, fractional node counts; at least the covering LP) over the pods running or pending, DaemonSet pods excluded, against the instance types the NodePools allow " +
        "(requirements, taints, limits) with the cheapest offering still available (spot where allowed), allocatable minus DaemonSet overhead";

    /// <summary>The bound now.</summary>
    public async Task<BoundEstimate> EstimateAsync(CancellationToken cancellationToken)
    {
        var demand = await ClusterDemand.ReadAsync(world, cloudProvider, cancellationToken);
        var (pods, daemonSetPods, pools) = (demand.Pods, demand.DaemonSetPods, demand.NodePools);
        if (pods.Count == 0)
        {
            return new BoundEstimate(0, 0, "OPTIMAL");
        }

        if (demand.Problem is { } problem)
        {
            return new BoundEstimate(null, pods.Count, problem);
        }

        var bound = CostLowerBound.Compute(pods, pools, daemonSetPods);
        return new BoundEstimate(bound.Feasible ? bound.Configuration : null, pods.Count, bound.Status);
    }
}

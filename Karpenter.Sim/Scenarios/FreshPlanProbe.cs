using System.Globalization;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Scheduling;
using Karpenter.Sim.World;

namespace Karpenter.Sim.Scenarios;

/// <summary>
/// What a cluster built from scratch for the same pods would cost now (see <see cref="FreshPlanProbe"/>).
/// </summary>
/// <param name="PerHour">The plan's hourly price (each NodeClaim at its cheapest instance type and offering), or null when there is no plan.</param>
/// <param name="Pods">The pods planned for (running or pending, DaemonSet pods excluded).</param>
/// <param name="Buys">What the plan launches, e.g. <c>3 × t3a.xlarge spot, 1 × t3a.medium spot</c> (empty when nothing).</param>
/// <param name="Unplaced">Pods the plan could not place (its price then covers only the others).</param>
/// <param name="Problem">Why there is no plan (no NodePool can launch), or null.</param>
public sealed record FreshPlan(double? PerHour, int Pods, string Buys, int Unplaced, string? Problem);

/// <summary>
/// The "fresh plan" reference of a run: the operator's own <see cref="Scheduler"/> solving every pod running or pending
/// from scratch (no existing node, no in-flight NodeClaim, zero NodePool usage), against the same NodePools, catalog,
/// prices, offerings still available and DaemonSets as the operator sees now. Cost well above it means provisioning
/// and consolidation leave money on the table; the plan well above the lower bound means packing or the bound's looseness.
/// </summary>
public sealed class FreshPlanProbe(SimulatedWorld world, ICloudProvider cloudProvider)
{
    /// <summary>What the plan assumes, for the reports.</summary>
    public const string Assumptions =
        "the operator's scheduler solving the pods running or pending from scratch (no existing nodes, NodePool limits unused) against the same NodePools, " +
        "instance types, offerings still available and DaemonSets; each NodeClaim priced at its cheapest instance type and offering";

    // The scheduler's improvement step has a wall-clock safety net: on the accelerated clock it would be a few
    // milliseconds of real time and cut the plan short, so the plan is solved on the machine's clock.
    private readonly Scheduler _scheduler = new(TimeProvider.System);

    /// <summary>The plan now.</summary>
    public async Task<FreshPlan> PlanAsync(CancellationToken cancellationToken)
    {
        var demand = await ClusterDemand.ReadAsync(world, cloudProvider, cancellationToken);
        if (demand.Pods.Count == 0)
        {
            return new FreshPlan(0, 0, string.Empty, 0, null);
        }

        if (demand.Problem is { } problem)
        {
            return new FreshPlan(null, demand.Pods.Count, string.Empty, demand.Pods.Count, problem);
        }

        var result = _scheduler.Solve(
            new SchedulingInput { Pods = demand.Pods, NodePools = demand.NodePools, DaemonSetPods = demand.DaemonSetPods },
            cancellationToken);
        return new FreshPlan((double)result.Price, demand.Pods.Count, Describe(result.NewNodeClaims), result.PodErrors.Count, null);
    }

    /// <summary>"N × type capacity-type" per instance type and capacity type the plan launches, most first.</summary>
    internal static string Describe(IEnumerable<PlannedNodeClaim> claims) => string.Join(", ", claims
        .Select(c => (Type: c.InstanceTypes[0], Offering: c.InstanceTypes[0].CheapestOffering(c.Requirements)))
        .GroupBy(c => $"{c.Type.Name} {c.Offering?.CapacityType ?? "unavailable"}", StringComparer.Ordinal)
        .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
        .Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Count()} × {g.Key}")));
}

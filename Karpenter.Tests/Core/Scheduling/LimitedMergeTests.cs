using Karpenter.Core.CloudProvider;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.WellKnown;
using Karpenter.Sim.Aws;
using Karpenter.Sim.Aws.Catalog;
using static Karpenter.Tests.Core.Scheduling.SchedulingFixture;
using AwsWorld = Karpenter.Sim.Aws.World.AwsWorld;

namespace Karpenter.Tests.Core.Scheduling;

/// <summary>
/// The improvement step's merge under NodePool limits. A NodeClaim opened while an earlier one reserved most of the
/// limit (the largest instance type it could become) may only take small types; merging the two frees both
/// reservations, so the merged NodeClaim may take any type within their sum. The case is the spot scenario's peak
/// (examples/scenarios/spot-ice.yaml): 60 pods of 1 vCPU / 2 GiB, a spot NodePool of categories c/m/r, generation
/// above 4, cpu limit 200, where the fresh plan bought c6g.metal + c6g.2xlarge ($0.5927/h) for what one m7g.metal
/// ($0.5454/h) holds.
/// </summary>
public sealed class LimitedMergeTests
{
    private static readonly Lazy<IReadOnlyList<InstanceType>?> SpotCatalog = new(LoadSpotCatalog);

    /// <summary>
    /// The real catalog's types (Karpenter's allocatable) that the simulator's region offers, as spot at the
    /// simulator's own spot prices, in the zones it offers them (bare metal not in the third).
    /// </summary>
    private static List<InstanceType>? LoadSpotCatalog()
    {
        if (AwsCatalog.FindDataFile() is not { } path)
        {
            return null;
        }

        using var world = new AwsWorld(new AwsEmulatorOptions(), InstanceTypeCatalog.Embedded());
        var types = new List<InstanceType>();
        foreach (var type in AwsCatalog.Load(path))
        {
            if (world.Catalog.Find(type.Name) is not { } info)
            {
                continue;
            }

            var offerings = world.ZoneList.Where(z => world.IsOffered(info, z) && world.SpotPrice(type.Name, z.Name) is not null)
                .Select(z => new Offering(z.Name, CapacityTypes.Spot, (decimal)world.SpotPrice(type.Name, z.Name)!.Value)).ToList();
            var requirements = new Requirements(type.Requirements.Values.Select(r => r.Key switch
            {
                Labels.CapacityType => Requirement.In(Labels.CapacityType, CapacityTypes.Spot),
                Labels.TopologyZone => Requirement.In(Labels.TopologyZone, offerings.Select(o => o.Zone)),
                _ => r,
            }));
            if (offerings.Count > 0)
            {
                types.Add(new InstanceType(type.Name, requirements, offerings, type.Capacity, type.Overhead));
            }
        }

        return types;
    }

    private static SchedulingNodePool SpotPool(Resources? limits) => Pool(
        types: SpotCatalog.Value!,
        requirements: new Requirements(
            Requirement.In(Labels.CapacityType, CapacityTypes.Spot),
            Requirement.In(Labels.InstanceCategory, "c", "m", "r"),
            Requirement.Gt(Labels.InstanceGeneration, 4)),
        limits: limits);

    [SkippableFact]
    public void Two_NodeClaims_of_a_limited_NodePool_merge_into_one_cheaper_type_within_their_reservations()
    {
        Skip.If(SpotCatalog.Value is null, "../shared/data/aws/instance-types.json is not next to the repository");
        var pods = Enumerable.Range(0, 60).Select(_ => Pod("1", "2Gi")).ToList();
        var input = new SchedulingInput { Pods = pods, NodePools = [SpotPool(new Resources(200_000, 0))] };

        var result = Solve(input);

        ExpectAllScheduled(result);
        PlanChecker.ExpectValid(input, result);
        var claim = Assert.Single(result.NewNodeClaims);
        Assert.Equal("m7g.metal", claim.InstanceTypes[0].Name);
        Assert.Equal(0.5454m, result.Price);
    }

    [SkippableFact]
    public void The_merged_NodeClaim_never_lists_a_type_beyond_the_reservations_it_took_over()
    {
        Skip.If(SpotCatalog.Value is null, "../shared/data/aws/instance-types.json is not next to the repository");
        var pods = Enumerable.Range(0, 60).Select(_ => Pod("1", "2Gi")).ToList();
        var input = new SchedulingInput { Pods = pods, NodePools = [SpotPool(new Resources(72_000, 0))] };

        var result = Solve(input);

        // 72 vCPU: the first NodeClaim may become a 64-vCPU type and reserves it, the second gets 8.
        ExpectAllScheduled(result);
        PlanChecker.ExpectValid(input, result);
        Assert.All(result.NewNodeClaims, c => Assert.All(c.InstanceTypes, t => Assert.True(t.Capacity.CpuMilli <= 72_000, $"{t.Name} exceeds the limit")));
    }
}

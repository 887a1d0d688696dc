using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Scheduling;
using Karpenter.Core.Scheduling.Bounds;
using Karpenter.Entities.WellKnown;
using static Karpenter.Tests.Core.Scheduling.SchedulingFixture;

namespace Karpenter.Tests.Core.Scheduling;

/// <summary>
/// What the packing beyond greedy first fit (the improvement step and the LP-guided strategy) must keep: every
/// constraint the greedy plan honours, a price no higher than the greedy plan's, and a bound it is measured against
/// that is the true optimum of the covering LP.
/// </summary>
public sealed class PackingQualityTests
{
    private static readonly SchedulingOptions GreedyOnly = new() { ImprovementEffort = 0, LpGuidedPacking = false, PatternGuidedPacking = false };

    /// <summary>A CPU-heavy type (2 CPU, 2Gi) and a memory-heavy one (1 CPU, 8Gi), each $1/h, allocatable exactly that.</summary>
    private static IReadOnlyList<InstanceType> TwoShapes() =>
    [
        FakeInstanceTypes.Create("cpu-2", new Resources(2100, (2L << 30) + (10L << 20), 110), offerings: [new Offering(FakeInstanceTypes.Zones[0], CapacityTypes.OnDemand, 1m)]),
        FakeInstanceTypes.Create("mem-8", new Resources(1100, (8L << 30) + (10L << 20), 110), offerings: [new Offering(FakeInstanceTypes.Zones[0], CapacityTypes.OnDemand, 1m)]),
    ];

    [Fact]
    public void The_bound_of_a_hand_solved_case_is_its_LP_optimum_and_the_plan_reaches_it()
    {
        // Four 1 CPU / 1Gi pods: half a cpu-2 each ($0.5), a whole mem-8 each on the other type. Two 500m / 4Gi pods:
        // they fit only mem-8, half of it each ($0.5). LP optimum: 4 × 0.5 + 2 × 0.5 = $3. Pricing CPU and memory
        // apart would give only max(5 CPU at $0.5, 12Gi at $0.125) = $2.5; and two cpu-2 plus one mem-8 is an
        // integral plan at $3, so the bound is tight here and the scheduler must find it.
        var pods = Enumerable.Range(0, 4).Select(_ => Pod("1", "1Gi")).Concat(Enumerable.Range(0, 2).Select(_ => Pod("500m", "4Gi"))).ToList();
        var pool = Pool(types: TwoShapes());

        var bound = CostLowerBound.Compute(pods, [pool]);
        var result = Solve(pods, pool);

        Assert.Equal(3.0, bound.Lp, 9);
        Assert.Equal(2.5, bound.PerResource, 9);
        ExpectAllScheduled(result);
        Assert.Equal(3m, result.Price);
        Assert.Equal(2, result.NewNodeClaims.Count(c => c.InstanceTypes[0].Name == "cpu-2"));
        Assert.Equal(1, result.NewNodeClaims.Count(c => c.InstanceTypes[0].Name == "mem-8"));
    }

    [Fact]
    public void A_NodeClaim_costs_the_cheapest_offering_of_its_first_instance_type_the_basis_of_the_bound()
    {
        var random = new Random(11);
        var pods = Enumerable.Range(0, 300).Select(_ => Pod($"{random.Next(1, 16) * 100}m", $"{random.Next(1, 40) * 100}Mi")).ToList();
        var pool = Pool(types: FakeInstanceTypes.Synthetic(60));

        var result = Solve(pods, pool);

        ExpectAllScheduled(result);
        foreach (var claim in result.NewNodeClaims)
        {
            Assert.Equal(claim.InstanceTypes[0].CheapestOffering(claim.Requirements)!.Price, claim.Price);
            Assert.All(claim.InstanceTypes, t => Assert.True(t.CheapestOffering(claim.Requirements)!.Price >= claim.Price));
        }
    }

    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, 24)];

    /// <summary>
    /// Random small batches mixing every kind of constraint: the greedy plan and the plan after improvement (and LP
    /// guidance) both pass the independent checker; the improved one schedules as many pods and costs no more.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void Improving_a_random_constrained_plan_breaks_no_constraint_and_never_costs_more(int seed)
    {
        var random = new Random(seed);
        var types = random.Next(2) == 0 ? FakeInstanceTypes.Synthetic(24) : Mixed();
        var input = new SchedulingInput { Pods = RandomPods(random, random.Next(8, 60)), NodePools = [Pool(types: types)] };

        var greedy = Solve(new SchedulingInput { Pods = input.Pods, NodePools = input.NodePools, Options = GreedyOnly });
        var improved = Solve(input);

        PlanChecker.ExpectValid(input, greedy);
        PlanChecker.ExpectValid(input, improved);
        Assert.True(improved.PodErrors.Count <= greedy.PodErrors.Count, $"{improved.PodErrors.Count} unschedulable after improvement, {greedy.PodErrors.Count} before");
        Assert.True(improved.Price <= greedy.Price, $"improved {improved.Price} > greedy {greedy.Price}");
        Assert.Equal(greedy.Price, improved.GreedyPrice);
    }

    [Fact]
    public void A_guided_strategy_is_kept_only_when_it_is_cheaper_and_the_same_input_gives_the_same_plan()
    {
        var random = new Random(5);
        var pods = Enumerable.Range(0, 400).Select(_ => random.Next(2) == 0 ? Pod($"{random.Next(5, 16) * 100}m", "256Mi") : Pod("250m", $"{random.Next(2, 8)}Gi")).ToList();
        var pool = Pool(types: Mixed());
        var unguided = Solve(new SchedulingInput { Pods = pods, NodePools = [pool], Options = new SchedulingOptions { LpGuidedPacking = false, PatternGuidedPacking = false } });

        var first = Solve(pods, pool);
        var second = Solve(pods, pool);

        ExpectAllScheduled(first);
        Assert.True(first.Price <= unguided.Price);
        Assert.Equal(first.LpGuided || first.PatternGuided, first.Price < unguided.Price);
        Assert.False(first.LpGuided && first.PatternGuided);
        Assert.Equal(first.Price, second.Price);
        Assert.Equal(first.NewNodeClaims.Select(c => string.Join(",", c.Pods.Select(p => p.Metadata.Name))), second.NewNodeClaims.Select(c => string.Join(",", c.Pods.Select(p => p.Metadata.Name))));
    }

    /// <summary>CPU-heavy, balanced and memory-heavy types of several sizes, priced by upstream's linear rule.</summary>
    private static List<InstanceType> Mixed()
    {
        var types = new List<InstanceType>();
        foreach (var cpu in new[] { 1, 2, 4, 8 })
        {
            foreach (var gibPerCpu in new[] { 1, 4, 8 })
            {
                types.Add(FakeInstanceTypes.Create($"t{gibPerCpu}-{cpu}", new Resources(cpu * 1000L, (long)cpu * gibPerCpu << 30, 8L * cpu)));
            }
        }

        return types;
    }

    private static List<V1Pod> RandomPods(Random random, int count)
    {
        var pods = new List<V1Pod>();
        for (var i = 0; i < count; i++)
        {
            var cpu = $"{random.Next(1, 16) * 100}m";
            var memory = $"{random.Next(1, 32) * 128}Mi";
            var app = new Dictionary<string, string> { ["app"] = $"a{random.Next(3)}" };
            pods.Add(random.Next(8) switch
            {
                0 => Pod(cpu, memory, app, s => s.TopologySpreadConstraints =
                    [new V1TopologySpreadConstraint { MaxSkew = 1, TopologyKey = Zone, WhenUnsatisfiable = "DoNotSchedule", LabelSelector = new V1LabelSelector { MatchLabels = app } }]),
                1 => Pod(cpu, memory, app, s => s.TopologySpreadConstraints =
                    [new V1TopologySpreadConstraint { MaxSkew = 1, TopologyKey = Hostname, WhenUnsatisfiable = "DoNotSchedule", LabelSelector = new V1LabelSelector { MatchLabels = app } }]),
                2 => Pod(cpu, memory, app, s => s.Affinity = new V1Affinity { PodAntiAffinity = new V1PodAntiAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term(Hostname, app)] } }),
                3 => Pod(cpu, memory, app, s => s.Affinity = new V1Affinity { PodAffinity = new V1PodAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term(Zone, app)] } }),
                4 => Pod(cpu, memory, spec: s => s.NodeSelector = new Dictionary<string, string> { [Zone] = FakeInstanceTypes.Zones[random.Next(3)] }),
                5 => Pod(cpu, memory, spec: s => s.Containers[0].Ports = [new V1ContainerPort { ContainerPort = 80, HostPort = 8000 + random.Next(2) }]),
                _ => Pod(cpu, memory),
            });
        }

        return pods;
    }
}

using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Scheduling;
using Karpenter.Core.Scheduling.Bounds;
using Karpenter.Entities.WellKnown;
using Karpenter.Tests.Support;
using static Karpenter.Tests.Core.Scheduling.SchedulingFixture;

namespace Karpenter.Tests.Core.Scheduling;

/// <summary>
/// The configuration-LP bound (column generation over node-fill patterns): never above the cheapest integral
/// placement (found here by brute force on tiny instances), never below the covering LP, exact on a cutting-stock
/// example, and still valid when its work budget stops it early.
/// </summary>
public sealed class ConfigurationBoundTests
{
    private static InstanceType Type(string name, long cpuMilli, long memMi, decimal price, long pods = 110) =>
        FakeInstanceTypes.Create(name, new Resources(cpuMilli + 100, (memMi + 10) << 20, pods), offerings: [new Offering(FakeInstanceTypes.Zones[0], CapacityTypes.OnDemand, price)]);

    private static V1Pod Exclusive(string cpu, string memory, string app) => Pod(cpu, memory, new Dictionary<string, string> { ["app"] = app }, s => s.Affinity = new V1Affinity
    {
        PodAntiAffinity = new V1PodAntiAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term(Hostname, new Dictionary<string, string> { ["app"] = app })] },
    });

    [Fact]
    public void On_a_one_type_cutting_stock_example_it_is_the_known_optimum_where_the_covering_LP_is_not()
    {
        // Bins of 10 CPU at $1; three pods of 4 CPU and two of 3 CPU. The covering LP buys 18/10 of a bin ($1.8). Whole
        // pods: {4,4} and {4,3,3} fill two bins, and no pattern holds more than 10, so the configuration LP needs
        // λ{4,4}·2 + λ{4,3,3} ≥ 3 and 2·λ{4,3,3} (or 2·λ{3,3}) ≥ 2: its optimum is 2, the integral optimum.
        var pods = Enumerable.Range(0, 3).Select(_ => Pod("4", "1Mi")).Concat(Enumerable.Range(0, 2).Select(_ => Pod("3", "1Mi"))).ToList();
        var pool = Pool(types: [Type("ten", 10_000, 1000, 1m)]);

        var bound = CostLowerBound.Compute(pods, [pool]);

        Assert.Equal(1.8, bound.Lp, 9);
        Assert.Equal(2.0, bound.Configuration, 6);
        Assert.Equal(2.0, bound.ConfigurationMaster, 6);
        Assert.StartsWith("converged", bound.ConfigurationStatus, StringComparison.Ordinal);
    }

    [Fact]
    public void Whole_pods_on_tiny_nodes_raise_the_bound_to_the_optimum()
    {
        // A 2-CPU node at $1 holds three 600m pods (1.8 CPU), not 3.33 of them: ten pods need four nodes, and the
        // configuration LP sees 10/3 nodes ($3.33) where the covering LP sees 6 CPU of 2 ($3).
        var pods = Enumerable.Range(0, 10).Select(_ => Pod("600m", "100Mi")).ToList();
        var pool = Pool(types: [Type("small", 2000, 4000, 1m)]);

        var bound = CostLowerBound.Compute(pods, [pool]);

        Assert.Equal(3.0, bound.Lp, 9);
        Assert.Equal(10.0 / 3, bound.Configuration, 6);
    }

    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, 30)];

    /// <summary>
    /// Random tiny instances (two or three instance types, up to three kinds of pods, a few of each, sometimes with
    /// hostname anti-affinity): the covering LP ≤ the configuration bound ≤ the cheapest placement, which a dynamic
    /// program over the pods still to place finds exactly; and a one-round budget still gives a bound no higher.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void Between_the_covering_LP_and_the_brute_force_optimum_even_when_stopped_early(int seed)
    {
        var random = new Random(seed);
        var types = Enumerable.Range(0, random.Next(2, 4))
            .Select(t => Type($"t{t}", random.Next(1, 9) * 500, random.Next(1, 9) * 512, random.Next(1, 20) / 4m, random.Next(2, 8)))
            .ToList();
        var kinds = Enumerable.Range(0, random.Next(1, 4))
            .Select(k => (Cpu: random.Next(1, 7) * 250, Mem: random.Next(1, 9) * 256, Count: random.Next(1, 4), Exclusive: random.Next(4) == 0))
            .ToList();
        var pods = kinds.SelectMany((k, i) => Enumerable.Range(0, k.Count)
            .Select(_ => k.Exclusive ? Exclusive($"{k.Cpu}m", $"{k.Mem}Mi", $"app{i}") : Pod($"{k.Cpu}m", $"{k.Mem}Mi"))).ToList();
        var pool = Pool(types: types);

        var optimum = new ExactPacking(types, t => (double)t.Offerings.Min(o => o.Price), [.. kinds.Select(k => (k.Cpu, k.Mem, k.Exclusive))])
            .Cheapest([.. kinds.Select(k => k.Count)]);
        var bound = CostLowerBound.Compute(pods, [pool]);
        var early = CostLowerBound.Compute(pods, [pool], null, new ConfigurationBudget { MaxIterations = 1, TypesPerIteration = 1, KnapsackNodes = 2 });

        if (double.IsPositiveInfinity(optimum))
        {
            Assert.False(bound.Feasible);
            return;
        }

        Assert.True(bound.Feasible, bound.Status);
        Assert.True(bound.Configuration >= bound.Lp - 1e-9, $"configuration {bound.Configuration} < covering LP {bound.Lp}");
        Assert.True(bound.Configuration <= optimum + 1e-6, $"configuration {bound.Configuration} > optimum {optimum}");
        Assert.True(early.Configuration <= bound.ConfigurationMaster + 1e-6, $"early {early.Configuration} > master {bound.ConfigurationMaster}");
        Assert.True(early.Configuration <= optimum + 1e-6, $"early {early.Configuration} > optimum {optimum}");
        Assert.True(early.Configuration >= early.Lp - 1e-9);
    }

    [Fact]
    public void A_budget_of_one_round_gives_a_valid_bound_below_the_converged_one_on_a_realistic_mix()
    {
        var random = new Random(5);
        var pods = Enumerable.Range(0, 300).Select(_ => Pod($"{random.Next(1, 6) * 300}m", $"{random.Next(1, 8) * 500}Mi")).ToList();
        var pool = Pool(types: FakeInstanceTypes.Synthetic(40));

        var full = CostLowerBound.Compute(pods, [pool]);
        var early = CostLowerBound.Compute(pods, [pool], null, new ConfigurationBudget { MaxIterations = 1 });
        var result = Solve(pods, pool);

        Assert.True(early.Configuration <= full.ConfigurationMaster + 1e-6);
        Assert.True(full.Configuration <= full.ConfigurationMaster + 1e-6);
        Assert.True(full.Configuration <= (double)result.Price + 1e-9);
        Assert.True(full.Configuration >= full.Lp - 1e-9);
    }
}

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
/// The cost lower bounds with hard topology spread over zones: per-zone columns priced at each zone's offerings, and
/// a spread group forced to hold at least ⌈(n − (Z−1)·s)/Z⌉ pods in every zone. Checked against the cheapest placement
/// that keeps the skew (enumerated), against the bound that ignores spread, and against the scheduler's own plan.
/// </summary>
public sealed class ZoneSpreadBoundTests
{
    private static readonly IReadOnlyList<string> Zones = FakeInstanceTypes.Zones;

    /// <summary>An instance type with <paramref name="cpuMilli"/> and <paramref name="memMi"/> allocatable, priced per zone.</summary>
    private static InstanceType Type(string name, long cpuMilli, long memMi, IReadOnlyList<decimal> zonePrices, long pods = 110) =>
        FakeInstanceTypes.Create(name, new Resources(cpuMilli + 100, (memMi + 10) << 20, pods),
            offerings: [.. zonePrices.Select((price, z) => new Offering(Zones[z], CapacityTypes.OnDemand, price))]);

    private static V1Pod Spread(string cpu, string memory, string app, int maxSkew = 1, Action<V1TopologySpreadConstraint>? edit = null)
    {
        var labels = new Dictionary<string, string> { ["app"] = app };
        return Pod(cpu, memory, labels, s =>
        {
            var c = new V1TopologySpreadConstraint
            {
                MaxSkew = maxSkew,
                TopologyKey = Zone,
                WhenUnsatisfiable = "DoNotSchedule",
                LabelSelector = new V1LabelSelector { MatchLabels = labels },
            };
            edit?.Invoke(c);
            s.TopologySpreadConstraints = [c];
        });
    }

    /// <summary>The same pods with no topology spread: what the bound was before it knew about zones.</summary>
    private static List<V1Pod> WithoutSpread(IEnumerable<V1Pod> pods) =>
        [.. pods.Select(p => Pod(p.Spec.Containers[0].Resources.Requests["cpu"].ToString(), p.Spec.Containers[0].Resources.Requests["memory"].ToString(), new Dictionary<string, string>(p.Metadata.Labels)))];

    private static void ExpectBound(double expected, double actual, string what) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-6, $"{what}: expected {expected}, got {actual}");

    [Fact]
    public void Spread_pods_pay_every_zones_price_where_the_old_bound_put_them_all_in_the_cheapest_zone()
    {
        // One node holds two 1-CPU pods; zone 1 charges $1, zones 2 and 3 $2. Six pods with maxSkew 1 over three zones
        // go two per zone: $1 + $2 + $2. Ignoring the spread, three nodes in zone 1 would do ($3).
        var types = new[] { Type("two", 2000, 4000, [1m, 2m, 2m]) };
        var pods = Enumerable.Range(0, 6).Select(_ => Spread("1", "1Gi", "web")).ToList();
        var pool = Pool(types: types);

        var bound = CostLowerBound.Compute(pods, [pool]);
        var old = CostLowerBound.Compute(WithoutSpread(pods), [pool]);
        var plan = Solve(pods, pool);

        ExpectBound(5.0, BruteForce(types, [(1000, 1024, 6, 1)], Zones.Count), "brute force");
        ExpectBound(5.0, bound.Lp, "covering LP");
        ExpectBound(5.0, bound.Configuration, "configuration LP");
        ExpectBound(3.0, old.Lp, "the bound ignoring spread");
        Assert.True(bound.Lp > old.Lp + 1);
        ExpectAllScheduled(plan);
        Assert.True(bound.Configuration <= (double)plan.Price + 1e-9, $"bound {bound.Configuration} > plan {plan.Price}");
        Assert.Contains(bound.Solution, s => s.InstanceType == $"two/{Zones[2]}");
    }

    [Fact]
    public void A_zone_that_must_hold_three_pods_two_to_a_node_pays_for_whole_nodes()
    {
        // Nine pods over three zones with maxSkew 1: three in every zone. A "two" node ($1) holds two, a "one" node
        // ($0.6) one. Fractional nodes would put each zone's three on 1.5 "two" nodes ($1.5); whole nodes cost at least
        // two per zone: one of each ($1.6). Ignoring the spread, four "two" and one "one" hold the nine ($4.6; the
        // covering LP: $4.5).
        var types = new[] { Type("two", 2000, 4000, [1m, 1m, 1m]), Type("one", 1000, 2000, [0.6m, 0.6m, 0.6m]) };
        var pods = Enumerable.Range(0, 9).Select(_ => Spread("1", "1Gi", "web")).ToList();
        var pool = Pool(types: types);

        var bound = CostLowerBound.Compute(pods, [pool]);
        var old = CostLowerBound.Compute(WithoutSpread(pods), [pool]);

        ExpectBound(4.8, BruteForce(types, [(1000, 1024, 9, 1)], Zones.Count), "brute force");
        ExpectBound(4.8, bound.Lp, "covering LP");
        ExpectBound(4.8, bound.Configuration, "configuration bound");
        ExpectBound(4.5, old.Lp, "the bound ignoring spread");
        ExpectBound(4.6, BruteForce(types, [(1000, 1024, 9, 9)], Zones.Count), "brute force ignoring spread");
    }

    [Fact]
    public void A_skew_larger_than_the_surplus_forces_nothing_beyond_the_per_zone_minimum()
    {
        // Four pods, maxSkew 2, three zones: a valid placement may leave a zone empty (2, 2, 0: $1 + $2), so
        // m = ⌈(4 − 4)/3⌉ = 0 and the bound puts the pods in the cheapest zone: two nodes at $1. With maxSkew 1,
        // m = ⌈(4 − 2)/3⌉ = 1 in every zone.
        var types = new[] { Type("two", 2000, 4000, [1m, 2m, 2m]) };
        var pool = Pool(types: types);
        var loose = Enumerable.Range(0, 4).Select(_ => Spread("1", "1Gi", "web", maxSkew: 2)).ToList();
        var tight = Enumerable.Range(0, 4).Select(_ => Spread("1", "1Gi", "web", maxSkew: 1)).ToList();

        ExpectBound(2.0, CostLowerBound.Compute(loose, [pool]).Lp, "maxSkew 2");
        ExpectBound(3.0, BruteForce(types, [(1000, 1024, 4, 2)], Zones.Count), "brute force, maxSkew 2");

        // Tight: 1 pod in zones 2 and 3 (a whole node at $2 each: fractional nodes would buy half of one), the other
        // two anywhere (zone 1, one node at $1).
        var bound = CostLowerBound.Compute(tight, [pool]);
        ExpectBound(5.0, bound.Lp, "covering LP, maxSkew 1");
        ExpectBound(5.0, bound.Configuration, "configuration LP, maxSkew 1");
        ExpectBound(5.0, BruteForce(types, [(1000, 1024, 4, 1)], Zones.Count), "brute force, maxSkew 1");
    }

    [Fact]
    public void A_pod_with_zonal_node_affinity_pays_its_zones_price_once_zones_are_priced()
    {
        var types = new[] { Type("two", 2000, 4000, [1m, 2m, 3m]) };
        var pool = Pool(types: types);
        var pinned = Pod("2", "1Gi", spec: s => s.NodeSelector = new Dictionary<string, string> { [Zone] = Zones[2] });

        // Alone, the columns are per type at the cheapest zone: the bound charges zone 1's $1.
        ExpectBound(1.0, CostLowerBound.Compute([pinned], [pool]).Lp, "without zone columns");

        // With a spread workload the columns are per zone: the pinned pod pays zone 3's $3.
        var bound = CostLowerBound.Compute([pinned, .. Enumerable.Range(0, 3).Select(_ => Spread("2", "1Gi", "web"))], [pool]);
        ExpectBound(3.0 + 1 + 2 + 3, bound.Lp, "with zone columns");
    }

    [Fact]
    public void Owners_held_to_two_zones_by_node_affinity_spread_over_those_two()
    {
        // Six pods that may only run in zones 2 and 3 ($2 a node of two pods): with maxSkew 1 the scheduler counts the
        // skew over those two zones, so three go to each, on two nodes per zone ($8), where four pods in one zone and two
        // in the other would do with three nodes ($6).
        var pool = Pool(types: [Type("two", 2000, 4000, [1m, 2m, 2m])]);
        var pods = Enumerable.Range(0, 6).Select(_ =>
        {
            var pod = Spread("1", "1Gi", "web");
            pod.Spec.Affinity = new V1Affinity
            {
                NodeAffinity = new V1NodeAffinity
                {
                    RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector { NodeSelectorTerms = [new V1NodeSelectorTerm { MatchExpressions = [Expr(Zone, "In", Zones[1], Zones[2])] }] },
                },
            };
            return pod;
        }).ToList();

        var bound = CostLowerBound.Compute(pods, [pool]);
        var plan = Solve(pods, pool);

        ExpectBound(8.0, bound.Lp, "covering LP");
        ExpectAllScheduled(plan);
        Assert.True(bound.Configuration <= (double)plan.Price + 1e-9, $"bound {bound.Configuration} > plan {plan.Price}");
        Assert.DoesNotContain(bound.Solution, s => s.InstanceType.EndsWith(Zones[0], StringComparison.Ordinal));
    }

    [Fact]
    public void Owners_with_different_node_selectors_leave_the_bound_as_it_was()
    {
        // The scheduler keeps a topology group per node filter (which nodes' pods count): three pods selecting amd64 and
        // three with no selector own two groups. The bound does not reason about several filters, so it forces nothing.
        var pool = Pool(types: [Type("two", 2000, 4000, [1m, 2m, 2m])]);
        var pods = Enumerable.Range(0, 6).Select(i =>
        {
            var pod = Spread("1", "1Gi", "web");
            pod.Spec.NodeSelector = i < 3 ? new Dictionary<string, string> { [Labels.Arch] = "amd64" } : null;
            return pod;
        }).ToList();

        ExpectBound(3.0, CostLowerBound.Compute(pods, [pool]).Lp, "covering LP");
    }

    [Fact]
    public void MinDomains_leaves_the_bound_as_it_was()
    {
        var pool = Pool(types: [Type("two", 2000, 4000, [1m, 2m, 2m])]);
        var pods = Enumerable.Range(0, 6).Select(_ => Spread("1", "1Gi", "web", edit: c => c.MinDomains = 3)).ToList();

        var bound = CostLowerBound.Compute(pods, [pool]);

        ExpectBound(3.0, bound.Lp, "covering LP");
        ExpectBound(3.0, bound.Configuration, "configuration LP");
    }

    [Fact]
    public void A_selector_that_also_counts_a_pod_without_the_constraint_leaves_the_bound_as_it_was()
    {
        var pool = Pool(types: [Type("two", 2000, 4000, [1m, 2m, 2m])]);
        var pods = Enumerable.Range(0, 6).Select(_ => Spread("1", "1Gi", "web")).ToList();
        var stray = Pod("1", "1Gi", new Dictionary<string, string> { ["app"] = "web" });

        var bound = CostLowerBound.Compute([.. pods, stray], [pool]);
        var sound = CostLowerBound.Compute([.. pods, Pod("1", "1Gi", new Dictionary<string, string> { ["app"] = "other" })], [pool]);

        ExpectBound(3.5, bound.Lp, "with a stray pod the selector counts");
        ExpectBound(5.5, sound.Lp, "with an unrelated pod");
    }

    [Fact]
    public void Node_affinity_policy_Ignore_and_a_second_zone_constraint_leave_the_bound_as_it_was()
    {
        var pool = Pool(types: [Type("two", 2000, 4000, [1m, 2m, 2m])]);
        var ignore = Enumerable.Range(0, 6).Select(_ => Spread("1", "1Gi", "web", edit: c => c.NodeAffinityPolicy = "Ignore")).ToList();
        var twice = Enumerable.Range(0, 6).Select(_ => Spread("1", "1Gi", "web")).ToList();
        foreach (var pod in twice)
        {
            pod.Spec.TopologySpreadConstraints.Add(new V1TopologySpreadConstraint
            {
                MaxSkew = 1,
                TopologyKey = Zone,
                WhenUnsatisfiable = "DoNotSchedule",
                LabelSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["tier"] = "front" } },
            });
        }

        ExpectBound(3.0, CostLowerBound.Compute(ignore, [pool]).Lp, "nodeAffinityPolicy Ignore");
        ExpectBound(3.0, CostLowerBound.Compute(twice, [pool]).Lp, "two zone spread constraints");
    }

    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, 24)];

    /// <summary>
    /// Random tiny instances: two or three zones, two to four instance types priced per zone (the same in every zone
    /// for odd seeds), a spread group and up to two kinds of free pods. Both bounds are at most the cheapest placement
    /// that keeps the skew (enumerated) and the scheduler's plan, and at least the bound that ignores spread, which
    /// they equal with zone-independent prices when the skew forces no pod into a zone.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void Never_above_the_cheapest_placement_that_keeps_the_skew(int seed)
    {
        var random = new Random(seed);
        var zones = random.Next(2, 4);
        var uniform = seed % 2 == 1;
        var types = Enumerable.Range(0, random.Next(2, 5)).Select(t =>
        {
            var basePrice = random.Next(2, 20) / 4m;
            return Type($"t{t}", random.Next(1, 9) * 500, random.Next(1, 9) * 512,
                [.. Enumerable.Range(0, zones).Select(_ => uniform ? basePrice : basePrice * random.Next(4, 9) / 4)], random.Next(2, 8));
        }).ToList();
        var kinds = new List<(int Cpu, int Mem, int Count, int Skew)> { (random.Next(1, 7) * 250, random.Next(1, 9) * 256, random.Next(2, 7), random.Next(1, 3)) };
        kinds.AddRange(Enumerable.Range(0, random.Next(0, 3)).Select(_ => (random.Next(1, 7) * 250, random.Next(1, 9) * 256, random.Next(1, 4), 0)));
        var pods = kinds.SelectMany((k, i) => Enumerable.Range(0, k.Count).Select(_ => k.Skew > 0
            ? Spread($"{k.Cpu}m", $"{k.Mem}Mi", "spread", k.Skew)
            : Pod($"{k.Cpu}m", $"{k.Mem}Mi", new Dictionary<string, string> { ["app"] = $"free{i}" }))).ToList();
        var pool = Pool(types: types);

        var optimum = BruteForce(types, kinds, zones);
        var bound = CostLowerBound.Compute(pods, [pool]);
        var old = CostLowerBound.Compute(WithoutSpread(pods), [pool]);
        if (double.IsPositiveInfinity(optimum))
        {
            Assert.False(bound.Feasible);
            return;
        }

        Assert.True(bound.Feasible, bound.Status);
        Assert.True(bound.Lp <= optimum + 1e-6, $"covering LP {bound.Lp} > optimum {optimum}");
        Assert.True(bound.Configuration <= optimum + 1e-6, $"configuration {bound.Configuration} > optimum {optimum}");
        Assert.True(bound.Lp >= old.Lp - 1e-6, $"covering LP {bound.Lp} < the bound ignoring spread {old.Lp}");
        var spread = kinds[0];
        if (uniform && spread.Count <= (zones - 1) * spread.Skew)
        {
            // Nothing forced into a zone, and a fractional node costs the same in every zone.
            ExpectBound(old.Lp, bound.Lp, "zone-independent prices, nothing forced");
        }

        var plan = Solve(pods, pool);
        if (plan.PodErrors.Count == 0)
        {
            Assert.True(bound.Configuration <= (double)plan.Price + 1e-6, $"configuration {bound.Configuration} > the scheduler's plan {plan.Price}");
        }
    }

    /// <summary>
    /// The cheapest placement over <paramref name="zones"/> zones: every split of each kind's pods over the zones (the
    /// spread kind's, Skew > 0, within its skew), each zone packed exactly (<see cref="ExactPacking"/>).
    /// </summary>
    private static double BruteForce(IReadOnlyList<InstanceType> types, List<(int Cpu, int Mem, int Count, int Skew)> kinds, int zones)
    {
        var packers = Enumerable.Range(0, zones)
            .Select(z => new ExactPacking(types, t => (double)t.Offerings.Single(o => o.Zone == Zones[z]).Price, [.. kinds.Select(k => (k.Cpu, k.Mem, false))]))
            .ToArray();

        static IEnumerable<int[]> Splits(int n, int parts)
        {
            if (parts == 1)
            {
                yield return [n];
                yield break;
            }

            for (var k = 0; k <= n; k++)
            {
                foreach (var rest in Splits(n - k, parts - 1))
                {
                    yield return [k, .. rest];
                }
            }
        }

        // Every kind's split over the zones, one kind after the other; then each zone's packing.
        var best = double.PositiveInfinity;
        void Place(int kind, int[][] perZone)
        {
            if (kind == kinds.Count)
            {
                best = Math.Min(best, Enumerable.Range(0, zones).Sum(z => packers[z].Cheapest(perZone[z])));
                return;
            }

            foreach (var split in Splits(kinds[kind].Count, zones))
            {
                if (kinds[kind].Skew > 0 && split.Max() - split.Min() > kinds[kind].Skew)
                {
                    continue;
                }

                for (var z = 0; z < zones; z++)
                {
                    perZone[z][kind] = split[z];
                }

                Place(kind + 1, perZone);
            }
        }

        Place(0, [.. Enumerable.Range(0, zones).Select(_ => new int[kinds.Count])]);
        return best;
    }
}

using k8s.Models;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Scheduling;
using Karpenter.Core.Scheduling.Bounds;
using static Karpenter.Tests.Core.Scheduling.SchedulingFixture;

namespace Karpenter.Tests.Core.Scheduling;

public sealed class CostLowerBoundTests
{
    [Fact]
    public void On_the_linear_synthetic_catalog_the_bound_is_the_binding_resource_at_the_cheapest_rate()
    {
        // 40 pods of 1 CPU / 1Gi: CPU binds. The cheapest CPU is on the largest type: 400 vCPU with 399.9 allocatable.
        var pods = Enumerable.Range(0, 40).Select(_ => Pod("1", "1Gi")).ToList();
        var types = FakeInstanceTypes.Synthetic(400);
        var largest = types[^1];
        var expected = 40 * (double)FakeInstanceTypes.PriceFromResources(largest.Capacity) / 399.9;

        var bound = CostLowerBound.Compute(pods, [Pool(types: types)]);

        Assert.True(bound.Feasible);
        Assert.Equal(expected, bound.Lp, 6);
    }

    [Fact]
    public void Hostname_anti_affinity_forces_one_node_per_pod_into_the_bound()
    {
        var labels = new Dictionary<string, string> { ["app"] = "web" };
        var pods = Enumerable.Range(0, 10).Select(_ => Pod("100m", "100Mi", labels, s => s.Affinity = new V1Affinity
        {
            PodAntiAffinity = new V1PodAntiAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term(Hostname, labels)] },
        })).ToList();
        var types = FakeInstanceTypes.Synthetic(400);

        var bound = CostLowerBound.Compute(pods, [Pool(types: types)]);

        Assert.Equal(10 * (double)FakeInstanceTypes.PriceFromResources(types[0].Capacity), bound.Lp, 6);
        var (type, nodes, _) = Assert.Single(bound.Solution);
        Assert.Equal(types[0].Name, type);
        Assert.Equal(10, nodes, 6);
    }

    [Fact]
    public void The_bound_never_exceeds_what_the_scheduler_pays_and_reports_pods_that_fit_nowhere()
    {
        var random = new Random(3);
        var pods = Enumerable.Range(0, 200).Select(_ => Pod($"{random.Next(1, 16) * 100}m", $"{random.Next(1, 40) * 100}Mi")).ToList();
        var pool = Pool(types: FakeInstanceTypes.Synthetic(400));

        var bound = CostLowerBound.Compute(pods, [pool], null, new ConfigurationBudget { MaxIterations = 4 });
        var result = Solve(pods, pool);
        var infeasible = CostLowerBound.Compute([Pod("1000", "1Gi")], [pool]);

        Assert.True(bound.Lp <= (double)result.Price + 1e-9);
        Assert.True(bound.Configuration <= (double)result.Price + 1e-9);
        Assert.True(bound.Lp >= bound.PerResource - 1e-9);
        Assert.False(infeasible.Feasible);
    }
}

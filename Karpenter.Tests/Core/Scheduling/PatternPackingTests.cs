using Karpenter.Benchmarks.Scheduling;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Scheduling;
using Karpenter.Core.Scheduling.Bounds;
using static Karpenter.Tests.Core.Scheduling.SchedulingFixture;

namespace Karpenter.Tests.Core.Scheduling;

/// <summary>
/// The pattern-guided packing (the configuration LP's node-fill patterns, rounded down, opened before the greedy
/// pass): kept only when cheaper, every constraint still checked, never below the configuration bound.
/// </summary>
public sealed class PatternPackingTests
{
    private static readonly Lazy<IReadOnlyList<InstanceType>?> RealCatalog = new(() => AwsCatalog.FindDataFile() is { } path ? AwsCatalog.Load(path) : null);

    [SkippableFact]
    public void On_the_real_catalog_whole_pod_patterns_beat_greedy_and_the_plan_stays_valid_and_above_the_bound()
    {
        Skip.If(RealCatalog.Value is null, "../shared/data/aws/instance-types.json is not next to the repository");
        var pool = new SchedulingNodePool { Name = "default", InstanceTypes = RealCatalog.Value! };
        var pods = new Workloads().Generic(500);
        var input = new SchedulingInput { Pods = pods, NodePools = [pool] };
        var withoutPatterns = Solve(new SchedulingInput { Pods = pods, NodePools = [pool], Options = new SchedulingOptions { PatternGuidedPacking = false } });

        var result = Solve(input);
        var bound = CostLowerBound.Compute(pods, [pool]);

        ExpectAllScheduled(result);
        PlanChecker.ExpectValid(input, result);
        Assert.True(result.PatternGuided);
        Assert.True(result.Price < withoutPatterns.Price, $"patterned {result.Price} is not below {withoutPatterns.Price}");
        Assert.True((double)result.Price >= bound.Configuration - 1e-9, $"{result.Price} is below the configuration bound {bound.Configuration}");
    }

    [Fact]
    public void Patterns_respect_hostname_anti_affinity_and_the_same_input_gives_the_same_plan()
    {
        var labels = new Dictionary<string, string> { ["app"] = "db" };
        var random = new Random(7);
        var pods = Enumerable.Range(0, 40).Select(i => i % 4 == 0
            ? Pod("500m", "1Gi", labels, s => s.Affinity = new k8s.Models.V1Affinity
            {
                PodAntiAffinity = new k8s.Models.V1PodAntiAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term(Hostname, labels)] },
            })
            : Pod($"{random.Next(1, 8) * 250}m", $"{random.Next(1, 8) * 512}Mi")).ToList();
        var input = new SchedulingInput { Pods = pods, NodePools = [Pool(types: FakeInstanceTypes.Synthetic(24))] };

        var first = Solve(input);
        var second = Solve(input);

        ExpectAllScheduled(first);
        PlanChecker.ExpectValid(input, first);
        Assert.All(first.NewNodeClaims, c => Assert.True(c.Pods.Count(p => p.Metadata.Labels?.ContainsKey("app") == true) <= 1));
        Assert.Equal(first.Price, second.Price);
        Assert.Equal(first.NewNodeClaims.Select(c => string.Join(",", c.Pods.Select(p => p.Metadata.Name))), second.NewNodeClaims.Select(c => string.Join(",", c.Pods.Select(p => p.Metadata.Name))));
    }
}

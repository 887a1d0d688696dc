using k8s.Models;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Scheduling;
using static Karpenter.Tests.Core.Scheduling.SchedulingFixture;

namespace Karpenter.Tests.Core.Scheduling;

public sealed class SchedulerTests
{
    [Fact]
    public void Small_pods_share_one_NodeClaim_that_lists_every_fitting_instance_type_cheapest_first()
    {
        var pods = Enumerable.Range(0, 3).Select(_ => Pod("500m", "512Mi")).ToList();

        var result = Solve(pods);

        ExpectAllScheduled(result);
        var claim = Assert.Single(result.NewNodeClaims);
        Assert.Equal(3, claim.Pods.Count);
        Assert.Equal("fake-it-1", claim.InstanceTypes[0].Name); // 2 vCPU: 1.5 CPU of pods plus 100m reserved
        Assert.Equal(claim.InstanceTypes.OrderBy(t => FakeInstanceTypes.PriceFromResources(t.Capacity)).Select(t => t.Name), claim.InstanceTypes.Select(t => t.Name));
        Assert.Equal(claim.InstanceTypes.Count, claim.Requirements.Get("node.kubernetes.io/instance-type").Values.Count);
        Assert.Equal(["on-demand", "spot"], claim.Requirements.Get("karpenter.sh/capacity-type").Values);
        Assert.Equal("default", Single(claim, "karpenter.sh/nodepool"));
        Assert.Equal(claim.InstanceTypes[0].Offerings[0].Price, claim.Price);
    }

    [Fact]
    public void Existing_nodes_with_room_are_used_before_anything_is_launched()
    {
        var node = new ExistingNode
        {
            Name = "node-a",
            Requirements = Requirements.FromLabels(new Dictionary<string, string> { [Hostname] = "node-a", [Zone] = "test-zone-1" }),
            Allocatable = new Resources(4000, 8L << 30, 110),
            Requested = new Resources(1000, 1L << 30, 3),
        };
        var pod = Pod("2", "2Gi");

        var result = Solve(new SchedulingInput { Pods = [pod], NodePools = [Pool()], ExistingNodes = [node] });

        Assert.Empty(result.NewNodeClaims);
        Assert.Same(pod, Assert.Single(Assert.Single(result.ExistingNodes).Pods));
    }

    [Fact]
    public void A_node_selector_narrows_the_instance_types()
    {
        var types = FakeInstanceTypes.Synthetic(4).Concat([FakeInstanceTypes.Create("arm-big", new Resources(8000, 16L << 30, 80), arch: "arm64")]).ToList();
        var pod = Pod(spec: s => s.NodeSelector = new Dictionary<string, string> { ["kubernetes.io/arch"] = "arm64" });

        var claim = ExpectClaimFor(Solve([pod], Pool(types: types)), pod);

        Assert.Equal(["arm-big"], claim.InstanceTypes.Select(t => t.Name));
    }

    [Fact]
    public void An_untolerated_taint_is_reported_per_NodePool_and_a_tolerating_pod_schedules()
    {
        var taint = new V1Taint { Key = "dedicated", Value = "gpu", Effect = "NoSchedule" };
        var plain = Pod();
        var tolerating = Pod(spec: s => s.Tolerations = [new V1Toleration { Key = "dedicated", OperatorProperty = "Equal", Value = "gpu", Effect = "NoSchedule" }]);

        var result = Solve([plain, tolerating], Pool(name: "gpu", taints: [taint]));

        Assert.Contains("did not tolerate taint dedicated=gpu:NoSchedule", ExpectUnschedulable(result, plain).ReasonsByNodePool["gpu"]);
        ExpectClaimFor(result, tolerating);
    }

    [Fact]
    public void The_heaviest_NodePool_is_tried_first()
    {
        var pod = Pod();

        var result = Solve([pod], Pool(name: "light", weight: 1), Pool(name: "heavy", weight: 50));

        Assert.Equal("heavy", ExpectClaimFor(result, pod).NodePool.Name);
    }

    [Fact]
    public void NodePool_limits_stop_launches_and_say_so()
    {
        var pods = Enumerable.Range(0, 2).Select(_ => Pod("3", "1Gi", spec: s => s.Affinity = new V1Affinity
        {
            PodAntiAffinity = new V1PodAntiAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term(Hostname, new() { ["app"] = "x" })] },
        }, labels: new() { ["app"] = "x" })).ToList();

        var result = Solve(pods, Pool(types: FakeInstanceTypes.Synthetic(4), limits: new Resources(5000, 100L << 30)));

        Assert.Single(result.NewNodeClaims);
        Assert.Contains("limits", Assert.Single(result.PodErrors).Message);
    }

    [Fact]
    public void Hostname_anti_affinity_puts_each_pod_on_its_own_node()
    {
        var labels = new Dictionary<string, string> { ["app"] = "web" };
        var pods = Enumerable.Range(0, 4).Select(_ => Pod("100m", "100Mi", labels, s => s.Affinity = new V1Affinity
        {
            PodAntiAffinity = new V1PodAntiAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term(Hostname, labels)] },
        })).ToList();

        var result = Solve(pods);

        ExpectAllScheduled(result);
        Assert.Equal(4, result.NewNodeClaims.Count);
    }

    [Fact]
    public void Zone_spread_with_max_skew_one_balances_the_zones()
    {
        var labels = new Dictionary<string, string> { ["app"] = "web" };
        var pods = Enumerable.Range(0, 6).Select(_ => Pod("100m", "100Mi", labels, s => s.TopologySpreadConstraints =
        [
            new V1TopologySpreadConstraint { MaxSkew = 1, TopologyKey = Zone, WhenUnsatisfiable = "DoNotSchedule", LabelSelector = new V1LabelSelector { MatchLabels = labels } },
        ])).ToList();

        var result = Solve(pods);

        ExpectAllScheduled(result);
        var perZone = result.NewNodeClaims.SelectMany(c => c.Pods.Select(_ => Single(c, Zone))).GroupBy(z => z).ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(3, perZone.Count);
        Assert.All(perZone.Values, n => Assert.Equal(2, n));
    }

    [Fact]
    public void Zonal_self_affinity_keeps_the_group_in_one_zone()
    {
        var labels = new Dictionary<string, string> { ["app"] = "db" };
        var pods = Enumerable.Range(0, 5).Select(_ => Pod("3", "1Gi", labels, s => s.Affinity = new V1Affinity
        {
            PodAffinity = new V1PodAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term(Zone, labels)] },
        })).ToList();

        var result = Solve(pods, Pool(types: FakeInstanceTypes.Synthetic(4)));

        ExpectAllScheduled(result);
        Assert.True(result.NewNodeClaims.Count > 1);
        Assert.Single(result.NewNodeClaims.Select(c => Single(c, Zone)).Distinct());
    }

    [Fact]
    public void An_unsatisfiable_preference_is_relaxed_and_a_satisfiable_one_is_kept()
    {
        var impossible = Pod(spec: s => s.Affinity = new V1Affinity
        {
            NodeAffinity = new V1NodeAffinity { PreferredDuringSchedulingIgnoredDuringExecution = [new V1PreferredSchedulingTerm { Weight = 10, Preference = new V1NodeSelectorTerm { MatchExpressions = [Expr(Zone, "In", "mars")] } }] },
        });
        var possible = Pod(spec: s => s.Affinity = new V1Affinity
        {
            NodeAffinity = new V1NodeAffinity { PreferredDuringSchedulingIgnoredDuringExecution = [new V1PreferredSchedulingTerm { Weight = 10, Preference = new V1NodeSelectorTerm { MatchExpressions = [Expr(Zone, "In", "test-zone-3")] } }] },
        });

        var result = Solve([impossible, possible]);

        ExpectAllScheduled(result);
        Assert.Equal("test-zone-3", Single(ExpectClaimFor(result, possible), Zone));
    }

    [Fact]
    public void A_later_required_node_affinity_term_is_used_when_the_first_cannot_be_met()
    {
        var pod = Pod(spec: s => s.Affinity = new V1Affinity
        {
            NodeAffinity = new V1NodeAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
                {
                    NodeSelectorTerms = [new V1NodeSelectorTerm { MatchExpressions = [Expr(Zone, "In", "mars")] }, new V1NodeSelectorTerm { MatchExpressions = [Expr(Zone, "In", "test-zone-2")] }],
                },
            },
        });

        Assert.Equal("test-zone-2", Single(ExpectClaimFor(Solve([pod]), pod), Zone));
    }

    [Fact]
    public void Bad_input_is_reported_per_pod_and_the_rest_of_the_batch_proceeds()
    {
        var huge = Pod("1000", "1Gi");
        var contradictory = Pod(spec: s =>
        {
            s.NodeSelector = new Dictionary<string, string> { [Zone] = "test-zone-1" };
            s.Affinity = new V1Affinity { NodeAffinity = new V1NodeAffinity { RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector { NodeSelectorTerms = [new V1NodeSelectorTerm { MatchExpressions = [Expr(Zone, "NotIn", "test-zone-1")] }] } } };
        });
        var unknownKey = Pod(spec: s => s.TopologySpreadConstraints =
            [new V1TopologySpreadConstraint { MaxSkew = 1, TopologyKey = "example.com/rack", WhenUnsatisfiable = "DoNotSchedule", LabelSelector = new V1LabelSelector() }]);
        var badOperator = Pod(spec: s => s.Affinity = new V1Affinity { NodeAffinity = new V1NodeAffinity { RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector { NodeSelectorTerms = [new V1NodeSelectorTerm { MatchExpressions = [Expr(Zone, "Near", "x")] }] } } });
        var fine = Pod();
        var emptyPool = Pool(name: "empty", requirements: new Requirements(Requirement.In(Zone, "test-zone-1"), Requirement.In(Zone, "test-zone-2")));

        var result = Solve([huge, contradictory, unknownKey, badOperator, fine], Pool(), emptyPool);

        Assert.Contains("no instance type", ExpectUnschedulable(result, huge).ReasonsByNodePool["default"]);
        Assert.Contains("cannot be satisfied", ExpectUnschedulable(result, huge).ReasonsByNodePool["empty"]);
        Assert.Contains("contradict", ExpectUnschedulable(result, contradictory).Message);
        Assert.Contains("example.com/rack", ExpectUnschedulable(result, unknownKey).Message);
        Assert.Contains("Near", ExpectUnschedulable(result, badOperator).Message);
        ExpectClaimFor(result, fine);
    }

    [Fact]
    public void Pods_binding_the_same_host_port_need_separate_nodes()
    {
        static void Port(V1PodSpec s) => s.Containers[0].Ports = [new V1ContainerPort { ContainerPort = 80, HostPort = 8080 }];

        var result = Solve([Pod("100m", "100Mi", spec: Port), Pod("100m", "100Mi", spec: Port)]);

        ExpectAllScheduled(result);
        Assert.Equal(2, result.NewNodeClaims.Count);
    }

    [Fact]
    public void DaemonSet_overhead_rules_out_instance_types_it_would_not_fit_beside_the_pod()
    {
        var daemon = Pod("500m", "100Mi");
        var pod = Pod("800m", "100Mi");

        var result = Solve(new SchedulingInput { Pods = [pod], NodePools = [Pool()], DaemonSetPods = [daemon] });

        var claim = ExpectClaimFor(result, pod);
        Assert.Equal("fake-it-1", claim.InstanceTypes[0].Name); // 1 vCPU has 900m: enough for the pod, not for pod + daemon
        Assert.Equal(1300, claim.Requests.CpuMilli);
    }

    [Fact]
    public void A_bound_volume_pins_the_zone_and_a_missing_claim_is_reported()
    {
        static void Volume(V1PodSpec s, string claim) => s.Volumes = [new V1Volume { Name = "data", PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = claim } }];
        var pinned = Pod(spec: s => Volume(s, "data-0"));
        var missing = Pod(spec: s => Volume(s, "nope"));
        var volumes = new VolumeCatalog
        {
            Claims = new Dictionary<string, V1PersistentVolumeClaim> { ["default/data-0"] = new() { Spec = new V1PersistentVolumeClaimSpec { VolumeName = "pv-0" } } },
            Volumes = new Dictionary<string, V1PersistentVolume>
            {
                ["pv-0"] = new() { Spec = new V1PersistentVolumeSpec { NodeAffinity = new V1VolumeNodeAffinity { Required = new V1NodeSelector { NodeSelectorTerms = [new V1NodeSelectorTerm { MatchExpressions = [Expr(Zone, "In", "test-zone-2")] }] } } } },
            },
        };

        var result = Solve(new SchedulingInput { Pods = [pinned, missing], NodePools = [Pool()], Volumes = volumes });

        Assert.Equal("test-zone-2", Single(ExpectClaimFor(result, pinned), Zone));
        Assert.Contains("default/nope not found", ExpectUnschedulable(result, missing).Message);
    }

    [Fact]
    public void A_simulation_limited_to_one_replacement_reports_what_does_not_fit()
    {
        var labels = new Dictionary<string, string> { ["app"] = "web" };
        var pods = Enumerable.Range(0, 2).Select(_ => Pod("100m", "100Mi", labels, s => s.Affinity = new V1Affinity
        {
            PodAntiAffinity = new V1PodAntiAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term(Hostname, labels)] },
        })).ToList();

        var result = Solve(new SchedulingInput { Pods = pods, NodePools = [Pool()], Options = new SchedulingOptions { MaxNewNodeClaims = 1 } });

        Assert.Single(result.NewNodeClaims);
        Assert.Contains("no more than 1 new NodeClaims", Assert.Single(result.PodErrors).Message);
    }

    [Fact]
    public void MinValues_keeps_enough_distinct_instance_types_and_fails_strictly_when_it_cannot()
    {
        var three = new Requirements(Requirement.Exists("node.kubernetes.io/instance-type").WithMinValues(3));
        var fifty = new Requirements(Requirement.Exists("node.kubernetes.io/instance-type").WithMinValues(50));
        var pod = Pod("2", "1Gi");
        var other = Pod("2", "1Gi");

        var ok = Solve([pod], Pool(requirements: three));
        var strict = Solve([other], Pool(requirements: fifty));

        Assert.True(ExpectClaimFor(ok, pod).InstanceTypes.Count >= 3);
        Assert.Contains("minValues", ExpectUnschedulable(strict, other).Message);
    }

    [Fact]
    public void The_improvement_step_never_costs_more_than_greedy()
    {
        var random = new Random(7);
        var pods = Enumerable.Range(0, 300).Select(_ => Pod($"{random.Next(1, 16) * 100}m", $"{random.Next(1, 40) * 100}Mi")).ToList();

        var result = Solve(new SchedulingInput { Pods = pods, NodePools = [Pool(types: FakeInstanceTypes.Synthetic(400))], Options = new SchedulingOptions { ImprovementBudget = TimeSpan.FromSeconds(5) } });

        ExpectAllScheduled(result);
        Assert.True(result.Price <= result.GreedyPrice, $"{result.Price} > {result.GreedyPrice}");
    }
}

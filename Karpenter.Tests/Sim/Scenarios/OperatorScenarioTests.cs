using k8s.Models;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Sim.Aws.World;
using Karpenter.Sim.Commands;
using Karpenter.Sim.Scenarios;
using Karpenter.Sim.World;
using Xunit.Abstractions;

namespace Karpenter.Tests.Sim.Scenarios;

/// <summary>
/// Scenarios played against the whole operator (as <c>simulate</c> runs it: same host, leader election on, the
/// paced accelerated clock), asserting what a user cares about: every pod scheduled, NodePool limits held, cost near
/// the lower bound once the scale-up has settled, no instance leaked at the end, and the scale-down consolidated.
/// One class, so the three runs do not compete for the two cores with one another.
/// </summary>
public sealed class OperatorScenarioTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_default_scenario_schedules_every_pod_near_the_lower_bound_and_consolidates_the_scale_down()
    {
        var scenario = ScenarioReader.ReadDefault();
        var run = await RunAsync(scenario, speed: 120);

        ExpectEveryPodScheduled(run.Report, atLeast: 30 + 12 + 12);
        ExpectNoLeakedInstances(run);
        ExpectWithinLimits(run, "general-purpose", cpu: 1000);

        // Cost ÷ bound at the settled peak (the last settled sample at peak demand, after the 20m spot interruption's
        // replacements) measured 1.11 at load 16 before the in-flight fixes, then 1.08, 1.08 (load ~15), 1.09, 1.10
        // (load 4), and 1.08 in `make run` at 60x (1.07 before the interruption): the fresh plan is 1.02 × the bound
        // (12 × t3a.small and 4 × t3a.xlarge spot) and the cluster 1.06 to 1.08 × the plan, running a t3.micro or one or
        // two t3.small more, grown for single pods the simulated kube-scheduler bound away from Karpenter's nominations
        // (and for the pods the interruption drained, in batches paced by their PDBs). Spot nodes being
        // replaceable only under the SpotToSpotConsolidation gate (off by default, as upstream, and in the seed NodePool
        // as it is), consolidation can delete them but not merge them. The issue's goal is 1.10; the margin to 1.20 is for
        // a loaded 2-core machine, where that remainder varies from run to run.
        ExpectNearTheBoundOnceSettled(run.Report, within: 1.20, planWithin: 1.10);

        // The scale-down (35m and 40m) is consolidated: Karpenter disrupts nodes after it and fewer remain.
        var peakNodes = run.Report.Samples.Max(s => s.Nodes);
        Assert.True(run.Report.Samples[^1].Nodes < peakNodes, $"nodes at the end ({run.Report.Samples[^1].Nodes}) fewer than at the peak ({peakNodes})");
        Assert.Contains(run.Report.KarpenterEvents, e => e.Contains("DisruptionTerminating", StringComparison.Ordinal) && AtOrAfter(e, TimeSpan.FromMinutes(35)));
    }

    [Fact]
    public async Task A_spot_NodePool_rides_out_an_insufficient_capacity_window_within_its_limits()
    {
        var scenario = ScenarioReader.Read("""
            name: spot-ice-short
            duration: 20m
            # Upstream's defaults forbid merging spot nodes (the gate is off; a 10 % budget lets one node go at a time):
            # a cost-minded spot user turns both on, as examples/scenarios/spot-ice.yaml explains.
            settings: { FEATURE_GATES: SpotToSpotConsolidation=true }
            manifests:
              - file: ec2nodeclass-default-ec2.yaml
              - inline:
                  apiVersion: karpenter.sh/v1
                  kind: NodePool
                  metadata: { name: spot }
                  spec:
                    template:
                      spec:
                        nodeClassRef: { group: karpenter.k8s.aws, kind: EC2NodeClass, name: default-ec2 }
                        requirements:
                          - { key: karpenter.sh/capacity-type, operator: In, values: ["spot"] }
                          - { key: karpenter.k8s.aws/instance-category, operator: In, values: ["c", "m", "r"] }
                          - { key: karpenter.k8s.aws/instance-generation, operator: Gt, values: ["4"] }
                    limits: { cpu: "64" }
                    disruption:
                      consolidateAfter: 0s
                      budgets:
                        - { nodes: "100%", reasons: [Empty, Underutilized] }
                        - { nodes: "10%", reasons: [Drifted] }
            workloads:
              - { name: worker, replicas: 8, cpu: "1", memory: 2Gi }
            timeline:
              - { at: 3m, scale: { workload: worker, replicas: 24 } }
            cloud:
              - { at: 2m, until: 8m, insufficientCapacity: { instanceType: c6g.8xlarge, capacityType: spot } }
              - { at: 2m, until: 8m, insufficientCapacity: { instanceType: c7g.4xlarge, capacityType: spot } }
              - { at: 12m, spotInterruption: { count: 1 } }
            """, "spot-ice-short.yaml", ExamplesDirectory());
        var run = await RunAsync(scenario, speed: 120);

        ExpectEveryPodScheduled(run.Report, atLeast: 24);
        ExpectNoLeakedInstances(run);
        ExpectWithinLimits(run, "spot", cpu: 64);
        Assert.All(run.Report.InstanceTypes, t => Assert.Equal("spot", t.CapacityType));

        // The window takes out the two types Karpenter picks here when nothing is short (c6g.8xlarge, the bound's own, and
        // c7g.4xlarge), so the scale-up lands on others. As a cost-minded spot user runs it (the SpotToSpotConsolidation
        // gate on, and a budget that lets consolidation take several nodes at once), multi-node consolidation then merges
        // the nodes grown batch by batch into one c6g.8xlarge spot, the fresh plan and the bound itself: cost ÷ bound at
        // the settled peak and at the end measured 1.00, 1.00, 1.00 (cost ÷ plan 1.00; time-averaged over the settled
        // samples, the window and the merges included, 1.19 to 1.48), at effective speeds 31x to 53x. Upstream's defaults
        // (the gate off, nodes: 10%) measured 1.20 to 1.33, with a window on types it never picked: two c7g.4xlarge spot
        // that no consolidation may merge. The margin is for a loaded machine.
        ExpectNearTheBoundOnceSettled(run.Report, within: 1.10, planWithin: 1.10);
    }

    [Fact]
    public async Task Pods_spread_across_zones_stay_within_their_skew_as_they_scale_up()
    {
        var scenario = ScenarioReader.Read("""
            name: zone-spread-short
            duration: 15m
            manifests:
              - file: ec2nodeclass-default-ec2.yaml
              - file: nodepool-general-purpose.yaml
            workloads:
              - name: frontend
                replicas: 6
                cpu: 500m
                memory: 512Mi
                topologySpreadConstraints:
                  - { maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule }
            timeline:
              - { at: 3m, scale: { workload: frontend, replicas: 15 } }
            """, "zone-spread-short.yaml", ExamplesDirectory());
        var zones = new Dictionary<string, int>(StringComparer.Ordinal);
        var run = await RunAsync(scenario, speed: 120, atEnd: world =>
        {
            var nodesByName = world.Nodes().ToDictionary(n => n.Metadata.Name, StringComparer.Ordinal);
            foreach (var pod in world.Pods().Where(p => p.Metadata.Labels?.TryGetValue("app", out var app) == true && app == "frontend" && !string.IsNullOrEmpty(p.Spec.NodeName)))
            {
                var zone = nodesByName[pod.Spec.NodeName].Metadata.Labels[Labels.TopologyZone];
                zones[zone] = zones.GetValueOrDefault(zone) + 1;
            }
        });

        ExpectEveryPodScheduled(run.Report, atLeast: 15);
        ExpectNoLeakedInstances(run);
        Assert.Equal(15, zones.Values.Sum());
        Assert.Equal(3, zones.Count);
        Assert.True(zones.Values.Max() - zones.Values.Min() <= 1, $"zones hold {string.Join(", ", zones.Select(z => $"{z.Key}: {z.Value}"))}");

        // Cost ÷ bound at the settled peak measured 1.00 (before the bound knew about zone spread: 1.25; against the
        // covering LP alone: 1.53, 1.63, 1.63, 1.93). The fresh plan (2 × t3a.small + 1 × t3.micro spot per zone) is
        // 1.00 × the bound, which holds five pods in every zone on whole nodes (it was 1.11 while the bound bought 2.5
        // fractional t3a.small per zone). The cluster measured 1.00 × the plan in seven runs at loads 3 to 16 once the
        // simulated control plane's bursts ran at real speed and re-solved pods went back to their in-flight NodeClaims
        // (before: 1.00 to 1.07, 1.26 once at load 30, from t3.micro nodes grown for split batches).
        ExpectNearTheBoundOnceSettled(run.Report, within: 1.10, planWithin: 1.10);
    }

    private sealed record Run(RunReport Report, IReadOnlyList<string> Leaked, IReadOnlyDictionary<string, long> PeakMilliCpu);

    private async Task<Run> RunAsync(Scenario scenario, double speed, Action<SimulatedWorld>? atEnd = null)
    {
        var leaked = new List<string>();
        var peakMilliCpu = new Dictionary<string, long>(StringComparer.Ordinal);
        var session = new SimulationSession(scenario, speed)
        {
            SettleWindow = TimeSpan.FromMinutes(3),
            Observe = (world, _) =>
            {
                foreach (var pool in world.Nodes().GroupBy(n => n.Metadata.Labels?.TryGetValue(Labels.NodePool, out var pool) == true ? pool : string.Empty))
                {
                    var cpu = pool.Sum(n => n.Status?.Capacity?.TryGetValue("cpu", out var q) == true ? (long)(q.ToDecimal() * 1000) : 0);
                    peakMilliCpu[pool.Key] = Math.Max(peakMilliCpu.GetValueOrDefault(pool.Key), cpu);
                }
            },
            AtEnd = async (world, ct) =>
            {
                atEnd?.Invoke(world);
                var claimed = (await world.Client.ListAsync<NodeClaim>(cancellationToken: ct)).Items
                    .Select(c => c.Status?.ProviderId).Where(p => p is not null).ToHashSet(StringComparer.Ordinal);
                leaked.AddRange(world.Aws.World.Instances()
                    .Where(i => i.State is InstanceState.Running or InstanceState.Pending && !claimed.Contains(i.ProviderId))
                    .Select(i => $"{i.InstanceId} ({i.InstanceType}, {i.State})"));
            },
        };
        var report = await session.RunAsync(null, CancellationToken.None);
        var bound = report.Bound!;
        output.WriteLine($"{scenario.Name}: {report.WallTime.TotalSeconds:0.0} s wall, effective {report.EffectiveSpeed:0.#}x; pods {report.PodsScheduled}/{report.PodsCreated}, p50 {report.TimeToScheduleP50Seconds:0.#} s, p99 {report.TimeToScheduleP99Seconds:0.#} s; " +
            $"cost/bound settled {bound.SettledRatio:0.00} over {bound.SettledSamples} samples, at the settled peak {bound.PeakRatio:0.00} ({bound.PeakCostPerHour:0.000} / {bound.PeakLowerBoundPerHour:0.000} at {bound.PeakAt}), at the end {bound.RatioAtEnd:0.00}");
        if (report.FreshPlan is { } plan)
        {
            foreach (var (name, point) in new[] { ("settled peak", plan.Peak), ("end", plan.AtEnd) })
            {
                output.WriteLine(point is null ? $"fresh plan at the {name}: n/a" :
                    $"fresh plan at the {name} ({point.At}): cost {point.CostPerHour:0.000}, plan {point.FreshPlanPerHour:0.000}, bound {point.LowerBoundPerHour:0.000}; cost/plan {point.CostOverPlan:0.00}, plan/bound {point.PlanOverBound:0.00}; runs {point.Runs}; plan buys {point.PlanBuys}");
            }

            output.WriteLine($"fresh plan settled: cost/plan {plan.SettledCostOverPlan:0.00}, plan/bound {plan.SettledPlanOverBound:0.00} over {plan.SettledSamples} samples");
        }

        foreach (var problem in report.Problems.Where(p => !p.StartsWith("log: ", StringComparison.Ordinal)))
        {
            output.WriteLine("problem: " + problem);
        }

        return new Run(report, leaked, peakMilliCpu);
    }

    /// <summary>Nothing pending at the end, and at least <paramref name="atLeast"/> pods bound over the run (a pod deleted by a scale-down before it was bound counts as created, not scheduled).</summary>
    private static void ExpectEveryPodScheduled(RunReport report, int atLeast)
    {
        Assert.Equal(0, report.PodsPendingAtEnd);
        Assert.True(report.PodsScheduled >= atLeast, $"{report.PodsScheduled} pods scheduled, expected at least {atLeast}");
        Assert.DoesNotContain(report.Problems, p => p.Contains("never became a node", StringComparison.Ordinal) || p.Contains("without a node", StringComparison.Ordinal));
    }

    private static void ExpectNoLeakedInstances(Run run) =>
        Assert.True(run.Leaked.Count == 0, $"instances running without a NodeClaim at the end: {string.Join(", ", run.Leaked)}");

    private static void ExpectWithinLimits(Run run, string nodePool, int cpu) =>
        Assert.True(run.PeakMilliCpu.GetValueOrDefault(nodePool) <= cpu * 1000L, $"NodePool {nodePool}'s nodes reached {run.PeakMilliCpu.GetValueOrDefault(nodePool) / 1000.0} CPUs, over its limit of {cpu}");

    /// <summary>
    /// Cost within <paramref name="within"/> × the lower bound (configuration LP) at the settled peak of demand (the goal of issue 8 is
    /// 1.10; the callers say what they measured), and the fresh plan of the same pods between the bound and
    /// <paramref name="planWithin"/> × the bound (below it, the bound or the plan is wrong).
    /// </summary>
    private static void ExpectNearTheBoundOnceSettled(RunReport report, double within, double planWithin)
    {
        var bound = report.Bound!;
        Assert.True(bound.PeakRatio is not null, $"the cluster never settled with a bound ({bound.Problem ?? "no settled sample"})");
        Assert.True(bound.PeakRatio >= 1 - 1e-9, $"the bound is a lower bound: cost ÷ bound {bound.PeakRatio:0.000} cannot be below 1");
        var plan = report.FreshPlan?.Peak;
        var breakdown = plan is null ? "no fresh plan" : $"fresh plan {plan.FreshPlanPerHour:0.000} at {plan.At}: cost ÷ plan {plan.CostOverPlan:0.00}, plan ÷ bound {plan.PlanOverBound:0.00}; runs {plan.Runs}; plan buys {plan.PlanBuys}";
        Assert.True(bound.PeakRatio <= within, $"cost ÷ bound at the settled peak is {bound.PeakRatio:0.000} ({bound.PeakCostPerHour:0.000} ÷ {bound.PeakLowerBoundPerHour:0.000} at {bound.PeakAt}); {breakdown}");
        Assert.True(plan?.PlanOverBound is not null, $"no fresh plan at the settled peak ({breakdown})");
        Assert.True(plan.PlanOverBound >= 1 - 1e-9, $"the fresh plan cannot cost less than the lower bound: {breakdown}");
        Assert.True(plan.PlanOverBound <= planWithin, $"the fresh plan at the settled peak is {plan.PlanOverBound:0.000} × the bound: {breakdown}");
        Assert.Equal(0, plan.Unplaced);
    }

    /// <summary>Whether a report's event line ("37m05s reason object: message") is at or after <paramref name="at"/>.</summary>
    private static bool AtOrAfter(string karpenterEvent, TimeSpan at)
    {
        var m = System.Text.RegularExpressions.Regex.Match(karpenterEvent, @"^(?:(\d+)h)?(?:(\d+)m)?(?:([\d.]+)s)? ");
        var t = TimeSpan.FromHours(m.Groups[1].Success ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0) +
                TimeSpan.FromMinutes(m.Groups[2].Success ? int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) : 0);
        return m.Success && t >= at;
    }

    private static string ExamplesDirectory() => Path.Combine(RepositoryRoot(), "examples", "scenarios");

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Karpenter.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Karpenter.sln not found above the test assembly");
    }
}

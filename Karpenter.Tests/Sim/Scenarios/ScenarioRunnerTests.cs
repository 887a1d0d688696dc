using System.Text.Json.Nodes;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Sim.Scenarios;
using Karpenter.Sim.Scenarios.Reports;
using Karpenter.Tests.Sim.World;

namespace Karpenter.Tests.Sim.Scenarios;

/// <summary>
/// The scenario runner against a simulated world. The operator is not in these tests: a minimal stand-in (test code
/// only) launches one instance whenever pods are pending and no node is on its way, and registers nodes as Karpenter
/// would, so that what is checked is the runner: manifests applied, workloads created, the timeline played on the
/// world's clock, and the report's figures.
/// </summary>
public sealed class ScenarioRunnerTests
{
    [Fact]
    public async Task A_scenario_plays_its_timeline_and_reports_pods_nodes_and_cost()
    {
        await using var h = await WorldHarness.StartAsync(o => { o.Speed = 60; o.SystemDaemonSets = false; });
        var scenario = ScenarioReader.Read("""
            name: runner
            duration: 12m
            manifests:
              - inline: { apiVersion: v1, kind: Namespace, metadata: { name: shop } }
            workloads:
              - { name: web, namespace: shop, replicas: 4, cpu: "1", memory: 1Gi, disruptionBudget: { maxUnavailable: 1 } }
            timeline:
              - { at: 3m, scale: { workload: web, replicas: 7 } }
              - { at: 9m, delete: { workload: web } }
            """, "runner.yaml", Path.GetTempPath());
        await using var standIn = new StandInProvisioner(h, "m5.xlarge");

        var report = await new ScenarioRunner(scenario, h.World, new ScenarioRunOptions { SampleInterval = TimeSpan.FromSeconds(20) }).RunAsync();

        Assert.Equal(7, report.PodsScheduled);
        Assert.Equal(0, report.PodsPendingAtEnd);
        Assert.Equal(0, report.Samples[^1].RunningPods);
        Assert.Contains(report.Samples, s => s.RunningPods == 7);
        Assert.True(report.Samples[^1].At == TimeSpan.FromMinutes(12), "the last sample is at the end of the scenario");
        Assert.All(report.Samples.Zip(report.Samples.Skip(1)), p => Assert.True(p.Second.At >= p.First.At));
        var launched = Assert.Single(report.InstanceTypes);
        Assert.Equal(("m5.xlarge", "on-demand"), (launched.InstanceType, launched.CapacityType));
        Assert.InRange(launched.Launched, 2, 4);
        Assert.NotNull(report.TimeToScheduleP50Seconds);
        Assert.True(report.TimeToScheduleP99Seconds >= report.TimeToScheduleP50Seconds);
        var price = h.World.Aws.World.OnDemandPrice("m5.xlarge")!.Value;
        Assert.Equal(price * launched.RunningAtEnd, report.CostPerHourAtEnd, 6);
        Assert.InRange(report.CostOverRun, price * 0.1, price * launched.Launched * 12 / 60.0);

        var html = HtmlReport.Render(report);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        var json = JsonNode.Parse(JsonReport.Render(report))!;
        Assert.Equal(7, json["podsScheduled"]!.GetValue<int>());
        Assert.Equal(720, json["duration"]!.GetValue<double>());
    }

    [Fact]
    public async Task A_manifest_the_API_server_refuses_ends_the_run_with_its_position_and_the_server_message()
    {
        await using var h = await WorldHarness.StartAsync(o => { o.InstallCrds = true; o.SystemDaemonSets = false; });
        var scenario = ScenarioReader.Read("""
            name: bad
            duration: 5m
            manifests:
              - inline:
                  apiVersion: karpenter.sh/v1
                  kind: NodePool
                  metadata: { name: broken }
                  spec:
                    template:
                      spec:
                        nodeClassRef: { group: karpenter.k8s.aws, kind: EC2NodeClass, name: default }
                        requirements: [{ key: karpenter.sh/capacity-type, operator: Sometimes, values: [spot] }]
            """, "bad.yaml", Path.GetTempPath());

        var e = await Assert.ThrowsAsync<ScenarioException>(() => new ScenarioRunner(scenario, h.World).RunAsync());

        Assert.StartsWith("bad.yaml:5:7: the API server refused NodePool broken: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("operator", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Test-only stand-in for the operator: one instance at a time for pending pods, and registration.</summary>
    private sealed class StandInProvisioner : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public StandInProvisioner(WorldHarness h, string instanceType)
        {
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    try
                    {
                        await StepAsync(h, instanceType);
                        await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, _stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                    catch (KubeApiException)
                    {
                        // Raced with a kubelet or a controller; try again.
                    }
                }
            });
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            _stop.Dispose();
        }

        private static async Task StepAsync(WorldHarness h, string instanceType)
        {
            foreach (var node in h.World.Nodes().Where(n => n.Spec.Taints?.Any(t => t.Key == Karpenter.Entities.WellKnown.Taints.UnregisteredKey) == true))
            {
                var modified = KubeObjects.DeepClone(node);
                modified.Spec.Taints = [.. node.Spec.Taints.Where(t => t.Key != Karpenter.Entities.WellKnown.Taints.UnregisteredKey)];
                await h.World.Client.PatchFromAsync(node, modified, optimisticLock: true);
            }

            var pending = h.World.Pods().Any(p => string.IsNullOrEmpty(p.Spec.NodeName) && p.Metadata.DeletionTimestamp is null
                && p.Status?.Conditions?.Any(c => c.Type == "PodScheduled" && c.Reason == "Unschedulable") == true);
            var onItsWay = h.World.Aws.World.Instances().Count(i => i.State is Karpenter.Sim.Aws.World.InstanceState.Pending or Karpenter.Sim.Aws.World.InstanceState.Running)
                > h.World.Nodes().Count(n => n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true && n.Spec.Taints?.Any(t => t.Key == Karpenter.Entities.WellKnown.Taints.UnregisteredKey) != true);
            if (pending && !onItsWay)
            {
                await h.LaunchAl2023Async(instanceType);
            }
        }
    }
}

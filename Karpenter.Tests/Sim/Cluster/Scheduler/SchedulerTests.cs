using k8s.Models;
using Karpenter.Aws.LaunchTemplates.UserData;
using Karpenter.Tests.Sim.World;
using static Karpenter.Tests.Sim.World.WorkloadBuilders;

namespace Karpenter.Tests.Sim.Cluster.Scheduler;

/// <summary>
/// The simulated kube-scheduler: pods that fit no node are marked unschedulable the way kube-scheduler marks them
/// (which is what wakes Karpenter), and bind to a node as soon as one fits; bound pods run.
/// </summary>
public sealed class SchedulerTests
{
    [Fact]
    public async Task A_pod_that_fits_no_node_is_Unschedulable_and_runs_once_a_node_that_fits_is_Ready()
    {
        await using var h = await WorldHarness.StartAsync(o => o.SystemDaemonSets = false);
        await h.World.Client.CreateAsync(Pod("big", cpu: "2500m"));

        await h.World.UntilAsync(_ => PodNamed(h, "big") is { } p && Scheduled(p) is { Status: "False", Reason: "Unschedulable" }, WorldHarness.Patience, "the pod to be marked Unschedulable");
        Assert.Equal("no nodes available to schedule pods", Scheduled(PodNamed(h, "big")!)!.Message);

        var small = await h.LaunchAl2023Async("t3.medium");
        await h.ExpectNodeRegisteredAsync(small);
        await h.World.UntilAsync(_ => Scheduled(PodNamed(h, "big")!)?.Message?.StartsWith("0/1 nodes are available: 1 Insufficient cpu", StringComparison.Ordinal) == true, WorldHarness.Patience, "the pod to be reported as not fitting the small node");
        Assert.True(string.IsNullOrEmpty(PodNamed(h, "big")!.Spec.NodeName));

        var large = await h.LaunchAl2023Async("m5.xlarge");
        var node = await h.ExpectNodeRegisteredAsync(large);
        await h.World.UntilAsync(_ => PodNamed(h, "big") is { } p && IsRunning(p), WorldHarness.Patience, "the pod to run");
        Assert.Equal(node.Metadata.Name, PodNamed(h, "big")!.Spec.NodeName);
    }

    [Fact]
    public async Task Taints_repel_pods_that_do_not_tolerate_them_and_node_selectors_are_honoured()
    {
        await using var h = await WorldHarness.StartAsync(o => o.SystemDaemonSets = false);
        var bootstrap = h.Bootstrap(
            labels: new Dictionary<string, string> { ["karpenter.sh/nodepool"] = "gpu", ["team"] = "ml" },
            taints: [new NodeTaint("dedicated", "ml", "NoSchedule")]);
        var id = await h.LaunchAl2023Async("m5.large", bootstrap);
        var node = await h.ExpectNodeRegisteredAsync(id);

        await h.World.Client.CreateAsync(Pod("intolerant"));
        var tolerant = Pod("tolerant");
        tolerant.Spec.Tolerations = [new V1Toleration { Key = "dedicated", OperatorProperty = "Equal", Value = "ml", Effect = "NoSchedule" }];
        tolerant.Spec.NodeSelector = new Dictionary<string, string> { ["team"] = "ml" };
        await h.World.Client.CreateAsync(tolerant);
        var elsewhere = Pod("elsewhere");
        elsewhere.Spec.Tolerations = tolerant.Spec.Tolerations;
        elsewhere.Spec.NodeSelector = new Dictionary<string, string> { ["team"] = "web" };
        await h.World.Client.CreateAsync(elsewhere);

        await h.World.UntilAsync(_ => PodNamed(h, "tolerant") is { } p && IsRunning(p), WorldHarness.Patience, "the tolerating pod to run");
        Assert.Equal(node.Metadata.Name, PodNamed(h, "tolerant")!.Spec.NodeName);
        await h.World.UntilAsync(
            _ => Scheduled(PodNamed(h, "intolerant")!)?.Reason == "Unschedulable" && Scheduled(PodNamed(h, "elsewhere")!)?.Reason == "Unschedulable",
            WorldHarness.Patience,
            "the other two pods to be Unschedulable");
        Assert.Contains("untolerated taint {dedicated: ml}", Scheduled(PodNamed(h, "intolerant")!)!.Message, StringComparison.Ordinal);
        Assert.Contains("didn't match Pod's node affinity/selector", Scheduled(PodNamed(h, "elsewhere")!)!.Message, StringComparison.Ordinal);
    }

    private static V1Pod? PodNamed(WorldHarness h, string name) => h.World.Pods("default").FirstOrDefault(p => p.Metadata.Name == name);
}

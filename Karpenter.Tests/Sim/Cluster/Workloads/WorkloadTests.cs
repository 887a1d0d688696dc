using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Tests.Sim.World;
using static Karpenter.Tests.Sim.World.WorkloadBuilders;

namespace Karpenter.Tests.Sim.Cluster.Workloads;

/// <summary>
/// kube-controller-manager's workload controllers in the simulated cluster: a Deployment keeps its replica count
/// through a ReplicaSet as it is scaled, DaemonSets put one pod on every node, and a terminated instance's Node goes.
/// </summary>
public sealed class WorkloadTests
{
    [Fact]
    public async Task A_Deployment_runs_its_replicas_and_follows_a_scale_up_and_down()
    {
        await using var h = await WorldHarness.StartAsync(o => o.SystemDaemonSets = false);
        await h.ExpectNodeRegisteredAsync(await h.LaunchAl2023Async("m5.xlarge"));

        await h.World.Client.CreateAsync(Deployment("web", replicas: 3));
        await h.World.UntilAsync(_ => RunningOf(h, "web") == 3, WorldHarness.Patience, "three web pods Running");

        await ScaleAsync(h, "web", 6);
        await h.World.UntilAsync(_ => RunningOf(h, "web") == 6, WorldHarness.Patience, "six web pods Running");

        await ScaleAsync(h, "web", 2);
        await h.World.UntilAsync(_ => h.World.Pods("default").Count(p => AppOf(p) == "web") == 2, WorldHarness.Patience, "the web pods scaled down to two");
        Assert.Equal(2, RunningOf(h, "web"));
    }

    [Fact]
    public async Task DaemonSets_run_one_pod_on_each_node_and_the_Node_of_a_terminated_instance_is_deleted()
    {
        await using var h = await WorldHarness.StartAsync();
        var ids = new[] { await h.LaunchAl2023Async("m5.large"), await h.LaunchAl2023Async("m5.large") };
        var nodes = await h.ExpectNodesReadyAsync(ids);

        await h.World.UntilAsync(
            _ => nodes.All(n => h.World.Pods("kube-system").Count(p => p.Spec.NodeName == n.Metadata.Name && IsRunning(p)) == 2),
            WorldHarness.Patience,
            "aws-node and kube-proxy Running on both nodes");

        h.World.Aws.World.TerminateInstance(ids[0]);
        await h.World.UntilAsync(_ => h.NodeOf(ids[0]) is null, WorldHarness.Patience, "the terminated instance's Node to be deleted");
        await h.World.UntilAsync(_ => !h.World.Pods("kube-system").Any(p => p.Spec.NodeName == nodes[0].Metadata.Name), WorldHarness.Patience, "its DaemonSet pods to be collected");
        Assert.NotNull(h.NodeOf(ids[1]));
        Assert.Equal(2, h.World.Pods("kube-system").Count(p => p.Spec.NodeName == nodes[1].Metadata.Name));
    }

    private static int RunningOf(WorldHarness h, string app) =>
        h.World.Pods("default").Count(p => AppOf(p) == app && IsRunning(p) && p.Metadata.DeletionTimestamp is null);

    private static Task<V1Deployment> ScaleAsync(WorldHarness h, string name, int replicas) =>
        h.World.Client.PatchAsync<V1Deployment>(name, "default", KubePatch.Merge(new { spec = new { replicas } }));
}

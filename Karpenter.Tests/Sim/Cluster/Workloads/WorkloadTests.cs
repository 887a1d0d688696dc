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
    public async Task A_scale_down_deletes_doubled_up_pods_before_a_lone_newer_one_as_kube_controller_manager_does()
    {
        await using var h = await WorldHarness.StartAsync(o => o.SystemDaemonSets = false);
        var big = await h.ExpectNodeRegisteredAsync(await h.LaunchAl2023Async("m5.xlarge"));
        await h.World.Client.CreateAsync(Deployment("web", replicas: 3));
        await h.World.UntilAsync(_ => RunningOf(h, "web") == 3, WorldHarness.Patience, "three web pods Running on the first node");

        // The fourth pod, the newest, lands alone on a second node (the first one cordoned).
        await h.World.Client.PatchAsync<V1Node>(big.Metadata.Name, null, KubePatch.Merge(new { spec = new { unschedulable = true } }));
        var small = await h.ExpectNodeRegisteredAsync(await h.LaunchAl2023Async("m5.large"));
        await ScaleAsync(h, "web", 4);
        await h.World.UntilAsync(_ => RunningOf(h, "web") == 4, WorldHarness.Patience, "the fourth web pod Running on the second node");
        var lone = Assert.Single(h.World.Pods("default"), p => AppOf(p) == "web" && p.Spec.NodeName == small.Metadata.Name);

        await ScaleAsync(h, "web", 3);
        await h.World.UntilAsync(_ => h.World.Pods("default").Count(p => AppOf(p) == "web") == 3, WorldHarness.Patience, "the web pods scaled down to three");

        // Newest first alone would have taken the lone pod; three pods doubled up on one node go first.
        Assert.True(h.World.Pods("default").Any(p => p.Metadata.Uid == lone.Metadata.Uid), $"the lone pod {lone.Metadata.Name} on {small.Metadata.Name} was deleted instead of one of the three doubled up on {big.Metadata.Name}");
        Assert.Equal(2, h.World.Pods("default").Count(p => AppOf(p) == "web" && p.Spec.NodeName == big.Metadata.Name));
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

using k8s.Models;
using Karpenter.Core.Termination;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Conditions;
using Karpenter.Tests.Core.Lifecycle.Support;

namespace Karpenter.Tests.Core.Termination;

public sealed class NodeTerminationTests : TerminationTest
{
    private static readonly V1OwnerReference DaemonSetOwner = new() { ApiVersion = "apps/v1", Kind = "DaemonSet", Name = "agent", Uid = "ds-uid", Controller = true };

    [Fact]
    public async Task A_deleted_node_is_tainted_drained_in_priority_order_and_its_instance_terminated()
    {
        var (nodeClaim, node) = await ExpectRegisteredNodeAsync("order");
        await RunningPodAsync(node, "a-web");
        await RunningPodAsync(node, "b-daemon", p => p.Metadata.OwnerReferences = [DaemonSetOwner]);
        await RunningPodAsync(node, "c-critical", p => p.Spec.PriorityClassName = "system-cluster-critical");
        await RunningPodAsync(node, "d-critical-daemon", p =>
        {
            p.Spec.PriorityClassName = "system-node-critical";
            p.Metadata.OwnerReferences = [DaemonSetOwner];
        });
        await Env.DeleteAsync(node);

        // Each round evicts one priority group only; the next waits until the previous is gone.
        await DrainRoundAsync(node);
        var tainted = await ExpectNodeHeldAsync(node);
        Assert.Contains(tainted.Spec.Taints, t => t.Key == Taints.DisruptedKey && t.Effect == Taints.EffectNoSchedule);
        Assert.Equal(Terminator.ExcludeFromLoadBalancersValue, tainted.Metadata.Labels[Labels.ExcludeFromExternalLoadBalancers]);
        Assert.Equal(["b-daemon", "c-critical", "d-critical-daemon"], await PodNamesOnNodeAsync(node));
        await DrainRoundAsync(node);
        Assert.Equal(["c-critical", "d-critical-daemon"], await PodNamesOnNodeAsync(node));
        await DrainRoundAsync(node);
        Assert.Equal(["d-critical-daemon"], await PodNamesOnNodeAsync(node));
        await DrainRoundAsync(node);
        Assert.Empty(await PodNamesOnNodeAsync(node));
        ExpectCondition(await ExpectNodeClaimAsync(nodeClaim.Metadata.Name), ConditionTypes.Drained, ConditionStatus.False, "Draining");

        // Drained: the instance is terminated, then the finalizer goes.
        var result = await TerminateNodeAsync(node);
        Assert.Equal(InstanceTermination.Poll, result.RequeueAfter);
        var terminating = await ExpectNodeClaimAsync(nodeClaim.Metadata.Name);
        ExpectCondition(terminating, ConditionTypes.Drained, ConditionStatus.True);
        ExpectCondition(terminating, ConditionTypes.VolumesDetached, ConditionStatus.True);
        ExpectCondition(terminating, ConditionTypes.InstanceTerminating, ConditionStatus.True);
        Assert.Empty(await Env.Cloud.MachinesAsync());
        await TerminateNodeAsync(node);
        await ExpectNodeGoneAsync(node);

        // The node's deletion took its NodeClaim with it; that finalizer completes now the node is gone.
        Assert.NotNull(terminating.Metadata.DeletionTimestamp);
        await ExpectFinalizedAsync(nodeClaim);
        foreach (var name in new[] { "a-web", "b-daemon", "c-critical", "d-critical-daemon" })
        {
            Env.Events.ExpectEvent(EventReasons.Evicted, name);
        }
    }

    [Fact]
    public async Task A_PDB_holds_an_eviction_back_until_it_allows_it_and_no_pod_is_lost()
    {
        var (_, node) = await ExpectRegisteredNodeAsync("pdb");
        await RunningPodAsync(node, "guarded");
        await RunningPodAsync(node, "free");
        var pdb = await PdbAsync("guarded", allowed: 0);
        await Env.DeleteAsync(node);

        await TerminateNodeAsync(node);
        var evictions = await EvictAsync(node);

        Assert.True(evictions["guarded"].Requeue, "a 429 from the PDB is retried with backoff through the work queue");
        Assert.False(evictions["free"].Requeue);
        await KubeletFinishesTerminatingPodsAsync(node);
        var guarded = Assert.Single(await PodsOnNodeAsync(node));
        Assert.Null(guarded.Metadata.DeletionTimestamp);
        Env.Events.ExpectEvent(EventReasons.FailedDraining, node.Metadata.Name);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(NodeTerminationController.DrainPoll, (await DrainRoundAsync(node)).RequeueAfter);
        }

        Assert.Equal(["guarded"], await PodNamesOnNodeAsync(node));
        await ExpectNodeHeldAsync(node);
        Assert.Single(await Env.Cloud.MachinesAsync());

        await AllowDisruptionsAsync(pdb, 1);
        await DrainRoundAsync(node);
        Assert.Empty(await PodNamesOnNodeAsync(node));
        await TerminateNodeAsync(node);
        await TerminateNodeAsync(node);
        await ExpectNodeGoneAsync(node);
        Assert.Empty(await Env.Cloud.MachinesAsync());
    }

    [Fact]
    public async Task A_do_not_disrupt_pod_is_never_evicted_and_holds_the_drain_without_a_grace_period()
    {
        var (nodeClaim, node) = await ExpectRegisteredNodeAsync("dnd");
        await RunningPodAsync(node, "precious", p => p.Metadata.Annotations = new Dictionary<string, string> { [Annotations.DoNotDisrupt] = "true" });
        await Env.DeleteAsync(node);

        for (var i = 0; i < 3; i++)
        {
            await DrainRoundAsync(node);
            Env.Clock.Advance(TimeSpan.FromHours(1));
        }

        var precious = Assert.Single(await PodsOnNodeAsync(node));
        Assert.Null(precious.Metadata.DeletionTimestamp);
        await ExpectNodeHeldAsync(node);
        ExpectCondition(await ExpectNodeClaimAsync(nodeClaim.Metadata.Name), ConditionTypes.Drained, ConditionStatus.False, "Draining");
        Assert.Contains(Annotations.DoNotDisrupt, Env.Events.ExpectEvent(EventReasons.FailedDraining, node.Metadata.Name).Message, StringComparison.Ordinal);
        Env.Events.ExpectNoEvent(EventReasons.Evicted, "precious");
    }

    [Fact]
    public async Task When_the_termination_grace_period_runs_out_blocked_pods_are_deleted_with_what_is_left_of_it()
    {
        var (nodeClaim, node) = await ExpectRegisteredNodeAsync("tgp", nc => nc.Spec.TerminationGracePeriod = "2m");
        await RunningPodAsync(node, "precious", p =>
        {
            p.Metadata.Annotations = new Dictionary<string, string> { [Annotations.DoNotDisrupt] = "true" };
            p.Spec.TerminationGracePeriodSeconds = 30;
        });
        await RunningPodAsync(node, "guarded", p => p.Spec.TerminationGracePeriodSeconds = 60);
        await PdbAsync("guarded", allowed: 0);
        await Env.Client.DeleteAsync<NodeClaim>(nodeClaim.Metadata.Name);
        await Env.LifecycleAsync(nodeClaim); // records the deadline (deletion + 2m) and deletes the node

        await DrainRoundAsync(node);
        Assert.Equal(["guarded", "precious"], await PodNamesOnNodeAsync(node));

        // 70 s in: the 60 s pod must go now to get its whole grace period before the deadline; the 30 s pod not yet.
        Env.Clock.Advance(TimeSpan.FromSeconds(70));
        await TerminateNodeAsync(node);
        var pods = await PodsOnNodeAsync(node);
        var guarded = pods.Single(p => p.Metadata.Name == "guarded");
        Assert.NotNull(guarded.Metadata.DeletionTimestamp);
        Assert.InRange(guarded.Metadata.DeletionGracePeriodSeconds ?? -1, 1, 50);
        Assert.Null(pods.Single(p => p.Metadata.Name == "precious").Metadata.DeletionTimestamp);
        Assert.Contains("bypasses the PDB", Env.Events.ExpectEvent(EventReasons.Disrupted, "guarded").Message, StringComparison.Ordinal);

        Env.Clock.Advance(TimeSpan.FromSeconds(30));
        await DrainRoundAsync(node);
        Assert.Empty(await PodNamesOnNodeAsync(node));
        Env.Events.ExpectEvent(EventReasons.Disrupted, "precious");

        Env.Clock.Advance(TimeSpan.FromSeconds(30));
        await TerminateNodeAsync(node);
        await TerminateNodeAsync(node);
        await ExpectNodeGoneAsync(node);
        var finished = await ExpectNodeClaimAsync(nodeClaim.Metadata.Name);
        ExpectCondition(finished, ConditionTypes.VolumesDetached, ConditionStatus.False, "TerminationGracePeriodElapsed");
        await ExpectFinalizedAsync(nodeClaim);
        Assert.Empty(await Env.Cloud.MachinesAsync());
    }

    [Fact]
    public async Task Mirror_pods_pods_tolerating_the_disrupted_taint_and_finished_pods_do_not_hold_the_drain()
    {
        var (_, node) = await ExpectRegisteredNodeAsync("skips");
        await RunningPodAsync(node, "static", p => p.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "Node", Name = node.Metadata.Name, Uid = node.Metadata.Uid }]);
        await RunningPodAsync(node, "tolerant", p => p.Spec.Tolerations = [new V1Toleration { OperatorProperty = "Exists" }]);
        var done = await RunningPodAsync(node, "done");
        await Env.SetStatusAsync(done, p => p.Status.Phase = "Succeeded");
        await Env.DeleteAsync(node);

        await DrainRoundAsync(node);

        Assert.Equal(["done", "static", "tolerant"], await PodNamesOnNodeAsync(node));
        Assert.True((await PodsOnNodeAsync(node)).All(p => p.Metadata.DeletionTimestamp is null), "none of them is evicted");
        await TerminateNodeAsync(node);
        await ExpectNodeGoneAsync(node);
    }

    [Fact]
    public async Task A_node_that_is_not_ready_and_whose_instance_is_gone_loses_its_finalizer_without_a_drain()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("vanished"));
        var node = await Env.CreateAsync(ControllerEnvironment.Node("node-vanished", launched.Status.ProviderId!));
        await Env.LifecycleAsync(launched);
        await RunningPodAsync(node, "orphan");
        await Env.Cloud.Inner.DeleteAsync(await ExpectNodeClaimAsync(launched.Metadata.Name), CancellationToken.None);
        await Env.DeleteAsync(node);

        await TerminateNodeAsync(node);

        await ExpectNodeGoneAsync(node);
        Env.Events.ExpectNoEvent(EventReasons.Evicted, "orphan");
    }

    [Fact]
    public async Task A_volume_attachment_holds_the_instance_until_it_is_detached()
    {
        var (nodeClaim, node) = await ExpectRegisteredNodeAsync("volumes");
        var attachment = await Env.CreateAsync(new V1VolumeAttachment
        {
            Metadata = new V1ObjectMeta { Name = "csi-volumes-1" },
            Spec = new V1VolumeAttachmentSpec
            {
                Attacher = "ebs.csi.aws.com",
                NodeName = node.Metadata.Name,
                Source = new V1VolumeAttachmentSource { PersistentVolumeName = "pv-data" },
            },
        });
        await Env.DeleteAsync(node);

        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(NodeTerminationController.DrainPoll, (await TerminateNodeAsync(node)).RequeueAfter);
        }

        ExpectCondition(await ExpectNodeClaimAsync(nodeClaim.Metadata.Name), ConditionTypes.VolumesDetached, ConditionStatus.False, "AwaitingVolumeDetachment");
        Assert.Single(await Env.Cloud.MachinesAsync());

        await Env.DeleteAsync(attachment);
        await TerminateNodeAsync(node);
        await TerminateNodeAsync(node);
        await ExpectNodeGoneAsync(node);
        Assert.Empty(await Env.Cloud.MachinesAsync());
    }

    [Fact]
    public async Task A_node_without_a_NodeClaim_is_let_go_with_an_event()
    {
        var node = await Env.CreateAsync(ControllerEnvironment.Node("node-stray", "fake:///zone-a/i-stray"));
        node = await Env.UpdateAsync(node, n => n.Metadata.Finalizers = [Finalizers.Termination]);
        await Env.DeleteAsync(node);

        await TerminateNodeAsync(node);

        await ExpectNodeGoneAsync(node);
        Env.Events.ExpectEvent(EventReasons.FailedTermination, node.Metadata.Name);
    }
}

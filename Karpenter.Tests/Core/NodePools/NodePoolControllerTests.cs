using k8s.Models;
using Karpenter.Core.NodePools;
using Karpenter.Core.NodePools.Counter;
using Karpenter.Core.NodePools.Hash;
using Karpenter.Core.NodePools.Readiness;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Conditions;
using Karpenter.Tests.Core.Lifecycle.Support;

namespace Karpenter.Tests.Core.NodePools;

public sealed class NodePoolControllerTests : LifecycleTest
{
    private async Task<NodePool> ExpectNodePoolAsync(string name) =>
        await Env.GetAsync<NodePool>(name) ?? throw new Xunit.Sdk.XunitException($"NodePool {name} does not exist");

    private static void ExpectPoolCondition(NodePool pool, string type, string status, string? reason = null)
    {
        var condition = ConditionList.Get(pool.Status?.Conditions, type);
        Assert.True(condition is not null, $"NodePool {pool.Metadata.Name} has no {type} condition");
        Assert.True(condition.Status == status, $"{type} is {condition.Status} ({condition.Reason}: {condition.Message}), expected {status}");
        if (reason is not null)
        {
            Assert.Equal(reason, condition.Reason);
        }
    }

    [Fact]
    public async Task A_NodePool_is_Ready_when_it_is_valid_and_its_NodeClass_is_Ready()
    {
        await Env.ReconcileObjectAsync<NodePool, NodePoolReadinessController>(await ExpectNodePoolAsync("default"));

        var pool = await ExpectNodePoolAsync("default");
        ExpectPoolCondition(pool, ConditionTypes.NodeClassReady, ConditionStatus.True);
        ExpectPoolCondition(pool, ConditionTypes.ValidationSucceeded, ConditionStatus.True);
        ExpectPoolCondition(pool, ConditionTypes.Ready, ConditionStatus.True);
    }

    [Fact]
    public async Task A_NodePool_whose_NodeClass_is_missing_or_not_ready_is_not_Ready()
    {
        var missing = await Env.CreateAsync(ControllerEnvironment.NodePool("orphan", nodeClass: "nowhere"));
        await NodeClassAsync("broken", ConditionStatus.False);
        var broken = await Env.CreateAsync(ControllerEnvironment.NodePool("broken-pool", nodeClass: "broken"));

        await Env.ReconcileObjectAsync<NodePool, NodePoolReadinessController>(missing);
        await Env.ReconcileObjectAsync<NodePool, NodePoolReadinessController>(broken);

        var orphan = await ExpectNodePoolAsync("orphan");
        ExpectPoolCondition(orphan, ConditionTypes.NodeClassReady, ConditionStatus.False, "NodeClassNotFound");
        ExpectPoolCondition(orphan, ConditionTypes.Ready, ConditionStatus.False);
        var notReady = await ExpectNodePoolAsync("broken-pool");
        ExpectPoolCondition(notReady, ConditionTypes.NodeClassReady, ConditionStatus.False, "NodeClassNotReady");
        Assert.Contains("SubnetsNotFound", ConditionList.Get(notReady.Status.Conditions, ConditionTypes.NodeClassReady)!.Message, StringComparison.Ordinal);
        ExpectPoolCondition(notReady, ConditionTypes.Ready, ConditionStatus.False);
    }

    [Fact]
    public async Task The_counter_sums_the_capacity_of_the_pools_launched_nodes_preferring_the_registered_nodes_own()
    {
        var first = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("count-1"));
        var second = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("count-2"));
        await Env.CreateAsync(ControllerEnvironment.NodeClaim("count-pending", configure: nc => nc.Spec.NodeClassRef = NodeClassReference.Ec2NodeClass("nowhere")));
        await Env.CreateAsync(ControllerEnvironment.Node("node-count-2", second.Status.ProviderId!));
        await Env.LifecycleAsync(second);

        await Env.ReconcileObjectAsync<NodePool, NodePoolCounterController>(await ExpectNodePoolAsync("default"));

        var pool = await ExpectNodePoolAsync("default");
        Assert.Equal(2, pool.Status.Nodes);
        var nodeCapacity = ControllerEnvironment.Node("x", "x").Status.Capacity;
        var expected = Resources.FromList(first.Status.Capacity) + Resources.FromList(nodeCapacity);
        Assert.Equal(expected, Resources.FromList(pool.Status.Resources));
    }

    [Fact]
    public async Task The_hash_is_stamped_on_the_NodePool_and_NodeClaims_stamped_by_upstream_v3_are_restamped_unless_drifted()
    {
        var kept = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("old-version"));
        var drifted = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("old-drifted"));
        await Env.UpdateAsync(kept, nc => nc.Metadata.Annotations = new Dictionary<string, string> { [Annotations.NodePoolHash] = "upstream-1", [Annotations.NodePoolHashVersion] = "v3" });
        await Env.UpdateAsync(drifted, nc => nc.Metadata.Annotations = new Dictionary<string, string> { [Annotations.NodePoolHash] = "upstream-2", [Annotations.NodePoolHashVersion] = "v3" });
        await Env.SetStatusAsync(drifted, nc => nc.Status.Conditions = [.. nc.Status.Conditions ?? [], Condition(ConditionTypes.Drifted, ConditionStatus.True, "NodePoolDrifted")]);

        await Env.ReconcileObjectAsync<NodePool, NodePoolHashController>(await ExpectNodePoolAsync("default"));

        var pool = await ExpectNodePoolAsync("default");
        var hash = NodePoolHash.Compute(pool);
        Assert.Equal(hash, pool.Metadata.Annotations[Annotations.NodePoolHash]);
        Assert.Equal(Annotations.NodePoolHashVersionValue, pool.Metadata.Annotations[Annotations.NodePoolHashVersion]);
        var restamped = await ExpectNodeClaimAsync(kept.Metadata.Name);
        Assert.Equal(hash, restamped.Metadata.Annotations[Annotations.NodePoolHash]);
        Assert.Equal(Annotations.NodePoolHashVersionValue, restamped.Metadata.Annotations[Annotations.NodePoolHashVersion]);
        var stillDrifted = await ExpectNodeClaimAsync(drifted.Metadata.Name);
        Assert.Equal("upstream-2", stillDrifted.Metadata.Annotations[Annotations.NodePoolHash]);
        Assert.Equal(Annotations.NodePoolHashVersionValue, stillDrifted.Metadata.Annotations[Annotations.NodePoolHashVersion]);
    }
}

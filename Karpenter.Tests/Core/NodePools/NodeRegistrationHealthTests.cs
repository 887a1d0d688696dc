using k8s.Models;
using Karpenter.Core.NodePools;
using Karpenter.Core.NodePools.Readiness;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Conditions;
using Karpenter.Tests.Core.Lifecycle.Support;

namespace Karpenter.Tests.Core.NodePools;

/// <summary>
/// The NodePool's NodeRegistrationHealthy condition, as upstream: Unknown on a change of the NodePool or its NodeClass,
/// False when a NodeClaim of it never registers, True once one does.
/// </summary>
public sealed class NodeRegistrationHealthTests : LifecycleTest
{
    [Fact]
    public async Task Unknown_at_first_False_when_a_node_never_registers_Unknown_again_after_a_change_True_once_one_registers()
    {
        await ReadinessAsync();
        var pool = await PoolAsync();
        ExpectHealth(pool, ConditionStatus.Unknown, NodePoolRegistrationHealth.AwaitingReconciliationReason);
        Assert.NotNull(pool.Status.NodeClassObservedGeneration);

        var lost = await ExpectLaunchedAsync(OwnedBy(pool, "never-joins"));
        Env.Clock.Advance(TimeSpan.FromMinutes(16));
        await Env.LifecycleAsync(lost);
        ExpectHealth(await PoolAsync(), ConditionStatus.False, NodePoolRegistrationHealth.RegistrationFailedReason);
        await ReadinessAsync();
        ExpectHealth(await PoolAsync(), ConditionStatus.False, NodePoolRegistrationHealth.RegistrationFailedReason);

        // The user fixes the template (e.g. a new label for a security group): the verdict no longer holds.
        await Env.UpdateAsync(await PoolAsync(), p => p.Spec.Template.Metadata = new NodeClaimTemplateMetadata { Labels = new Dictionary<string, string> { ["fixed"] = "yes" } });
        await ReadinessAsync();
        pool = await PoolAsync();
        ExpectHealth(pool, ConditionStatus.Unknown, NodePoolRegistrationHealth.AwaitingReconciliationReason);

        var joins = await ExpectLaunchedAsync(OwnedBy(pool, "joins"));
        await Env.CreateAsync(ControllerEnvironment.Node("node-joins", joins.Status.ProviderId!));
        await Env.LifecycleAsync(await ExpectNodeClaimAsync(joins.Metadata.Name));
        ExpectHealth(await PoolAsync(), ConditionStatus.True, ConditionTypes.NodeRegistrationHealthy);
        ExpectReady(await PoolAsync());
    }

    [Fact]
    public async Task A_change_of_the_NodeClass_makes_it_Unknown_again()
    {
        await ReadinessAsync();
        var joins = await ExpectLaunchedAsync(OwnedBy(await PoolAsync(), "joins"));
        await Env.CreateAsync(ControllerEnvironment.Node("node-joins", joins.Status.ProviderId!));
        await Env.LifecycleAsync(await ExpectNodeClaimAsync(joins.Metadata.Name));
        ExpectHealth(await PoolAsync(), ConditionStatus.True, ConditionTypes.NodeRegistrationHealthy);

        var nodeClass = await Env.GetAsync<Karpenter.Entities.Aws.V1.EC2NodeClass>("default");
        await Env.UpdateAsync(nodeClass!, n => n.Spec.Tags = new Dictionary<string, string> { ["team"] = "platform" });
        await ReadinessAsync();

        ExpectHealth(await PoolAsync(), ConditionStatus.Unknown, NodePoolRegistrationHealth.AwaitingReconciliationReason);
    }

    [Fact]
    public async Task A_NodeClaim_of_a_NodePool_recreated_under_the_same_name_does_not_judge_the_new_one()
    {
        await ReadinessAsync();
        var stale = OwnedBy(await PoolAsync(), "stale");
        stale.Metadata.OwnerReferences[0].Uid = "an-older-nodepool";
        var lost = await ExpectLaunchedAsync(stale);
        Env.Clock.Advance(TimeSpan.FromMinutes(16));
        await Env.LifecycleAsync(lost);

        ExpectHealth(await PoolAsync(), ConditionStatus.Unknown, NodePoolRegistrationHealth.AwaitingReconciliationReason);
    }

    private async Task ReadinessAsync() => await Env.ReconcileObjectAsync<NodePool, NodePoolReadinessController>(await PoolAsync());

    private async Task<NodePool> PoolAsync() => await Env.GetAsync<NodePool>("default") ?? throw new Xunit.Sdk.XunitException("NodePool default is gone");

    private static NodeClaim OwnedBy(NodePool pool, string name) => ControllerEnvironment.NodeClaim(name, configure: nc => nc.Metadata.OwnerReferences =
    [
        new V1OwnerReference { ApiVersion = "karpenter.sh/v1", Kind = "NodePool", Name = pool.Metadata.Name, Uid = pool.Metadata.Uid, BlockOwnerDeletion = true },
    ]);

    private static void ExpectHealth(NodePool pool, string status, string reason)
    {
        var condition = ConditionList.Get(pool.Status?.Conditions, ConditionTypes.NodeRegistrationHealthy);
        Assert.True(condition is not null, "the NodePool has no NodeRegistrationHealthy condition");
        Assert.True((condition.Status, condition.Reason) == (status, reason), $"NodeRegistrationHealthy is {condition.Status} ({condition.Reason}: {condition.Message}), expected {status} ({reason})");
        Assert.Equal(pool.Metadata.Generation, condition.ObservedGeneration);
    }

    /// <summary>NodeRegistrationHealthy does not gate readiness (upstream).</summary>
    private static void ExpectReady(NodePool pool) => Assert.Equal(ConditionStatus.True, ConditionList.Get(pool.Status.Conditions, ConditionTypes.Ready)?.Status);
}

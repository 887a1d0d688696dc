using Karpenter.Core.Lifecycle;
using Karpenter.Core.Lifecycle.Drift;
using Karpenter.Core.NodePools;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Conditions;
using Karpenter.Tests.Core.Lifecycle.Support;

namespace Karpenter.Tests.Core.Lifecycle.Drift;

public sealed class DriftTests : LifecycleTest
{
    [Fact]
    public async Task A_NodeClaim_made_from_an_older_template_is_drifted()
    {
        var pool = await ExpectNodePoolAsync();
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("static", configure: nc => Stamp(nc, pool)));
        await Env.UpdateAsync(pool, p =>
        {
            p.Spec.Template.Spec.Taints = [new Taint { Key = "dedicated", Effect = Taints.EffectNoSchedule }];
            Stamp(p, p);
        });

        await Env.ReconcileAsync<DriftController>(launched);

        ExpectCondition(await ExpectNodeClaimAsync(launched.Metadata.Name), ConditionTypes.Drifted, ConditionStatus.True, DriftController.NodePoolDrifted);
    }

    [Fact]
    public async Task A_NodeClaim_whose_labels_leave_the_NodePool_requirements_is_drifted()
    {
        var pool = await ExpectNodePoolAsync();
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("requirements", configure: nc => Stamp(nc, pool)));
        await Env.UpdateAsync(pool, p => p.Spec.Template.Spec.Requirements =
            [new NodePoolRequirement { Key = Labels.CapacityType, Operator = "In", Values = [CapacityTypes.Spot] }]);

        await Env.ReconcileAsync<DriftController>(launched);

        var drifted = await ExpectNodeClaimAsync(launched.Metadata.Name);
        ExpectCondition(drifted, ConditionTypes.Drifted, ConditionStatus.True, DriftController.RequirementsDrifted);
        Assert.Contains(Labels.CapacityType, drifted.Condition(ConditionTypes.Drifted)!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Provider_drift_is_reported_and_cleared_when_it_goes_away()
    {
        var pool = await ExpectNodePoolAsync();
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("ami", configure: nc => Stamp(nc, pool)));
        Env.Cloud.Inner.Drifted[launched.Status.ProviderId!] = "AMIDrift";

        var result = await Env.ReconcileAsync<DriftController>(launched);

        Assert.Equal(DriftController.Interval, result.RequeueAfter);
        ExpectCondition(await ExpectNodeClaimAsync(launched.Metadata.Name), ConditionTypes.Drifted, ConditionStatus.True, "AMIDrift");

        Env.Cloud.Inner.Drifted.Remove(launched.Status.ProviderId!);
        await Env.ReconcileAsync<DriftController>(launched);

        Assert.Null((await ExpectNodeClaimAsync(launched.Metadata.Name)).Condition(ConditionTypes.Drifted));
    }

    [Fact]
    public async Task A_NodeClaim_that_matches_its_NodePool_is_not_drifted()
    {
        var pool = await ExpectNodePoolAsync();
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("fine", configure: nc => Stamp(nc, pool)));

        await Env.ReconcileAsync<DriftController>(launched);

        Assert.Null((await ExpectNodeClaimAsync(launched.Metadata.Name)).Condition(ConditionTypes.Drifted));
    }

    [Fact]
    public void The_template_hash_ignores_requirements_list_order_and_empty_values_but_not_taints()
    {
        var a = ControllerEnvironment.NodePool("a");
        var b = ControllerEnvironment.NodePool("b", configure: p =>
        {
            p.Spec.Template.Spec.Requirements = [new NodePoolRequirement { Key = Labels.Arch, Operator = "In", Values = ["arm64"] }];
            p.Spec.Template.Metadata = new NodeClaimTemplateMetadata { Labels = [] };
        });
        var c = ControllerEnvironment.NodePool("c", configure: p => p.Spec.Template.Spec.Taints =
            [new Taint { Key = "x", Effect = Taints.EffectNoSchedule }, new Taint { Key = "y", Effect = Taints.EffectNoSchedule }]);
        var d = ControllerEnvironment.NodePool("d", configure: p => p.Spec.Template.Spec.Taints =
            [new Taint { Key = "y", Effect = Taints.EffectNoSchedule }, new Taint { Key = "x", Effect = Taints.EffectNoSchedule }]);

        Assert.Equal(NodePoolHash.Compute(a), NodePoolHash.Compute(b));
        Assert.Equal(NodePoolHash.Compute(c), NodePoolHash.Compute(d));
        Assert.NotEqual(NodePoolHash.Compute(a), NodePoolHash.Compute(c));
    }

    private async Task<NodePool> ExpectNodePoolAsync() => (await Env.GetAsync<NodePool>("default"))!;

    private static void Stamp(k8s.IKubernetesObject<k8s.Models.V1ObjectMeta> target, NodePool pool)
    {
        target.Metadata.Annotations ??= new Dictionary<string, string>();
        target.Metadata.Annotations[Annotations.NodePoolHash] = NodePoolHash.Compute(pool);
        target.Metadata.Annotations[Annotations.NodePoolHashVersion] = Annotations.NodePoolHashVersionValue;
    }
}

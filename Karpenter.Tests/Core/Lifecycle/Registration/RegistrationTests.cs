using k8s.Models;
using Karpenter.Core.Lifecycle;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Conditions;
using Karpenter.Tests.Core.Lifecycle.Support;

namespace Karpenter.Tests.Core.Lifecycle.Registration;

public sealed class RegistrationTests : LifecycleTest
{
    [Fact]
    public async Task The_node_with_the_NodeClaims_provider_id_is_adopted_and_synced()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("adopt", configure: nc =>
        {
            nc.Spec.Taints = [new Taint { Key = "dedicated", Value = "batch", Effect = Taints.EffectNoSchedule }];
            nc.Spec.StartupTaints = [new Taint { Key = "example.com/agent-not-ready", Effect = Taints.EffectNoSchedule }];
            nc.Metadata.Annotations = new Dictionary<string, string> { ["team"] = "data" };
        }));
        await Env.CreateAsync(ControllerEnvironment.Node("ip-10-0-0-1", launched.Status.ProviderId!));

        await Env.LifecycleAsync(launched);

        var nodeClaim = await ExpectNodeClaimAsync(launched.Metadata.Name);
        var node = (await Env.GetAsync<V1Node>("ip-10-0-0-1"))!;
        ExpectCondition(nodeClaim, ConditionTypes.Registered, ConditionStatus.True);
        Assert.Equal("ip-10-0-0-1", nodeClaim.Status.NodeName);
        Assert.Contains(Finalizers.Termination, node.Metadata.Finalizers);
        var owner = Assert.Single(node.Metadata.OwnerReferences);
        Assert.Equal(("NodeClaim", launched.Metadata.Name, launched.Metadata.Uid), (owner.Kind, owner.Name, owner.Uid));
        Assert.Equal("true", node.Metadata.Labels[Labels.NodeRegistered]);
        Assert.Equal("default", node.Metadata.Labels[Labels.NodePool]);
        Assert.Equal(launched.Metadata.Labels[Labels.InstanceType], node.Metadata.Labels[Labels.InstanceType]);
        Assert.Equal("data", node.Metadata.Annotations["team"]);
        Assert.Contains(node.Spec.Taints, t => t.Key == "dedicated" && t.Value == "batch");
        Assert.Contains(node.Spec.Taints, t => t.Key == "example.com/agent-not-ready");
        Assert.DoesNotContain(node.Spec.Taints, t => t.Key == Taints.UnregisteredKey);
    }

    [Fact]
    public async Task A_node_without_the_unregistered_taint_is_not_adopted()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("no-taint"));
        await Env.CreateAsync(ControllerEnvironment.Node("ip-10-0-0-2", launched.Status.ProviderId!, withUnregisteredTaint: false));

        var result = await Env.LifecycleAsync(launched);

        Assert.True(result.Requeue);
        var nodeClaim = await ExpectNodeClaimAsync(launched.Metadata.Name);
        ExpectCondition(nodeClaim, ConditionTypes.Registered, ConditionStatus.False, EventReasons.UnregisteredTaintMissing);
        Env.Events.ExpectEvent(EventReasons.UnregisteredTaintMissing, launched.Metadata.Name);
        var node = (await Env.GetAsync<V1Node>("ip-10-0-0-2"))!;
        Assert.Null(node.Metadata.Finalizers);
    }

    [Fact]
    public async Task Two_nodes_claiming_one_provider_id_are_refused_with_an_event()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("twins"));
        await Env.CreateAsync(ControllerEnvironment.Node("twin-a", launched.Status.ProviderId!));
        await Env.CreateAsync(ControllerEnvironment.Node("twin-b", launched.Status.ProviderId!));

        await Env.LifecycleAsync(launched);

        var nodeClaim = await ExpectNodeClaimAsync(launched.Metadata.Name);
        ExpectCondition(nodeClaim, ConditionTypes.Registered, ConditionStatus.False, EventReasons.MultipleNodesFound);
        Assert.Contains("twin-a, twin-b", nodeClaim.Condition(ConditionTypes.Registered)!.Message, StringComparison.Ordinal);
        Env.Events.ExpectEvent(EventReasons.MultipleNodesFound, launched.Metadata.Name);
        Assert.Null((await Env.GetAsync<V1Node>("twin-a"))!.Metadata.Finalizers);
    }

    [Fact]
    public async Task A_node_labelled_do_not_sync_taints_keeps_its_own_taints()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("no-sync", configure: nc =>
            nc.Spec.Taints = [new Taint { Key = "dedicated", Effect = Taints.EffectNoSchedule }]));
        var node = ControllerEnvironment.Node("ip-10-0-0-3", launched.Status.ProviderId!);
        node.Metadata.Labels[Labels.DoNotSyncTaints] = "true";
        await Env.CreateAsync(node);

        await Env.LifecycleAsync(launched);

        var stored = (await Env.GetAsync<V1Node>("ip-10-0-0-3"))!;
        Assert.DoesNotContain(stored.Spec.Taints, t => t.Key == "dedicated");
        Assert.DoesNotContain(stored.Spec.Taints, t => t.Key == Taints.UnregisteredKey);
    }
}

using k8s.Models;
using Karpenter.Core.Lifecycle;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Conditions;
using Karpenter.Tests.Core.Lifecycle.Support;

namespace Karpenter.Tests.Core.Lifecycle.Initialization;

public sealed class InitializationTests : LifecycleTest
{
    [Fact]
    public async Task A_NodeClaim_initializes_once_its_node_is_ready_its_startup_taints_are_gone_and_requested_resources_exist()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("init", configure: nc =>
        {
            nc.Spec.StartupTaints = [new Taint { Key = "example.com/agent-not-ready", Effect = Taints.EffectNoSchedule }];
            nc.Spec.Requirements[1] = new NodeClaimRequirement { Key = Labels.InstanceType, Operator = "In", Values = [ScriptedCloudProvider.GpuInstanceType] };
            nc.Spec.Resources = new NodeClaimResources { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("1"), [ScriptedCloudProvider.GpuResource] = new("1") } };
        }));
        var node = await Env.CreateAsync(ControllerEnvironment.Node("ip-10-0-1-1", launched.Status.ProviderId!));

        await Env.LifecycleAsync(launched);
        ExpectCondition(await ExpectNodeClaimAsync(launched.Metadata.Name), ConditionTypes.Initialized, ConditionStatus.False, "NodeNotReady");

        node = await Env.MakeReadyAsync(node);
        await Env.LifecycleAsync(launched);
        var waiting = await ExpectNodeClaimAsync(launched.Metadata.Name);
        ExpectCondition(waiting, ConditionTypes.Initialized, ConditionStatus.False, "StartupTaintsExist");
        Assert.Contains("example.com/agent-not-ready", waiting.Condition(ConditionTypes.Initialized)!.Message, StringComparison.Ordinal);

        node = await Env.UpdateAsync(node, n => n.Spec.Taints = n.Spec.Taints.Where(t => t.Key != "example.com/agent-not-ready").ToList());
        await Env.LifecycleAsync(launched);
        ExpectCondition(await ExpectNodeClaimAsync(launched.Metadata.Name), ConditionTypes.Initialized, ConditionStatus.False, "ResourceNotRegistered");

        var current = await Env.Client.GetAsync<V1Node>(node.Metadata.Name);
        var withGpu = KubeObjects.DeepClone(current);
        withGpu.Status.Allocatable[ScriptedCloudProvider.GpuResource] = new ResourceQuantity("1");
        await Env.CachedAsync(await Env.Client.PatchStatusFromAsync(current, withGpu));
        await Env.LifecycleAsync(launched);

        var initialized = await ExpectNodeClaimAsync(launched.Metadata.Name);
        ExpectCondition(initialized, ConditionTypes.Initialized, ConditionStatus.True);
        ExpectCondition(initialized, ConditionTypes.Ready, ConditionStatus.True);
        Assert.Equal("true", (await Env.GetAsync<V1Node>(node.Metadata.Name))!.Metadata.Labels[Labels.NodeInitialized]);
    }

    [Fact]
    public async Task A_known_ephemeral_taint_holds_initialization_back()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("ephemeral"));
        var node = ControllerEnvironment.Node("ip-10-0-1-2", launched.Status.ProviderId!);
        node.Spec.Taints.Add(new V1Taint { Key = "readiness.k8s.io/network", Effect = Taints.EffectNoSchedule });
        node = await Env.MakeReadyAsync(await Env.CreateAsync(node));

        // Registration removes the unregistered taint; the Node's update (its watch) runs the NodeClaim again.
        await Env.LifecycleAsync(launched);
        await Env.LifecycleAsync(launched);

        var nodeClaim = await ExpectNodeClaimAsync(launched.Metadata.Name);
        ExpectCondition(nodeClaim, ConditionTypes.Registered, ConditionStatus.True);
        ExpectCondition(nodeClaim, ConditionTypes.Initialized, ConditionStatus.False, "KnownEphemeralTaintsExist");
        Assert.Contains("readiness.k8s.io/network", nodeClaim.Condition(ConditionTypes.Initialized)!.Message, StringComparison.Ordinal);
    }
}

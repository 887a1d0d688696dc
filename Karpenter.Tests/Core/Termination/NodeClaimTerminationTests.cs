using k8s.Models;
using Karpenter.Core.Lifecycle;
using Karpenter.Core.Termination;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Conditions;
using Karpenter.Tests.Core.Lifecycle.Support;

namespace Karpenter.Tests.Core.Termination;

public sealed class NodeClaimTerminationTests : LifecycleTest
{
    [Fact]
    public async Task A_deleted_NodeClaim_deletes_its_node_waits_for_it_then_terminates_the_instance()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("delete-me"));
        var node = await Env.CreateAsync(ControllerEnvironment.Node("ip-10-0-2-1", launched.Status.ProviderId!));
        await Env.LifecycleAsync(launched);
        await Env.Client.DeleteAsync<NodeClaim>(launched.Metadata.Name);

        await Env.LifecycleAsync(launched);

        var deletingNode = (await Env.GetAsync<V1Node>(node.Metadata.Name))!;
        Assert.NotNull(deletingNode.Metadata.DeletionTimestamp);
        Assert.Single(await Env.Cloud.MachinesAsync());
        Assert.NotNull(await Env.GetAsync<NodeClaim>(launched.Metadata.Name));

        // The node's own finalizer (node.termination) finishes; the node goes.
        await Env.Client.PatchAsync<V1Node>(node.Metadata.Name, null, KubePatch.Merge(new { metadata = new { finalizers = Array.Empty<string>() } }));
        Assert.Null(await Env.SettledAsync<V1Node>(node.Metadata.Name));
        await Env.LifecycleAsync(launched);

        var terminating = await ExpectNodeClaimAsync(launched.Metadata.Name);
        ExpectCondition(terminating, ConditionTypes.InstanceTerminating, ConditionStatus.True);
        await ExpectFinalizedAsync(launched);
        Assert.Empty(await Env.Cloud.MachinesAsync());
    }

    [Fact]
    public async Task A_termination_grace_period_is_recorded_as_a_deadline_when_the_NodeClaim_is_deleted()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("tgp", configure: nc => nc.Spec.TerminationGracePeriod = "10m"));
        await Env.CreateAsync(ControllerEnvironment.Node("ip-10-0-2-2", launched.Status.ProviderId!));
        await Env.LifecycleAsync(launched);
        await Env.Client.DeleteAsync<NodeClaim>(launched.Metadata.Name);

        await Env.LifecycleAsync(launched);

        var deleting = await ExpectNodeClaimAsync(launched.Metadata.Name);
        var deadline = NodeClaimTermination.TerminationDeadline(deleting);
        Assert.NotNull(deadline);
        var deletedAt = new DateTimeOffset(DateTime.SpecifyKind(deleting.Metadata.DeletionTimestamp!.Value, DateTimeKind.Utc));
        Assert.Equal(deletedAt + TimeSpan.FromMinutes(10), deadline);
        Assert.Contains("All pods will be deleted by", Env.Events.ExpectEvent(EventReasons.TerminationGracePeriodExpiring, launched.Metadata.Name).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_NodeClaim_deleted_before_it_launched_loses_its_finalizer_at_once()
    {
        Env.Cloud.CreateFailure = _ => new InvalidOperationException("Unsupported");
        var created = await Env.CreateAsync(ControllerEnvironment.NodeClaim("never-launched"));
        await Env.LifecycleAsync(created);
        await Env.Client.DeleteAsync<NodeClaim>(created.Metadata.Name);

        await ExpectFinalizedAsync(created, maxPasses: 1);
        Assert.Equal(0, Env.Cloud.DeleteCount);
    }
}

using k8s.Models;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Disruption;
using Karpenter.Core.Disruption.Consolidatable;
using Karpenter.Core.State;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Tests.Core.Lifecycle.Support;

namespace Karpenter.Tests.Core.Disruption;

/// <summary>The disruption loop, its orchestrator and the Consolidatable condition against the API emulator, one reconcile at a time.</summary>
public sealed class DisruptionControllerTests : DisruptionTest
{
    [Fact]
    public async Task An_emptied_node_is_removed_after_consolidateAfter_and_not_before()
    {
        await PoolAsync(consolidateAfter: "30s");
        var (claim, node) = await ManagedNodeAsync("fake-it-3");

        await ExpectConsolidatableAsync(claim, false);
        Assert.Null(await DisruptAsync());

        Env.Clock.Advance(TimeSpan.FromSeconds(31));
        await ExpectConsolidatableAsync(claim, true);
        var command = await DisruptAsync();
        Assert.Equal(DisruptionMethods.Emptiness, command?.Method);
        Assert.NotNull(await Env.GetAsync<NodeClaim>(claim.Metadata.Name));

        // Re-validated 15 s later, then deleted and tainted.
        Env.Clock.Advance(TimeSpan.FromSeconds(15));
        await DisruptAsync();
        Assert.Null(await Env.SettledAsync<NodeClaim>(claim.Metadata.Name));
        ExpectDisruptedTaint(await Env.SettledAsync<V1Node>(node.Metadata.Name), true);
        Assert.Contains("Empty/Delete", Env.Events.ExpectEvent(EventReasons.DisruptionTerminating, claim.Metadata.Name).Message, StringComparison.Ordinal);
        Env.Events.ExpectEvent(EventReasons.DisruptionTerminating, node.Metadata.Name);
    }

    [Fact]
    public async Task A_pod_scheduled_during_validation_cancels_the_command()
    {
        await PoolAsync();
        var (claim, node) = await ManagedNodeAsync("fake-it-3");
        await ExpectConsolidatableAsync(claim, true);
        Assert.NotNull(await DisruptAsync());

        await BoundPodAsync(node, "1", pdbBlocked: false, doNotDisrupt: true);
        Env.Clock.Advance(TimeSpan.FromSeconds(15));
        await DisruptAsync();
        Assert.NotNull(await Env.SettledAsync<NodeClaim>(claim.Metadata.Name));
        ExpectDisruptedTaint(await Env.SettledAsync<V1Node>(node.Metadata.Name), false);
    }

    [Fact]
    public async Task A_replacement_is_launched_and_initialized_before_the_candidate_is_tainted_and_deleted()
    {
        await PoolAsync();
        var (claim, node) = await ManagedNodeAsync("fake-it-7");
        await BoundPodAsync(node, "1");
        await ExpectConsolidatableAsync(claim, true);

        var command = await DisruptAsync();
        Assert.Equal(DisruptionDecision.Replace, command?.Decision);
        Env.Clock.Advance(TimeSpan.FromSeconds(15));
        await DisruptAsync();

        var replacement = await ExpectReplacementAsync(claim);
        Assert.Equal("fake-it-1", replacement.Spec.Requirements.Single(r => r.Key == Labels.InstanceType).Values![0]);
        Assert.Equal("default", replacement.NodePoolName);
        Assert.NotNull(await Env.SettledAsync<NodeClaim>(claim.Metadata.Name));
        ExpectDisruptedTaint(await Env.SettledAsync<V1Node>(node.Metadata.Name), false);
        Env.Events.ExpectEvent(EventReasons.DisruptionWaitingReadiness, claim.Metadata.Name);

        await Env.SetStatusAsync(replacement, r => r.Status.Conditions = [new V1Condition { Type = ConditionTypes.Initialized, Status = "True", Reason = "Initialized", LastTransitionTime = Env.Clock.GetUtcNow().UtcDateTime }]);
        await DisruptAsync();
        Assert.Null(await Env.SettledAsync<NodeClaim>(claim.Metadata.Name));
        ExpectDisruptedTaint(await Env.SettledAsync<V1Node>(node.Metadata.Name), true);
        var terminating = Env.Events.ExpectEvent(EventReasons.DisruptionTerminating, claim.Metadata.Name);
        Assert.Contains("Underutilized/Replace", terminating.Message, StringComparison.Ordinal);
        Assert.Contains("/h -> ", terminating.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replacement_that_fails_aborts_the_command_and_leaves_the_candidate_untainted()
    {
        var (claim, node, replacement) = await StartReplaceCommandAsync();
        Assert.True(Env.Get<ClusterState>().IsMarkedForDeletion(claim.Metadata.Name));

        // A stale taint (from a crashed predecessor) is there too: the abort must clear it.
        await Env.UpdateAsync(node, n => n.Spec.Taints = [new V1Taint { Key = Taints.DisruptedKey, Effect = Taints.EffectNoSchedule }]);
        await Env.DeleteAsync(replacement);
        await DisruptAsync();

        Assert.NotNull(await Env.SettledAsync<NodeClaim>(claim.Metadata.Name));
        ExpectDisruptedTaint(await Env.SettledAsync<V1Node>(node.Metadata.Name), false);
        Assert.False(Env.Get<ClusterState>().IsMarkedForDeletion(claim.Metadata.Name));
        Assert.Contains("aborted", Env.Events.ExpectEvent(EventReasons.DisruptionBlocked, claim.Metadata.Name).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replacement_that_never_initializes_times_out_and_aborts()
    {
        var (claim, _, _) = await StartReplaceCommandAsync();

        Env.Clock.Advance(TimeSpan.FromMinutes(11));
        await DisruptAsync();
        Assert.NotNull(await Env.SettledAsync<NodeClaim>(claim.Metadata.Name));
        Assert.False(Env.Get<ClusterState>().IsMarkedForDeletion(claim.Metadata.Name));
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public async Task Pods_that_cannot_be_evicted_hold_their_node(bool doNotDisrupt, bool pdbBlocked)
    {
        await PoolAsync();
        var (claim, node) = await ManagedNodeAsync("fake-it-7");
        await BoundPodAsync(node, "1", pdbBlocked, doNotDisrupt);
        await ExpectConsolidatableAsync(claim, true);
        Assert.Null(await DisruptAsync());
        var blocked = Env.Events.ExpectEvent(EventReasons.DisruptionBlocked, node.Metadata.Name).Message;
        Assert.StartsWith(doNotDisrupt ? "Pod \"default/" : "Pdb \"default/", blocked, StringComparison.Ordinal);
        Assert.EndsWith(doNotDisrupt ? $"has \"{Annotations.DoNotDisrupt}\" annotation" : "prevents pod evictions", blocked, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_disrupted_taint_no_command_owns_is_cleared()
    {
        await PoolAsync(budget: "0");
        var (_, node) = await ManagedNodeAsync("fake-it-3");
        await Env.UpdateAsync(node, n => n.Spec.Taints = [new V1Taint { Key = Taints.DisruptedKey, Effect = Taints.EffectNoSchedule }]);
        await DisruptAsync();
        ExpectDisruptedTaint(await Env.SettledAsync<V1Node>(node.Metadata.Name), false);
    }

    [Fact]
    public async Task A_budget_of_zero_blocks_all_graceful_disruption()
    {
        await PoolAsync(budget: "0");
        var (claim, _) = await ManagedNodeAsync("fake-it-3");
        await ExpectConsolidatableAsync(claim, true);
        Assert.Null(await DisruptAsync());
        Assert.Equal("No allowed disruptions for disruption reason Empty due to blocking budget", Env.Events.ExpectEvent(EventReasons.DisruptionBlocked, "default").Message);
    }

    [Fact]
    public async Task The_last_pod_event_restarts_the_consolidateAfter_wait()
    {
        await PoolAsync(consolidateAfter: "1m");
        var (claim, node) = await ManagedNodeAsync("fake-it-3");
        Env.Clock.Advance(TimeSpan.FromSeconds(50));
        var pod = await BoundPodAsync(node, "1");
        await Env.ReconcileObjectAsync<V1Pod, PodEventsController>(pod);
        Env.Clock.Advance(TimeSpan.FromSeconds(20));
        await ExpectConsolidatableAsync(claim, false);
        Env.Clock.Advance(TimeSpan.FromSeconds(45));
        await ExpectConsolidatableAsync(claim, true);
    }
}

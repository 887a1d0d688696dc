using k8s.Models;
using Karpenter.Core.Disruption;
using Karpenter.Core.State;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Conditions;
using Karpenter.Tests.Core.Lifecycle.Support;

namespace Karpenter.Tests.Core.Disruption;

/// <summary>
/// In-flight disruption commands survive an operator restart: the candidates carry the <c>DisruptionReason</c> condition
/// and the names of their replacements, and a new operator on the same API server resumes what can be resumed and clears
/// the rest, so no taint is left stuck and no pod is left on a node nobody will drain.
/// </summary>
public sealed class DisruptionRestartTests : DisruptionTest
{
    [Fact]
    public async Task A_started_command_marks_its_candidate_with_the_reason_and_its_replacements()
    {
        var (claim, _, replacement) = await StartReplaceCommandAsync();

        var marked = await Env.SettledAsync<NodeClaim>(claim.Metadata.Name);
        var condition = ConditionList.Get(marked!.Status.Conditions, ConditionTypes.DisruptionReason);
        Assert.Equal((ConditionStatus.True, "Underutilized", "Underutilized"), (condition?.Status, condition?.Reason, condition?.Message));
        Assert.Equal(replacement.Metadata.Name, marked.Metadata.Annotations[Annotations.DisruptionReplacements]);
        Env.Events.ExpectEvent(EventReasons.DisruptionLaunching, replacement.Metadata.Name);
        Assert.Equal("Waiting on readiness to continue disruption", Env.Events.ExpectEvent(EventReasons.DisruptionWaitingReadiness, replacement.Metadata.Name).Message);
    }

    [Fact]
    public async Task After_a_restart_a_command_whose_replacement_initialized_is_resumed()
    {
        var (claim, node, replacement) = await StartReplaceCommandAsync();

        await using var restarted = await StartAsync(sharing: Env);
        Assert.Equal(0, restarted.Get<DisruptionOrchestrator>().Count);
        await DisruptAsync(restarted);

        // Still waiting: the replacement is not initialized, and the candidate is kept out of scheduling meanwhile.
        Assert.NotNull(await restarted.SettledAsync<NodeClaim>(claim.Metadata.Name));
        ExpectDisruptedTaint(await restarted.SettledAsync<V1Node>(node.Metadata.Name), false);
        Assert.True(restarted.Get<ClusterState>().IsMarkedForDeletion(claim.Metadata.Name));

        await restarted.SetStatusAsync(replacement, r => r.Status.Conditions = [new V1Condition { Type = ConditionTypes.Initialized, Status = "True", Reason = "Initialized", LastTransitionTime = Env.Clock.GetUtcNow().UtcDateTime }]);
        await DisruptAsync(restarted);

        Assert.Null(await restarted.SettledAsync<NodeClaim>(claim.Metadata.Name));
        ExpectDisruptedTaint(await restarted.SettledAsync<V1Node>(node.Metadata.Name), true);
        Assert.Contains("resumed", restarted.Events.ExpectEvent(EventReasons.DisruptionTerminating, claim.Metadata.Name).Message, StringComparison.Ordinal);
        Assert.NotNull(await restarted.SettledAsync<NodeClaim>(replacement.Metadata.Name));
    }

    [Fact]
    public async Task After_a_restart_a_command_whose_replacement_is_gone_is_cleared_and_its_pods_stay()
    {
        var (claim, node, replacement) = await StartReplaceCommandAsync();
        var pods = await PodNamesAsync(node);

        await using var restarted = await StartAsync(sharing: Env);
        await restarted.DeleteAsync(replacement);
        await DisruptAsync(restarted);

        await ExpectUnmarkedAsync(restarted, claim, node);
        Assert.Equal(pods, await PodNamesAsync(node));
        Assert.Contains("is gone", restarted.Events.ExpectEvent(EventReasons.DisruptionBlocked, claim.Metadata.Name).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_a_restart_a_replacement_that_never_initializes_times_out_from_the_mark()
    {
        var (claim, node, replacement) = await StartReplaceCommandAsync();

        await using var restarted = await StartAsync(sharing: Env);
        Env.Clock.Advance(TimeSpan.FromMinutes(5));
        await DisruptAsync(restarted);
        Assert.True(restarted.Get<ClusterState>().IsMarkedForDeletion(claim.Metadata.Name));

        Env.Clock.Advance(TimeSpan.FromMinutes(6));
        await DisruptAsync(restarted);
        await ExpectUnmarkedAsync(restarted, claim, node);
        Assert.False(restarted.Get<ClusterState>().IsMarkedForDeletion(claim.Metadata.Name));

        // The replacement of the lost command stays: consolidation reclaims it if it is not needed (as upstream).
        Assert.NotNull(await restarted.SettledAsync<NodeClaim>(replacement.Metadata.Name));
    }

    [Fact]
    public async Task A_mark_without_recorded_replacements_is_cleared_with_its_taint()
    {
        // A crash between marking and recording (or a mark left by another Karpenter before the switch).
        await PoolAsync(budget: "0");
        var (claim, node) = await ManagedNodeAsync("fake-it-3");
        await Env.SetStatusAsync(claim, c => c.Status.Conditions = [.. c.Status.Conditions ?? [], new V1Condition { Type = ConditionTypes.DisruptionReason, Status = "True", Reason = "Empty", Message = "Empty", LastTransitionTime = Env.Clock.GetUtcNow().UtcDateTime }]);
        await Env.UpdateAsync(node, n => n.Spec.Taints = [new V1Taint { Key = Taints.DisruptedKey, Effect = Taints.EffectNoSchedule }]);

        await DisruptAsync();

        await ExpectUnmarkedAsync(Env, claim, node);
    }

    [Fact]
    public async Task An_aborted_command_clears_the_mark_it_set()
    {
        var (claim, node, replacement) = await StartReplaceCommandAsync();
        await Env.DeleteAsync(replacement);
        await DisruptAsync();

        await ExpectUnmarkedAsync(Env, claim, node);
    }

    // ------------------------------------------------------------------ helpers

    private static async Task ExpectUnmarkedAsync(ControllerEnvironment env, NodeClaim claim, V1Node node)
    {
        var current = await env.SettledAsync<NodeClaim>(claim.Metadata.Name);
        Assert.NotNull(current);
        Assert.Null(current.Metadata.DeletionTimestamp);
        Assert.Null(ConditionList.Get(current.Status.Conditions, ConditionTypes.DisruptionReason));
        Assert.False(current.Metadata.Annotations?.ContainsKey(Annotations.DisruptionReplacements) == true);
        ExpectDisruptedTaint(await env.SettledAsync<V1Node>(node.Metadata.Name), false);
    }

    private async Task<IReadOnlyList<string>> PodNamesAsync(V1Node node) =>
        [.. (await Env.Client.ListAsync<V1Pod>(new Karpenter.Kube.Client.ListOptions { FieldSelector = $"spec.nodeName={node.Metadata.Name}" })).Items.Select(p => p.Metadata.Name).Order(StringComparer.Ordinal)];
}

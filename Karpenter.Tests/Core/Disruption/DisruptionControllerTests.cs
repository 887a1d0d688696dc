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
public sealed class DisruptionControllerTests : IAsyncLifetime
{
    private ControllerEnvironment _env = null!;
    private IDisposable[] _feeds = [];

    public async Task InitializeAsync()
    {
        _env = await ControllerEnvironment.StartAsync();
        var state = _env.Get<ClusterState>();
        _feeds =
        [
            ClusterStateInformers.Feed<V1Node>(state, _env.Informers, state.UpdateNode, state.DeleteNode),
            ClusterStateInformers.Feed<V1Pod>(state, _env.Informers, state.UpdatePod, state.DeletePod),
        ];
        _env.Informers.Get<V1PodDisruptionBudget>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _env.Informers.WaitForSyncAsync(timeout.Token);
    }

    public async Task DisposeAsync()
    {
        foreach (var feed in _feeds)
        {
            feed.Dispose();
        }

        await _env.DisposeAsync();
    }

    [Fact]
    public async Task An_emptied_node_is_removed_after_consolidateAfter_and_not_before()
    {
        await PoolAsync(consolidateAfter: "30s");
        var (claim, node) = await ManagedNodeAsync("fake-it-3");

        await ExpectConsolidatableAsync(claim, false);
        Assert.Null(await DisruptAsync());

        _env.Clock.Advance(TimeSpan.FromSeconds(31));
        await ExpectConsolidatableAsync(claim, true);
        var command = await DisruptAsync();
        Assert.Equal(DisruptionMethods.Emptiness, command?.Method);
        Assert.NotNull(await _env.GetAsync<NodeClaim>(claim.Metadata.Name));

        // Re-validated 15 s later, then deleted and tainted.
        _env.Clock.Advance(TimeSpan.FromSeconds(15));
        await DisruptAsync();
        Assert.Null(await _env.SettledAsync<NodeClaim>(claim.Metadata.Name));
        ExpectDisruptedTaint(await _env.SettledAsync<V1Node>(node.Metadata.Name), true);
        Assert.Contains("Empty/Delete", _env.Events.ExpectEvent(EventReasons.DisruptionTerminating, claim.Metadata.Name).Message, StringComparison.Ordinal);
        _env.Events.ExpectEvent(EventReasons.DisruptionTerminating, node.Metadata.Name);
    }

    [Fact]
    public async Task A_pod_scheduled_during_validation_cancels_the_command()
    {
        await PoolAsync();
        var (claim, node) = await ManagedNodeAsync("fake-it-3");
        await ExpectConsolidatableAsync(claim, true);
        Assert.NotNull(await DisruptAsync());

        await BoundPodAsync(node, "1", pdbBlocked: false, doNotDisrupt: true);
        _env.Clock.Advance(TimeSpan.FromSeconds(15));
        await DisruptAsync();
        Assert.NotNull(await _env.SettledAsync<NodeClaim>(claim.Metadata.Name));
        ExpectDisruptedTaint(await _env.SettledAsync<V1Node>(node.Metadata.Name), false);
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
        _env.Clock.Advance(TimeSpan.FromSeconds(15));
        await DisruptAsync();

        var replacement = await ExpectReplacementAsync(claim);
        Assert.Equal("fake-it-1", replacement.Spec.Requirements.Single(r => r.Key == Labels.InstanceType).Values![0]);
        Assert.Equal("default", replacement.NodePoolName);
        Assert.NotNull(await _env.SettledAsync<NodeClaim>(claim.Metadata.Name));
        ExpectDisruptedTaint(await _env.SettledAsync<V1Node>(node.Metadata.Name), false);
        _env.Events.ExpectEvent(EventReasons.DisruptionWaitingReadiness, claim.Metadata.Name);

        await _env.SetStatusAsync(replacement, r => r.Status.Conditions = [new V1Condition { Type = ConditionTypes.Initialized, Status = "True", Reason = "Initialized", LastTransitionTime = _env.Clock.GetUtcNow().UtcDateTime }]);
        await DisruptAsync();
        Assert.Null(await _env.SettledAsync<NodeClaim>(claim.Metadata.Name));
        ExpectDisruptedTaint(await _env.SettledAsync<V1Node>(node.Metadata.Name), true);
        var terminating = _env.Events.ExpectEvent(EventReasons.DisruptionTerminating, claim.Metadata.Name);
        Assert.Contains("Underutilized/Replace", terminating.Message, StringComparison.Ordinal);
        Assert.Contains("/h -> ", terminating.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replacement_that_fails_aborts_the_command_and_leaves_the_candidate_untainted()
    {
        await PoolAsync();
        var (claim, node) = await ManagedNodeAsync("fake-it-7");
        await BoundPodAsync(node, "1");
        await ExpectConsolidatableAsync(claim, true);
        await DisruptAsync();
        _env.Clock.Advance(TimeSpan.FromSeconds(15));
        await DisruptAsync();
        var replacement = await ExpectReplacementAsync(claim);
        Assert.True(_env.Get<ClusterState>().IsMarkedForDeletion(claim.Metadata.Name));

        // A stale taint (from a crashed predecessor) is there too: the abort must clear it.
        await _env.UpdateAsync(node, n => n.Spec.Taints = [new V1Taint { Key = Taints.DisruptedKey, Effect = Taints.EffectNoSchedule }]);
        await _env.DeleteAsync(replacement);
        await DisruptAsync();

        Assert.NotNull(await _env.SettledAsync<NodeClaim>(claim.Metadata.Name));
        ExpectDisruptedTaint(await _env.SettledAsync<V1Node>(node.Metadata.Name), false);
        Assert.False(_env.Get<ClusterState>().IsMarkedForDeletion(claim.Metadata.Name));
        Assert.Contains("aborted", _env.Events.ExpectEvent(EventReasons.DisruptionBlocked, claim.Metadata.Name).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replacement_that_never_initializes_times_out_and_aborts()
    {
        await PoolAsync();
        var (claim, node) = await ManagedNodeAsync("fake-it-7");
        await BoundPodAsync(node, "1");
        await ExpectConsolidatableAsync(claim, true);
        await DisruptAsync();
        _env.Clock.Advance(TimeSpan.FromSeconds(15));
        await DisruptAsync();
        await ExpectReplacementAsync(claim);

        _env.Clock.Advance(TimeSpan.FromMinutes(11));
        await DisruptAsync();
        Assert.NotNull(await _env.SettledAsync<NodeClaim>(claim.Metadata.Name));
        Assert.False(_env.Get<ClusterState>().IsMarkedForDeletion(claim.Metadata.Name));
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
        Assert.Contains(doNotDisrupt ? Annotations.DoNotDisrupt : "pdb", _env.Events.ExpectEvent(EventReasons.DisruptionBlocked, node.Metadata.Name).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_disrupted_taint_no_command_owns_is_cleared()
    {
        await PoolAsync(budget: "0");
        var (_, node) = await ManagedNodeAsync("fake-it-3");
        await _env.UpdateAsync(node, n => n.Spec.Taints = [new V1Taint { Key = Taints.DisruptedKey, Effect = Taints.EffectNoSchedule }]);
        await DisruptAsync();
        ExpectDisruptedTaint(await _env.SettledAsync<V1Node>(node.Metadata.Name), false);
    }

    [Fact]
    public async Task A_budget_of_zero_blocks_all_graceful_disruption()
    {
        await PoolAsync(budget: "0");
        var (claim, _) = await ManagedNodeAsync("fake-it-3");
        await ExpectConsolidatableAsync(claim, true);
        Assert.Null(await DisruptAsync());
    }

    [Fact]
    public async Task The_last_pod_event_restarts_the_consolidateAfter_wait()
    {
        await PoolAsync(consolidateAfter: "1m");
        var (claim, node) = await ManagedNodeAsync("fake-it-3");
        _env.Clock.Advance(TimeSpan.FromSeconds(50));
        var pod = await BoundPodAsync(node, "1");
        await _env.ReconcileObjectAsync<V1Pod, PodEventsController>(pod);
        _env.Clock.Advance(TimeSpan.FromSeconds(20));
        await ExpectConsolidatableAsync(claim, false);
        _env.Clock.Advance(TimeSpan.FromSeconds(45));
        await ExpectConsolidatableAsync(claim, true);
    }

    // ------------------------------------------------------------------ helpers

    private async Task PoolAsync(string consolidateAfter = "0s", string budget = "100%")
    {
        var pool = await _env.CreateAsync(ControllerEnvironment.NodePool("default", configure: p =>
            p.Spec.Disruption = new Karpenter.Entities.V1.Disruption { ConsolidateAfter = consolidateAfter, Budgets = [new Budget { Nodes = budget }] }));

        // Replacements launch only from a Ready NodePool, as provisioning does.
        await _env.SetStatusAsync(pool, p => p.Status.Conditions = [new V1Condition { Type = ConditionTypes.Ready, Status = "True", Reason = "Ready", Message = "ready", LastTransitionTime = _env.Clock.GetUtcNow().UtcDateTime }]);
    }

    private async Task<(NodeClaim Claim, V1Node Node)> ManagedNodeAsync(string type)
    {
        var nodeName = _env.NewName("node");
        var providerId = $"fake:///{FakeInstanceTypes.Zones[0]}/{nodeName}";
        var instanceType = _env.Cloud.Inner.InstanceTypes.Single(t => t.Name == type);
        var labels = new Dictionary<string, string>
        {
            [Labels.NodePool] = "default",
            [Labels.InstanceType] = type,
            [Labels.CapacityType] = CapacityTypes.OnDemand,
            [Labels.TopologyZone] = FakeInstanceTypes.Zones[0],
            [Labels.Hostname] = nodeName,
            [Labels.NodeInitialized] = "true",
            [Labels.Os] = "linux",
            [Labels.Arch] = "amd64",
        };
        var claim = await _env.CreateAsync(ControllerEnvironment.NodeClaim(_env.NewName("claim"), configure: c => c.Metadata.Labels = new Dictionary<string, string>(labels)));
        claim = await _env.SetStatusAsync(claim, c =>
        {
            c.Status.NodeName = nodeName;
            c.Status.ProviderId = providerId;
            c.Status.Conditions = [new V1Condition { Type = ConditionTypes.Initialized, Status = "True", Reason = "Initialized", LastTransitionTime = _env.Clock.GetUtcNow().UtcDateTime }];
        });
        var node = await _env.CreateAsync(new V1Node { Metadata = new V1ObjectMeta { Name = nodeName, Labels = labels }, Spec = new V1NodeSpec { ProviderID = providerId } });
        node = await _env.SetStatusAsync(node, n => n.Status = new V1NodeStatus
        {
            Allocatable = instanceType.Allocatable.ToList(),
            Capacity = instanceType.Capacity.ToList(),
            Conditions = [new V1NodeCondition { Type = "Ready", Status = "True" }],
        });
        return (claim, node);
    }

    private async Task<V1Pod> BoundPodAsync(V1Node node, string cpu, bool pdbBlocked = false, bool doNotDisrupt = false)
    {
        var name = _env.NewName("pod");
        if (pdbBlocked)
        {
            await _env.CreateAsync(new V1PodDisruptionBudget
            {
                Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
                Spec = new V1PodDisruptionBudgetSpec { MaxUnavailable = 0, Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } } },
            });
        }

        var pod = DisruptionFixture.Pod(cpu: cpu, labels: new Dictionary<string, string> { ["app"] = name },
            annotations: doNotDisrupt ? new Dictionary<string, string> { [Annotations.DoNotDisrupt] = "true" } : null);
        pod.Metadata.Name = name;
        pod.Metadata.Uid = null;
        pod.Spec.NodeName = node.Metadata.Name;
        pod.Spec.Containers[0].Image = "app:1";
        return await _env.CreateAsync(pod);
    }

    private async Task ExpectConsolidatableAsync(NodeClaim claim, bool expected)
    {
        await _env.ReconcileAsync<ConsolidatableController>(claim);
        var current = await _env.SettledAsync<NodeClaim>(claim.Metadata.Name);
        Assert.Equal(expected, current!.IsConditionTrue(ConditionTypes.Consolidatable));
    }

    /// <summary>One pass of the disruption loop; returns the command it decided (or is validating), if any.</summary>
    private async Task<Command?> DisruptAsync()
    {
        var controller = _env.Get<DisruptionController>();
        var before = controller.PendingCommand;
        await controller.ReconcileAsync(CancellationToken.None);
        return controller.PendingCommand ?? before;
    }

    private async Task<NodeClaim> ExpectReplacementAsync(NodeClaim candidate)
    {
        var replacement = (await _env.Client.ListAsync<NodeClaim>()).Items.SingleOrDefault(c => c.Metadata.Name != candidate.Metadata.Name)
            ?? throw new Xunit.Sdk.XunitException("no replacement NodeClaim was created");
        return await _env.CachedAsync(replacement);
    }

    private static void ExpectDisruptedTaint(V1Node? node, bool expected)
    {
        Assert.NotNull(node);
        Assert.Equal(expected, node.Spec?.Taints?.Any(DisruptionOrchestrator.IsDisrupted) == true);
    }
}

using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Disruption;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Core.Disruption;

/// <summary>
/// What consolidation's simulations take into account (pending pods, pods of deleting nodes) and how our multi-node
/// search chooses which nodes to remove, against upstream's prefix search.
/// </summary>
public sealed class ConsolidationSearchTests
{
    private DisruptionFixture _cluster = new();
    private readonly DisruptionOptions _options = new();

    private Consolidator Consolidator => new(new Scheduler(), new FakeTimeProvider(DisruptionFixture.Start), _options);

    [Fact]
    public void Two_half_empty_nodes_lose_one_when_nothing_is_pending()
    {
        TwoHalfEmptyNodes();
        var command = ExpectCommand(MultiNode());
        Assert.Equal(DisruptionDecision.Delete, command.Decision);
        Assert.Single(command.Candidates);
    }

    [Theory]
    [InlineData(MultiNodeSearch.Packing)]
    [InlineData(MultiNodeSearch.PrefixBinarySearch)]
    public void A_pending_pod_keeps_the_capacity_it_needs(MultiNodeSearch search)
    {
        // Either node could go, but then the pending pod (or the moved one) would not fit: only a replacement may happen.
        _options.MultiNodeSearch = search;
        TwoHalfEmptyNodes();
        var pending = DisruptionFixture.Pod(cpu: "2");
        _cluster.Pending.Add(pending);
        var command = MultiNode();
        Assert.True(command is null || command.Decision == DisruptionDecision.Replace, $"expected no plain delete, got {command}");
        Assert.NotEqual(DisruptionDecision.Delete, SingleNode().Command?.Decision);
    }

    [Fact]
    public void A_pending_pod_that_fits_nowhere_does_not_block_consolidation()
    {
        TwoHalfEmptyNodes();
        var pending = DisruptionFixture.Pod(cpu: "100m");
        pending.Spec.NodeSelector = new Dictionary<string, string> { ["no-such-label"] = "true" };
        _cluster.Pending.Add(pending);
        Assert.Equal(DisruptionDecision.Delete, ExpectCommand(MultiNode()).Decision);
    }

    [Fact]
    public void Pods_of_a_deleting_node_take_their_room_first()
    {
        // What the snapshot builder adds for a node being deleted: its pods wait for capacity like pending pods.
        TwoHalfEmptyNodes();
        var leaving = _cluster.Node("fake-it-3", pods: [DisruptionFixture.Pod(cpu: "2")]);
        _cluster.Pending.AddRange(leaving.Pods);
        var snapshot = _cluster.Snapshot(marked: [leaving.Name]);
        var command = Consolidator.MultiNode(snapshot, Candidates.Build(snapshot, DisruptionClass.Graceful).Candidates, CancellationToken.None);
        Assert.True(command is null || command.Decision == DisruptionDecision.Replace, $"expected no plain delete, got {command}");
    }

    [Fact]
    public void Ours_removes_the_nodes_that_can_go_where_upstreams_prefix_stops_at_the_first_that_cannot()
    {
        // Cheapest to disrupt first (upstream's order) puts the full nodes, whose single pod fits nowhere else, first;
        // with 4-cpu types at most, no one replacement can take them either.
        _cluster = new DisruptionFixture(FakeInstanceTypes.Synthetic(4));
        var full = Enumerable.Range(0, 3).Select(_ => _cluster.Node("fake-it-3", pods: [DisruptionFixture.Pod(cpu: "3800m", memory: "1Gi")])).ToList();
        var light = Enumerable.Range(0, 4).Select(_ => _cluster.Node("fake-it-3", pods: [DisruptionFixture.Pod(cpu: "200m", memory: "256Mi"), DisruptionFixture.Pod(cpu: "200m", memory: "256Mi")])).ToList();

        _options.MultiNodeSearch = MultiNodeSearch.PrefixBinarySearch;
        Assert.Null(MultiNode());

        _options.MultiNodeSearch = MultiNodeSearch.Packing;
        var command = ExpectCommand(MultiNode());
        Assert.Equal(DisruptionDecision.Delete, command.Decision);
        Assert.Equal(3, command.Candidates.Count);
        Assert.All(command.Candidates, c => Assert.Contains(c.Name, light.Select(l => l.Name)));
        Assert.DoesNotContain(command.Candidates, c => full.Any(f => f.Name == c.Name));
    }

    [Fact]
    public void Our_search_takes_no_more_nodes_than_the_budget_allows()
    {
        _cluster.AddPool("default", budget: "2");
        for (var i = 0; i < 6; i++)
        {
            _cluster.Node("fake-it-3", pods: [DisruptionFixture.Pod(cpu: "200m", memory: "256Mi")]);
        }

        Assert.Equal(2, ExpectCommand(MultiNode()).Candidates.Count);
    }

    [Fact]
    public void Our_search_takes_no_empty_node_when_the_Empty_budget_is_spent()
    {
        _cluster.Pools["default"].Spec.Disruption.Budgets = [new Budget { Nodes = "0", Reasons = [DisruptionReason.Empty] }, new Budget { Nodes = "100%" }];
        for (var i = 0; i < 3; i++)
        {
            _cluster.Node("fake-it-3");
        }

        // Neither busy node can take the other's pod: only the empty nodes could simply go, and their budget is spent.
        _cluster.Node("fake-it-3", pods: [DisruptionFixture.Pod(cpu: "2500m")]);
        _cluster.Node("fake-it-3", pods: [DisruptionFixture.Pod(cpu: "2500m")]);
        var command = MultiNode();
        Assert.True(command is null || (command.Reason == DisruptionReason.Underutilized && command.Candidates.All(c => c.ReschedulablePods.Count > 0)), $"got {command}");
    }

    [Fact]
    public void A_node_whose_pods_fit_nowhere_is_left_out_of_a_multi_node_command_never_half_disrupted()
    {
        // The model cannot see the pinned pod's selector; the real scheduler can, and the node is dropped from the set.
        var pinned = _cluster.Node("fake-it-3", pods: [Pinned("node-1")]);
        var a = _cluster.Node("fake-it-3", pods: [DisruptionFixture.Pod(cpu: "1500m")]);
        var b = _cluster.Node("fake-it-3", pods: [DisruptionFixture.Pod(cpu: "1500m")]);
        Assert.Equal("node-1", pinned.NodeName);

        var command = ExpectCommand(MultiNode());
        Assert.DoesNotContain(command.Candidates, c => c.Name == pinned.Name);
        Assert.Contains(Assert.Single(command.Candidates).Name, new[] { a.Name, b.Name });

        var consolidator = Consolidator;
        var snapshot = _cluster.Snapshot();
        var onlyPinned = Candidates.Build(snapshot, DisruptionClass.Graceful).Candidates.Where(c => c.Name == pinned.Name).ToList();
        Assert.Null(consolidator.SingleNode(snapshot, onlyPinned, CancellationToken.None).Command);
        Assert.Contains("not all pods would schedule", Assert.Single(consolidator.Unconsolidatable).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_packing_model_is_deterministic_and_every_prefix_of_its_set_is_feasible()
    {
        for (var i = 0; i < 12; i++)
        {
            _cluster.Node(i % 2 == 0 ? "fake-it-3" : "fake-it-7", pods: Enumerable.Range(0, 1 + (i % 4)).Select(_ => DisruptionFixture.Pod(cpu: "500m", memory: "512Mi")));
        }

        var snapshot = _cluster.Snapshot();
        var candidates = Consolidator.ConsolidationCandidates(Candidates.Build(snapshot, DisruptionClass.Graceful).Candidates);
        var first = PackingSearch.Choose(snapshot, candidates);
        var second = PackingSearch.Choose(snapshot, candidates);
        Assert.Equal(first.Removed.Select(c => c.Name), second.Removed.Select(c => c.Name));
        Assert.NotEmpty(first.Removed);
        Assert.Equal(first.Removed.Sum(c => c.Price), first.Savings);

        var consolidator = Consolidator;
        for (var n = 1; n <= first.Removed.Count; n++)
        {
            var outcome = consolidator.Compute(snapshot, [.. first.Removed.Take(n)], DisruptionMethods.MultiNodeConsolidation, CancellationToken.None);
            Assert.True(outcome.Command is { Decision: DisruptionDecision.Delete }, $"prefix of {n}: {outcome.Reason}");
        }
    }

    private void TwoHalfEmptyNodes()
    {
        _cluster.Node("fake-it-3", pods: [DisruptionFixture.Pod(cpu: "1500m")]);
        _cluster.Node("fake-it-3", pods: [DisruptionFixture.Pod(cpu: "1500m")]);
    }

    private static k8s.Models.V1Pod Pinned(string node)
    {
        var pod = DisruptionFixture.Pod(cpu: "1");
        pod.Spec.NodeSelector = new Dictionary<string, string> { [Labels.Hostname] = node };
        return pod;
    }

    private Command? MultiNode()
    {
        var snapshot = _cluster.Snapshot();
        return Consolidator.MultiNode(snapshot, Candidates.Build(snapshot, DisruptionClass.Graceful).Candidates, CancellationToken.None);
    }

    private ConsolidationOutcome SingleNode()
    {
        var snapshot = _cluster.Snapshot();
        return Consolidator.SingleNode(snapshot, Candidates.Build(snapshot, DisruptionClass.Graceful).Candidates, CancellationToken.None);
    }

    private static Command ExpectCommand(Command? command) => command ?? throw new Xunit.Sdk.XunitException("expected a disruption command, got none");
}

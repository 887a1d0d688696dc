using k8s.Models;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Disruption;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Core.Disruption;

public sealed class ConsolidatorTests
{
    private readonly DisruptionFixture _cluster = new();
    private readonly DisruptionOptions _options = new();

    private Consolidator Consolidator => new(new Scheduler(), new FakeTimeProvider(DisruptionFixture.Start), _options);

    [Fact]
    public void An_empty_consolidatable_node_is_deleted()
    {
        var empty = _cluster.Node("fake-it-3");
        _cluster.Node("fake-it-3", pods: [DisruptionFixture.Pod()]);
        var command = ExpectCommand(Emptiness());
        Assert.Equal(DisruptionDecision.Delete, command.Decision);
        Assert.Equal(DisruptionReason.Empty, command.Reason);
        Assert.Equal([empty.Name], command.Candidates.Select(c => c.Name));
    }

    [Fact]
    public void An_empty_node_is_not_deleted_before_it_is_consolidatable()
    {
        _cluster.Node("fake-it-3", consolidatable: false);
        Assert.Null(Emptiness());
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("1", 1)]
    [InlineData("2", 2)]
    public void Emptiness_deletes_only_as_many_nodes_as_the_budget_allows(string budget, int expected)
    {
        _cluster.AddPool("default", budget: budget);
        for (var i = 0; i < 4; i++)
        {
            _cluster.Node("fake-it-3");
        }

        Assert.Equal(expected, Emptiness()?.Candidates.Count ?? 0);
    }

    [Fact]
    public void Two_half_empty_nodes_are_consolidated_into_one()
    {
        var a = _cluster.Node("fake-it-3", pods: [DisruptionFixture.Pod(cpu: "1500m")]);
        var b = _cluster.Node("fake-it-3", pods: [DisruptionFixture.Pod(cpu: "1500m")]);
        var snapshot = _cluster.Snapshot();
        var command = ExpectCommand(Consolidator.MultiNode(snapshot, Candidates.Build(snapshot, DisruptionClass.Graceful).Candidates, CancellationToken.None));
        Assert.Equal(DisruptionDecision.Delete, command.Decision);
        var gone = Assert.Single(command.Candidates);
        Assert.Contains(gone.Name, new[] { a.Name, b.Name });
        Assert.Equal(DisruptionReason.Underutilized, command.Reason);
    }

    [Fact]
    public void A_cheaper_replacement_is_chosen_when_only_replacement_helps()
    {
        var big = _cluster.Node("fake-it-7", pods: [DisruptionFixture.Pod(cpu: "1")]);
        var command = ExpectCommand(SingleNode().Command);
        Assert.Equal(DisruptionDecision.Replace, command.Decision);
        Assert.Equal(big.Name, Assert.Single(command.Candidates).Name);
        var replacement = Assert.Single(command.Replacements);
        Assert.Equal("fake-it-1", replacement.InstanceTypes[0].Name);
        Assert.True(command.PriceAfter < command.PriceBefore, $"{command.PriceAfter} < {command.PriceBefore}");
        Assert.All(replacement.InstanceTypes, t => Assert.True(Consolidator.WorstLaunchPrice(t, replacement.Requirements) < command.PriceBefore));
        // Priced as spot, it must not fall back to on-demand.
        Assert.Equal([CapacityTypes.Spot], replacement.Requirements.Get(Labels.CapacityType).Values);
    }

    [Fact]
    public void A_node_that_is_already_the_cheapest_fit_is_left_alone()
    {
        _cluster.Node("fake-it-1", pods: [DisruptionFixture.Pod(cpu: "1500m")]);
        var outcome = SingleNode();
        Assert.Null(outcome.Command);
        // Upstream's Unconsolidatable message, word for word.
        Assert.Equal("Can't replace with a cheaper node", outcome.Reason);
    }

    [Fact]
    public void Spot_to_spot_consolidation_is_off_unless_enabled()
    {
        _cluster.Node("fake-it-7", capacityType: CapacityTypes.Spot, pods: [DisruptionFixture.Pod(cpu: "1")]);
        var consolidator = Consolidator;
        var snapshot = _cluster.Snapshot();
        var outcome = consolidator.SingleNode(snapshot, Candidates.Build(snapshot, DisruptionClass.Graceful).Candidates, CancellationToken.None);
        Assert.Null(outcome.Command);
        // Upstream's Unconsolidatable message, word for word.
        Assert.Equal("SpotToSpotConsolidation is disabled, can't replace a spot node with a spot node", Assert.Single(consolidator.Unconsolidatable).Reason);
    }

    [Fact]
    public void Spot_nodes_are_merged_into_one_cheaper_spot_node_only_with_the_gate_and_with_no_fifteen_type_floor()
    {
        // Two spot nodes whose pods do not fit on either one: only a new node can take both (fewer than 15 cheaper types).
        _cluster.Node("fake-it-3", capacityType: CapacityTypes.Spot, pods: [DisruptionFixture.Pod(cpu: "2500m")]);
        _cluster.Node("fake-it-3", capacityType: CapacityTypes.Spot, pods: [DisruptionFixture.Pod(cpu: "2500m")]);
        var snapshot = _cluster.Snapshot();
        var candidates = Candidates.Build(snapshot, DisruptionClass.Graceful).Candidates;
        Assert.Null(Consolidator.MultiNode(snapshot, candidates, CancellationToken.None));

        _options.SpotToSpotConsolidation = true;
        var command = ExpectCommand(Consolidator.MultiNode(snapshot, candidates, CancellationToken.None));
        Assert.Equal(DisruptionDecision.Replace, command.Decision);
        Assert.Equal(2, command.Candidates.Count);
        var replacement = Assert.Single(command.Replacements);
        Assert.Equal([CapacityTypes.Spot], replacement.Requirements.Get(Labels.CapacityType).Values);
        Assert.InRange(replacement.InstanceTypes.Count, 1, 14);
        Assert.All(replacement.InstanceTypes, t => Assert.True(Consolidator.WorstLaunchPrice(t, replacement.Requirements) < command.PriceBefore));
    }

    [Fact]
    public void Single_node_spot_to_spot_sends_as_many_types_as_min_values_needs_when_more_than_fifteen()
    {
        _options.SpotToSpotConsolidation = true;
        var many = new DisruptionFixture(FakeInstanceTypes.Synthetic(40));
        many.PoolRequirements["default"] = new Requirements(Requirement.Create(Labels.InstanceType, "Exists", null, 20, out _)!);
        many.Node("fake-it-30", capacityType: CapacityTypes.Spot, pods: [DisruptionFixture.Pod(cpu: "1")]);
        var command = ExpectCommand(Consolidator.SingleNode(many.Snapshot(), Candidates.Build(many.Snapshot(), DisruptionClass.Graceful).Candidates, CancellationToken.None).Command);
        Assert.Equal(20, Assert.Single(command.Replacements).InstanceTypes.Count);
    }

    [Fact]
    public void Several_nodes_are_not_replaced_by_a_node_no_cheaper_than_one_of_them_of_the_same_type()
    {
        // fake-it-3 (4 CPUs) is the cheapest type for both pods: replacing both nodes by a fake-it-3 costs what deleting the
        // fake-it-7 alone does and moves more pods, so upstream (filterOutSameType) refuses it.
        var big = _cluster.Node("fake-it-7", pods: [DisruptionFixture.Pod(cpu: "2")]);
        var small = _cluster.Node("fake-it-3", pods: [DisruptionFixture.Pod(cpu: "1500m")]);
        var snapshot = _cluster.Snapshot();
        var candidates = Candidates.Build(snapshot, DisruptionClass.Graceful).Candidates;
        var both = candidates.Where(c => c.Name == big.Name || c.Name == small.Name).ToList();
        var outcome = Consolidator.Compute(snapshot, both, DisruptionMethods.MultiNodeConsolidation, CancellationToken.None);
        Assert.Null(outcome.Command);
        Assert.Contains("cheaper", outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Single_node_spot_to_spot_needs_fifteen_cheaper_spot_types_and_sends_only_fifteen()
    {
        _options.SpotToSpotConsolidation = true;
        var few = new DisruptionFixture();
        few.Node("fake-it-7", capacityType: CapacityTypes.Spot, pods: [DisruptionFixture.Pod(cpu: "1")]);
        var fewOutcome = Consolidator.SingleNode(few.Snapshot(), Candidates.Build(few.Snapshot(), DisruptionClass.Graceful).Candidates, CancellationToken.None);
        Assert.Null(fewOutcome.Command);
        Assert.Contains("requires 15 cheaper instance type options", fewOutcome.Reason, StringComparison.Ordinal);

        var many = new DisruptionFixture(FakeInstanceTypes.Synthetic(40));
        many.Node("fake-it-30", capacityType: CapacityTypes.Spot, pods: [DisruptionFixture.Pod(cpu: "1")]);
        var command = ExpectCommand(Consolidator.SingleNode(many.Snapshot(), Candidates.Build(many.Snapshot(), DisruptionClass.Graceful).Candidates, CancellationToken.None).Command);
        Assert.Equal(15, Assert.Single(command.Replacements).InstanceTypes.Count);
    }

    [Fact]
    public void A_candidate_whose_pods_fit_nowhere_is_skipped_with_a_reason()
    {
        var pod = DisruptionFixture.Pod(cpu: "1");
        pod.Spec.NodeSelector = new Dictionary<string, string> { ["only-here"] = "true" };
        _cluster.Node("fake-it-7", pods: [pod], customize: (_, node) => node.Metadata.Labels["only-here"] = "true");
        var consolidator = Consolidator;
        var snapshot = _cluster.Snapshot();
        var outcome = consolidator.SingleNode(snapshot, Candidates.Build(snapshot, DisruptionClass.Graceful).Candidates, CancellationToken.None);
        Assert.Null(outcome.Command);
        Assert.Contains("not all pods would schedule", Assert.Single(consolidator.Unconsolidatable).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void WhenEmpty_policy_never_moves_pods()
    {
        _cluster.AddPool("default", policy: ConsolidationPolicy.WhenEmpty);
        _cluster.Node("fake-it-7", pods: [DisruptionFixture.Pod(cpu: "1")]);
        Assert.Null(SingleNode().Command);
    }

    [Fact]
    public void Balanced_policy_refuses_a_move_whose_savings_do_not_justify_the_disruption()
    {
        // Ten full nodes; replacing the lightest 3-cpu node by a 2-cpu one saves a third of a node but moves ten pods.
        _cluster.AddPool("default", policy: ConsolidationPolicy.Balanced);
        var pods = Enumerable.Range(0, 10).Select(_ => DisruptionFixture.Pod(cpu: "150m", memory: "100Mi")).ToList();
        var light = _cluster.Node("fake-it-2", pods: pods);
        for (var i = 0; i < 9; i++)
        {
            _cluster.Node("fake-it-2", pods: [.. Enumerable.Range(0, 10).Select(_ => DisruptionFixture.Pod(cpu: "280m", memory: "200Mi"))]);
        }

        var consolidator = Consolidator;
        var snapshot = _cluster.Snapshot();
        Assert.Null(consolidator.SingleNode(snapshot, Candidates.Build(snapshot, DisruptionClass.Graceful).Candidates, CancellationToken.None).Command);
        Assert.Contains("Balanced", consolidator.Unconsolidatable.Single(u => u.Candidate.Name == light.Name).Reason, StringComparison.Ordinal);

        _cluster.AddPool("default", policy: ConsolidationPolicy.WhenEmptyOrUnderutilized);
        Assert.NotNull(SingleNode().Command);
    }

    [Fact]
    public void Drift_replaces_one_drifted_node_per_command_and_deletes_empty_ones_first()
    {
        _cluster.AddPool("default", budget: "1");
        var drifted = _cluster.Node("fake-it-3", pods: [DisruptionFixture.Pod()], customize: Drifted);
        _cluster.Node("fake-it-3", pods: [DisruptionFixture.Pod()], customize: Drifted);
        var snapshot = _cluster.Snapshot();
        var outcome = Consolidator.Drift(snapshot, Candidates.Build(snapshot, DisruptionClass.Eventual).Candidates, CancellationToken.None);
        var command = ExpectCommand(outcome.Command);
        Assert.Equal(DisruptionReason.Drifted, command.Reason);
        Assert.Equal(drifted.Name, Assert.Single(command.Candidates).Name);

        var emptyDrifted = _cluster.Node("fake-it-3", customize: Drifted);
        snapshot = _cluster.Snapshot();
        command = ExpectCommand(Consolidator.Drift(snapshot, Candidates.Build(snapshot, DisruptionClass.Eventual).Candidates, CancellationToken.None).Command);
        Assert.Equal(DisruptionDecision.Delete, command.Decision);
        Assert.Equal(emptyDrifted.Name, Assert.Single(command.Candidates).Name);
    }

    [Fact]
    public void A_budget_of_zero_blocks_drift()
    {
        _cluster.AddPool("default", budget: "0");
        _cluster.Node("fake-it-3", pods: [DisruptionFixture.Pod()], customize: Drifted);
        var snapshot = _cluster.Snapshot();
        var outcome = Consolidator.Drift(snapshot, Candidates.Build(snapshot, DisruptionClass.Eventual).Candidates, CancellationToken.None);
        Assert.Null(outcome.Command);
        Assert.Contains("budget", outcome.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Upstream_search_considers_at_most_a_hundred_candidates_ours_all()
    {
        for (var i = 0; i < 130; i++)
        {
            _cluster.Node("fake-it-1");
        }

        var snapshot = _cluster.Snapshot();
        var candidates = Candidates.Build(snapshot, DisruptionClass.Graceful).Candidates;
        _options.MultiNodeSearch = MultiNodeSearch.PrefixBinarySearch;
        Assert.Equal(100, ExpectCommand(Consolidator.MultiNode(snapshot, candidates, CancellationToken.None)).Candidates.Count);
        _options.MultiNodeSearch = MultiNodeSearch.Packing;
        Assert.Equal(130, ExpectCommand(Consolidator.MultiNode(snapshot, candidates, CancellationToken.None)).Candidates.Count);
    }

    private static void Drifted(NodeClaim claim, V1Node node) =>
        claim.Status.Conditions!.Add(new V1Condition { Type = ConditionTypes.Drifted, Status = "True", Reason = "NodePoolDrifted", LastTransitionTime = DisruptionFixture.Start.UtcDateTime.AddMinutes(-claim.Status.Conditions.Count) });

    private Command? Emptiness()
    {
        var snapshot = _cluster.Snapshot();
        return Consolidator.Emptiness(snapshot, Candidates.Build(snapshot, DisruptionClass.Graceful).Candidates);
    }

    private ConsolidationOutcome SingleNode()
    {
        var snapshot = _cluster.Snapshot();
        return Consolidator.SingleNode(snapshot, Candidates.Build(snapshot, DisruptionClass.Graceful).Candidates, CancellationToken.None);
    }

    private static Command ExpectCommand(Command? command) => command ?? throw new Xunit.Sdk.XunitException("expected a disruption command, got none");
}

using k8s.Models;
using Karpenter.Core.Disruption;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Tests.Core.Disruption;

public sealed class CandidatesTests
{
    private readonly DisruptionFixture _cluster = new();

    [Fact]
    public void An_initialized_managed_node_is_a_candidate_with_its_price_and_reschedulable_pods()
    {
        var daemon = DisruptionFixture.Pod();
        daemon.Metadata.OwnerReferences = [new V1OwnerReference { Kind = "DaemonSet", Name = "ds", ApiVersion = "apps/v1", Uid = "ds" }];
        var app = DisruptionFixture.Pod();
        _cluster.Node("fake-it-3", pods: [app, daemon]);

        var candidate = Assert.Single(ExpectCandidates(DisruptionClass.Graceful));
        Assert.Equal("fake-it-3", candidate.InstanceType.Name);
        Assert.Equal(_cluster.Types.Single(t => t.Name == "fake-it-3").Offerings[0].Price, candidate.Price);
        Assert.Equal([app], candidate.ReschedulablePods);
        Assert.Equal(1.0, candidate.DisruptionCost, 2);
    }

    [Fact]
    public void Uninitialized_deleting_marked_and_unmanaged_nodes_are_not_candidates()
    {
        _cluster.Node("fake-it-1", initialized: false);
        _cluster.Node("fake-it-1", customize: (claim, _) => claim.Metadata.DeletionTimestamp = DisruptionFixture.Start.UtcDateTime);
        var marked = _cluster.Node("fake-it-1");
        _cluster.Node("fake-it-1", pool: "unknown");
        var (candidates, rejected) = Candidates.Build(_cluster.Snapshot(marked: [marked.Name]), DisruptionClass.Graceful);
        Assert.Empty(candidates);
        Assert.Equal(4, rejected.Count);
        Assert.All(rejected, r => Assert.False(r.Publish));
    }

    [Theory]
    [InlineData("node")]
    [InlineData("nodeclaim")]
    public void Do_not_disrupt_on_the_node_or_NodeClaim_holds_it(string where)
    {
        _cluster.Node("fake-it-1", customize: (claim, node) =>
            (where == "node" ? node.Metadata : claim.Metadata).Annotations = new Dictionary<string, string> { [Annotations.DoNotDisrupt] = "true" });
        var rejection = Assert.Single(Candidates.Build(_cluster.Snapshot(), DisruptionClass.Graceful).Rejected);
        Assert.Contains(Annotations.DoNotDisrupt, rejection.Message, StringComparison.Ordinal);
        Assert.True(rejection.Publish);
    }

    [Theory]
    [InlineData("true", 0, false)]
    [InlineData("10m", 5, false)]   // started 5 minutes ago: still protected
    [InlineData("10m", 11, true)]   // protection over
    [InlineData("soon", 0, true)]   // not a duration: ignored
    public void A_do_not_disrupt_pod_holds_its_node_including_the_duration_form(string value, int startedMinutesAgo, bool candidate)
    {
        var pod = DisruptionFixture.Pod(annotations: new Dictionary<string, string> { [Annotations.DoNotDisrupt] = value });
        pod.Status = new V1PodStatus { Phase = "Running", StartTime = _cluster.Now.UtcDateTime.AddMinutes(-startedMinutesAgo) };
        _cluster.Node("fake-it-1", pods: [pod]);
        Assert.Equal(candidate ? 1 : 0, ExpectCandidates(DisruptionClass.Graceful).Count);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    public void A_PDB_that_allows_no_disruption_holds_the_node(int allowed, bool candidate)
    {
        _cluster.Pdb(new Dictionary<string, string> { ["app"] = "db" }, allowed);
        _cluster.Node("fake-it-1", pods: [DisruptionFixture.Pod(labels: new Dictionary<string, string> { ["app"] = "db" })]);
        Assert.Equal(candidate ? 1 : 0, ExpectCandidates(DisruptionClass.Graceful).Count);
    }

    [Fact]
    public void Drift_of_a_NodeClaim_with_a_termination_grace_period_ignores_pod_blocks()
    {
        _cluster.Pdb(new Dictionary<string, string> { ["app"] = "db" }, 0);
        _cluster.Node("fake-it-1", pods: [DisruptionFixture.Pod(labels: new Dictionary<string, string> { ["app"] = "db" })], customize: (claim, _) => claim.Spec.TerminationGracePeriod = "1h");
        Assert.Empty(ExpectCandidates(DisruptionClass.Graceful));
        Assert.Single(ExpectCandidates(DisruptionClass.Eventual));
    }

    [Fact]
    public void Disruption_cost_grows_with_priority_and_deletion_cost_and_shrinks_with_remaining_lifetime()
    {
        var important = DisruptionFixture.Pod(annotations: new Dictionary<string, string> { [Candidates.PodDeletionCostAnnotation] = "134217728" }); // 2^27
        important.Spec.Priority = 1 << 25;
        Assert.Equal(3.0, Candidates.PodCost(important), 6);

        _cluster.Node("fake-it-1", pods: [DisruptionFixture.Pod()], customize: (claim, _) => claim.Metadata.CreationTimestamp = _cluster.Now.UtcDateTime.AddHours(-540));
        Assert.Equal(0.25, Assert.Single(ExpectCandidates(DisruptionClass.Graceful)).DisruptionCost, 3);
    }

    private List<Candidate> ExpectCandidates(DisruptionClass disruptionClass) => Candidates.Build(_cluster.Snapshot(), disruptionClass).Candidates;
}

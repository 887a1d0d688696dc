using k8s.Models;
using Karpenter.Core.Scheduling;
using static Karpenter.Tests.Core.Scheduling.SchedulingFixture;

namespace Karpenter.Tests.Core.Scheduling;

/// <summary>
/// Pods re-solved once their nominations expire, while the NodeClaims made for them are still in flight (sized for
/// exactly their pods): each goes back where it was nominated, and nothing new is bought.
/// </summary>
public sealed class InFlightReplanTests
{
    /// <summary>
    /// The default scenario's first scale-up as the simulator's trace showed it: six NodeClaims pinned to a zone, each
    /// for one spread <c>api</c> pod (500m/1Gi) and one <c>web</c> pod (250m/256Mi), and one for four more <c>web</c>
    /// pods in any zone; 150m of DaemonSets on each. First fit in queue order puts an <c>api</c> pod on the NodeClaim
    /// sized for four <c>web</c> pods, and three of those no longer fit anywhere.
    /// </summary>
    [Fact]
    public void Pods_go_back_onto_the_in_flight_NodeClaims_they_were_nominated_to()
    {
        string[] zones = ["test-zone-1", "test-zone-3", "test-zone-2", "test-zone-2", "test-zone-1", "test-zone-3"];
        var nodes = new List<ExistingNode>();
        var pods = new List<V1Pod>();
        var preferred = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (zone, i) in zones.Select((z, i) => (z, i)))
        {
            nodes.Add(InFlight($"pinned-{i}", new Resources(900, 1280L << 20, 4), Requirement.In(Zone, zone)));
            Nominate(Api(), $"pinned-{i}");
            Nominate(Pod("250m", "256Mi", new Dictionary<string, string> { ["app"] = "web" }), $"pinned-{i}");
        }

        // First in the list, so that first fit would fill it before the NodeClaims pinned to a zone.
        nodes.Insert(0, InFlight("open", new Resources(1150, 1L << 30, 6), Requirement.In(Zone, "test-zone-1", "test-zone-2", "test-zone-3")));
        for (var i = 0; i < 4; i++)
        {
            Nominate(Pod("250m", "256Mi", new Dictionary<string, string> { ["app"] = "web" }), "open");
        }

        var input = new SchedulingInput { Pods = pods, NodePools = [Pool()], ExistingNodes = nodes, PreferredNodes = preferred };

        var result = Solve(input);

        ExpectAllScheduled(result);
        Assert.Empty(result.NewNodeClaims);
        foreach (var placement in result.ExistingNodes)
        {
            Assert.All(placement.Pods, p => Assert.Equal(preferred[SchedulingInput.PodKey(p)], placement.Node.Name));
        }

        void Nominate(V1Pod pod, string node)
        {
            pods.Add(pod);
            preferred[SchedulingInput.PodKey(pod)] = node;
        }
    }

    [Fact]
    public void A_pod_whose_nominated_NodeClaim_is_gone_is_scheduled_afresh()
    {
        var pod = Pod("1", "1Gi");
        var input = new SchedulingInput
        {
            Pods = [pod],
            NodePools = [Pool()],
            PreferredNodes = new Dictionary<string, string>(StringComparer.Ordinal) { [SchedulingInput.PodKey(pod)] = "deleted-claim" },
        };

        var result = Solve(input);

        ExpectAllScheduled(result);
        ExpectClaimFor(result, pod);
    }

    private static ExistingNode InFlight(string name, Resources sized, Requirement zone) => new()
    {
        Name = name,
        Requirements = new Requirements(zone, Requirement.In(Hostname, name), Requirement.In("karpenter.sh/nodepool", "default")),
        Allocatable = sized,
        Requested = new Resources(150, 0, 2),
        NodePoolName = "default",
        InFlight = true,
    };

    private static V1Pod Api() => Pod("500m", "1Gi", new Dictionary<string, string> { ["app"] = "api" }, s => s.TopologySpreadConstraints =
    [
        new V1TopologySpreadConstraint
        {
            MaxSkew = 1,
            TopologyKey = Zone,
            WhenUnsatisfiable = "ScheduleAnyway",
            LabelSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "api" } },
        },
    ]);
}

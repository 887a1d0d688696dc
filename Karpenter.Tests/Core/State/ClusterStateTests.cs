using k8s.Models;
using Karpenter.Core.Scheduling;
using Karpenter.Core.State;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Core.State;

public sealed class ClusterStateTests
{
    private static V1Pod Pending(string name, string cpu = "1") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu) } } }] },
        Status = new V1PodStatus { Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "False", Reason = "Unschedulable" }] },
    };

    private static V1Node Node(string name, string cpu = "4") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["karpenter.sh/nodepool"] = "default" } },
        Status = new V1NodeStatus
        {
            Allocatable = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu), ["memory"] = new("8Gi"), ["pods"] = new("110") },
            Capacity = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu), ["memory"] = new("8Gi"), ["pods"] = new("110") },
        },
    };

    [Fact]
    public void Only_pods_kube_scheduler_gave_up_on_are_pending()
    {
        var state = new ClusterState(new FakeTimeProvider());
        var daemon = Pending("ds");
        daemon.Metadata.OwnerReferences = [new V1OwnerReference { Kind = "DaemonSet", Name = "ds", ApiVersion = "apps/v1", Uid = "u" }];
        var fresh = Pending("fresh");
        fresh.Status = new V1PodStatus();

        foreach (var pod in new[] { Pending("a"), daemon, fresh })
        {
            state.UpdatePod(pod);
        }

        Assert.Equal(["a"], state.PendingPods().Select(p => p.Metadata.Name));
    }

    [Fact]
    public void Nominated_pods_are_not_pending_again_until_the_nomination_expires()
    {
        var time = new FakeTimeProvider();
        var state = new ClusterState(time);
        var pod = Pending("a");
        state.UpdatePod(pod);

        state.Nominate("default-abc", [pod], time.GetUtcNow().AddSeconds(20));
        Assert.Empty(state.PendingPods());
        Assert.True(state.IsNominated("default-abc"));

        time.Advance(TimeSpan.FromSeconds(21));
        Assert.Single(state.PendingPods());
        Assert.False(state.IsNominated("default-abc"));
    }

    [Fact]
    public void Existing_nodes_carry_what_their_pods_request_and_skip_nodes_being_deleted()
    {
        var state = new ClusterState(new FakeTimeProvider());
        state.UpdateNode(Node("n1"));
        state.UpdateNode(Node("n2"));
        var bound = Pending("bound", "1500m");
        bound.Spec.NodeName = "n1";
        state.UpdatePod(bound);
        state.MarkForDeletion("n2");

        var node = Assert.Single(state.ExistingNodes());

        Assert.Equal("n1", node.Name);
        Assert.Equal(1500, node.Requested.CpuMilli);
        Assert.Equal("n1", node.Requirements.Get("kubernetes.io/hostname").Any());
        Assert.Single(state.BoundPods());
    }

    [Fact]
    public void In_flight_NodeClaims_count_as_capacity_and_against_their_NodePool()
    {
        var state = new ClusterState(new FakeTimeProvider());
        state.UpdateNode(Node("n1", "2"));
        state.UpdateNodeClaim(new StateNodeClaim
        {
            Name = "default-xyz",
            NodePoolName = "default",
            Requirements = new Requirements(Requirement.In("topology.kubernetes.io/zone", "z1")),
            Requests = new Resources(3000, 1L << 30, 3),
        });

        var inFlight = Assert.Single(state.ExistingNodes(), n => n.InFlight);
        var usage = state.NodePoolUsage("default");

        Assert.Equal("default-xyz", inFlight.Name);
        Assert.Equal(5000, usage.CpuMilli);
        Assert.Equal(2, usage.Get("nodes"));
    }

    [Fact]
    public void A_registered_node_still_starting_offers_its_room_past_its_start_up_taints_until_initialized()
    {
        var state = new ClusterState(new FakeTimeProvider());
        var node = Node("starting");
        node.Spec = new V1NodeSpec
        {
            ProviderID = "aws:///z1/i-1",
            Taints =
            [
                new V1Taint { Key = "node.kubernetes.io/not-ready", Effect = "NoSchedule" },
                new V1Taint { Key = "example.com/agent-not-ready", Value = "true", Effect = "NoSchedule" },
                new V1Taint { Key = "dedicated", Value = "gpu", Effect = "NoSchedule" },
            ],
        };
        state.UpdateNode(node);
        var claim = new StateNodeClaim
        {
            Name = "default-abc",
            NodePoolName = "default",
            ProviderId = "aws:///z1/i-1",
            NodeName = "starting",
            Requirements = new Requirements(),
            StartupTaints = [new V1Taint { Key = "example.com/agent-not-ready", Value = "true", Effect = "NoSchedule" }],
        };
        state.UpdateNodeClaim(claim);

        var starting = Assert.Single(state.ExistingNodes());
        Assert.Equal(["dedicated"], starting.Taints.Select(t => t.Key));

        // Initialized: a taint now means what it says (e.g. a node that went NotReady).
        state.UpdateNodeClaim(claim with { Initialized = true });
        Assert.Equal(3, Assert.Single(state.ExistingNodes()).Taints.Count);
    }

    [Fact]
    public void A_registered_node_still_starting_is_where_its_NodeClaim_launched_until_initialized()
    {
        var state = new ClusterState(new FakeTimeProvider());
        var node = Node("starting");
        node.Spec = new V1NodeSpec { ProviderID = "aws:///z2/i-2" };
        state.UpdateNode(node);
        var claim = new StateNodeClaim
        {
            Name = "default-def",
            NodePoolName = "default",
            ProviderId = "aws:///z2/i-2",
            Requirements = new Requirements(
                Requirement.In("topology.kubernetes.io/zone", "z2"),
                Requirement.In("node.kubernetes.io/instance-type", "t3a.small"),
                Requirement.In("karpenter.sh/nodepool", "default")),
        };
        state.UpdateNodeClaim(claim);

        // The kubelet registered it before its labels were synced from the NodeClaim: not every zone, but the claim's.
        var starting = Assert.Single(state.ExistingNodes());
        Assert.Equal(["z2"], starting.Requirements.Get("topology.kubernetes.io/zone").Values);
        Assert.Equal("t3a.small", starting.Requirements.Get("node.kubernetes.io/instance-type").Any());
        Assert.Equal("starting", starting.Requirements.Get("kubernetes.io/hostname").Any());

        // Initialized: the node's own labels are the truth.
        state.UpdateNodeClaim(claim with { Initialized = true });
        Assert.False(Assert.Single(state.ExistingNodes()).Requirements.Has("topology.kubernetes.io/zone"));
    }

    [Fact]
    public void Synced_waits_for_every_source()
    {
        var state = new ClusterState(new FakeTimeProvider());
        var synced = false;
        state.AddSyncCheck(() => synced);

        Assert.False(state.Synced);
        synced = true;
        Assert.True(state.Synced);
    }
}

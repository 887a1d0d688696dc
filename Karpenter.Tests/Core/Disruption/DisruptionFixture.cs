using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Disruption;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Tests.Core.Scheduling;

namespace Karpenter.Tests.Core.Disruption;

/// <summary>Builds disruption snapshots (managed nodes with pods, NodePools, instance types) without an API server.</summary>
internal sealed class DisruptionFixture
{
    public static readonly DateTimeOffset Start = new(2026, 1, 3, 10, 0, 0, TimeSpan.Zero);

    private readonly List<StateNode> _nodes = [];
    private readonly List<V1PodDisruptionBudget> _pdbs = [];
    private int _serial;

    public DisruptionFixture(IReadOnlyList<InstanceType>? types = null)
    {
        Types = types ?? FakeInstanceTypes.Synthetic(16);
        AddPool("default");
    }

    public DateTimeOffset Now { get; set; } = Start;

    public IReadOnlyList<InstanceType> Types { get; }

    public Dictionary<string, NodePool> Pools { get; } = new(StringComparer.Ordinal);

    /// <summary>Requirements a NodePool adds to its NodeClaims (e.g. with <c>minValues</c>), by NodePool name.</summary>
    public Dictionary<string, Requirements> PoolRequirements { get; } = new(StringComparer.Ordinal);

    /// <summary>Pods waiting for capacity (pending, or on nodes being deleted) the snapshot carries.</summary>
    public List<V1Pod> Pending { get; } = [];

    public NodePool AddPool(string name, ConsolidationPolicy policy = ConsolidationPolicy.WhenEmptyOrUnderutilized, string budget = "100%", string consolidateAfter = "0s")
    {
        var pool = new NodePool
        {
            Metadata = new V1ObjectMeta { Name = name, Uid = $"pool-{name}" },
            Spec = new NodePoolSpec
            {
                Disruption = new Karpenter.Entities.V1.Disruption { ConsolidationPolicy = policy, ConsolidateAfter = consolidateAfter, Budgets = [new Budget { Nodes = budget }] },
                Template = new NodeClaimTemplate { Spec = new NodeClaimTemplateSpec { NodeClassRef = NodeClassReference.Ec2NodeClass("default") } },
            },
        };
        Pools[name] = pool;
        return pool;
    }

    /// <summary>An initialized, consolidatable node of <paramref name="type"/> carrying <paramref name="pods"/>.</summary>
    public StateNode Node(string type, string capacityType = CapacityTypes.OnDemand, string pool = "default", IEnumerable<V1Pod>? pods = null,
        bool consolidatable = true, bool initialized = true, Action<NodeClaim, V1Node>? customize = null)
    {
        var n = ++_serial;
        var name = $"node-{n}";
        var labels = new Dictionary<string, string>
        {
            [Labels.NodePool] = pool,
            [Labels.InstanceType] = type,
            [Labels.CapacityType] = capacityType,
            [Labels.TopologyZone] = FakeInstanceTypes.Zones[0],
            [Labels.Hostname] = name,
            [Labels.Os] = "linux",
            [Labels.Arch] = "amd64",
        };
        if (initialized)
        {
            labels[Labels.NodeInitialized] = "true";
        }

        var conditions = new List<V1Condition>();
        if (initialized)
        {
            conditions.Add(new V1Condition { Type = ConditionTypes.Initialized, Status = "True", Reason = "Initialized", LastTransitionTime = Start.UtcDateTime });
        }

        if (consolidatable)
        {
            conditions.Add(new V1Condition { Type = ConditionTypes.Consolidatable, Status = "True", Reason = "Consolidatable", LastTransitionTime = Start.UtcDateTime });
        }

        var claim = new NodeClaim
        {
            Metadata = new V1ObjectMeta { Name = $"claim-{n}", Uid = $"claim-uid-{n}", Labels = new Dictionary<string, string>(labels), CreationTimestamp = Start.UtcDateTime.AddHours(-1) },
            Spec = new NodeClaimSpec { NodeClassRef = NodeClassReference.Ec2NodeClass("default"), ExpireAfter = "720h" },
            Status = new NodeClaimStatus { NodeName = name, ProviderId = $"fake:///{n}", Conditions = conditions },
        };
        var instanceType = Types.Single(t => t.Name == type);
        var node = new V1Node
        {
            Metadata = new V1ObjectMeta { Name = name, Uid = $"node-uid-{n}", Labels = labels },
            Spec = new V1NodeSpec { ProviderID = claim.Status.ProviderId },
            Status = new V1NodeStatus
            {
                Allocatable = instanceType.Allocatable.ToList(),
                Capacity = instanceType.Capacity.ToList(),
                Conditions = [new V1NodeCondition { Type = "Ready", Status = "True" }],
            },
        };
        customize?.Invoke(claim, node);
        var bound = (pods ?? []).ToList();
        foreach (var pod in bound)
        {
            pod.Spec.NodeName = name;
            pod.Status ??= new V1PodStatus { Phase = "Running" };
        }

        var state = new StateNode { NodeClaim = claim, Node = node, Pods = bound };
        _nodes.Add(state);
        return state;
    }

    public V1PodDisruptionBudget Pdb(Dictionary<string, string> selector, int disruptionsAllowed)
    {
        var pdb = new V1PodDisruptionBudget
        {
            Metadata = new V1ObjectMeta { Name = $"pdb-{++_serial}", NamespaceProperty = "default" },
            Spec = new V1PodDisruptionBudgetSpec { Selector = new V1LabelSelector { MatchLabels = selector } },
            Status = new V1PodDisruptionBudgetStatus { DisruptionsAllowed = disruptionsAllowed },
        };
        _pdbs.Add(pdb);
        return pdb;
    }

    public static V1Pod Pod(string cpu = "1", string memory = "1Gi", Dictionary<string, string>? labels = null, Dictionary<string, string>? annotations = null)
    {
        var pod = SchedulingFixture.Pod(cpu, memory, labels);
        pod.Metadata.Annotations = annotations;
        return pod;
    }

    public ClusterSnapshot Snapshot(IReadOnlyCollection<string>? marked = null)
    {
        var nodes = _nodes.Select(n => marked?.Contains(n.Name) == true ? new StateNode { NodeClaim = n.NodeClaim, Node = n.Node, Pods = n.Pods, MarkedForDeletion = true } : n).ToList();
        var existing = nodes.Where(n => !n.MarkedForDeletion && n.Node is not null).Select(n => new ExistingNode
        {
            Name = n.NodeName!,
            Requirements = Requirements.FromLabels(n.Node!.Metadata.Labels),
            Allocatable = Resources.FromList(n.Node.Status.Allocatable),
            Requested = n.Pods.Aggregate(default(Resources), (sum, p) => sum + PodResources.Requests(p)),
            NodePoolName = n.NodePoolName,
        }).ToList();
        return new ClusterSnapshot
        {
            Now = Now,
            Nodes = nodes,
            NodePools = Pools,
            InstanceTypes = Pools.Keys.ToDictionary(k => k, _ => Types, StringComparer.Ordinal),
            SchedulingNodePools = [.. Pools.Values.Select(p => new SchedulingNodePool { Name = p.Metadata.Name, InstanceTypes = Types, Labels = new Dictionary<string, string> { [Labels.NodePool] = p.Metadata.Name }, Requirements = PoolRequirementsOf(p.Metadata.Name) })],
            ExistingNodes = existing,
            BoundPods = [.. nodes.SelectMany(n => n.Pods.Select(p => new BoundPod(p, n.NodeName!)))],
            PodDisruptionBudgets = _pdbs,
            PendingPods = Pending,
        };
    }

    private Requirements PoolRequirementsOf(string pool)
    {
        var requirements = new Requirements(Requirement.In(Labels.NodePool, pool));
        if (PoolRequirements.TryGetValue(pool, out var extra))
        {
            requirements.Add(extra);
        }

        return requirements;
    }
}

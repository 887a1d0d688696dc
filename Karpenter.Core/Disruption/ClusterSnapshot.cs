using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Conditions;

namespace Karpenter.Core.Disruption;

/// <summary>One managed node (its NodeClaim, and the Node once registered) as disruption sees it.</summary>
public sealed class StateNode
{
    public required NodeClaim NodeClaim { get; init; }

    public V1Node? Node { get; init; }

    /// <summary>Pods bound to the node that have not finished.</summary>
    public IReadOnlyList<V1Pod> Pods { get; init; } = [];

    /// <summary>Marked by a disruption command in flight (counts against budgets, never a candidate twice).</summary>
    public bool MarkedForDeletion { get; init; }

    /// <summary>Pods were just nominated onto it by the provisioner.</summary>
    public bool Nominated { get; init; }

    public string Name => NodeClaim.Metadata.Name;

    public string? NodeName => Node?.Metadata.Name ?? NodeClaim.Status.NodeName;

    public string? NodePoolName => NodeClaim.NodePoolName ?? (Node?.Metadata.Labels?.TryGetValue(Labels.NodePool, out var pool) == true ? pool : null);

    public bool Initialized => NodeClaim.IsConditionTrue(ConditionTypes.Initialized) || Meta.Get(Node?.Metadata.Labels, Labels.NodeInitialized) == "true";

    public bool Deleting => NodeClaim.Metadata.DeletionTimestamp is not null || Node?.Metadata.DeletionTimestamp is not null;

    /// <summary>Not Ready nodes use up budget as upstream counts them.</summary>
    public bool NodeReady => Node?.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == ConditionStatus.True) == true;

    public string? Label(string key) => Meta.Get(NodeClaim.Metadata.Labels, key) ?? Meta.Get(Node?.Metadata.Labels, key);
}

/// <summary>
/// Everything one disruption pass reads, taken once: managed nodes with their pods, NodePools and their instance types,
/// the scheduler's view of the remaining capacity, PodDisruptionBudgets and the time. Pure data, so methods can be
/// specified and benchmarked without an API server.
/// </summary>
public sealed class ClusterSnapshot
{
    public required DateTimeOffset Now { get; init; }

    public required IReadOnlyList<StateNode> Nodes { get; init; }

    public required IReadOnlyDictionary<string, NodePool> NodePools { get; init; }

    /// <summary>Instance types each NodePool can launch (by NodePool name).</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<InstanceType>> InstanceTypes { get; init; }

    /// <summary>The NodePools as the scheduler models them (for replacements).</summary>
    public required IReadOnlyList<SchedulingNodePool> SchedulingNodePools { get; init; }

    /// <summary>Nodes and in-flight NodeClaims that can take pods (candidates are removed per simulation).</summary>
    public required IReadOnlyList<ExistingNode> ExistingNodes { get; init; }

    public IReadOnlyList<BoundPod> BoundPods { get; init; } = [];

    /// <summary>
    /// Pods waiting for capacity: pending pods not nominated anywhere, and the pods of nodes being deleted (upstream's
    /// <c>SimulateScheduling</c> adds both). Every consolidation simulation places them first-class, so consolidation never
    /// takes away capacity they need; only the candidates' own pods failing to schedule blocks a command.
    /// </summary>
    public IReadOnlyList<V1Pod> PendingPods { get; init; } = [];

    public IReadOnlyList<V1Pod> DaemonSetPods { get; init; } = [];

    public VolumeCatalog Volumes { get; init; } = VolumeCatalog.Empty;

    public IReadOnlyList<V1PodDisruptionBudget> PodDisruptionBudgets { get; init; } = [];

    public IReadOnlyDictionary<string, IDictionary<string, string>> NamespaceLabels { get; init; } = new Dictionary<string, IDictionary<string, string>>();

    public IReadOnlySet<string>? WellKnownLabels { get; init; }

    /// <summary>Budget bookkeeping: every managed, initialized node, disrupting when deleting, marked or not Ready.</summary>
    public IEnumerable<BudgetNode> BudgetNodes() =>
        Nodes.Where(n => n.Initialized && n.NodePoolName is not null && n.Node is not null)
            .Select(n => new BudgetNode(n.NodePoolName!, n.Deleting || n.MarkedForDeletion || !n.NodeReady));

    /// <summary>Allowed disruptions per NodePool for <paramref name="reason"/>.</summary>
    public Dictionary<string, int> Budgets(DisruptionReason reason) => DisruptionBudgets.Allowed(NodePools.Values, BudgetNodes(), reason, Now);
}

/// <summary>Null-safe reads of label and annotation maps.</summary>
internal static class Meta
{
    public static string? Get(IDictionary<string, string>? map, string key) => map is not null && map.TryGetValue(key, out var value) ? value : null;
}

using k8s.Models;
using Karpenter.Core.CloudProvider;

namespace Karpenter.Core.Scheduling;

/// <summary>Whether preferences (preferred affinities, ScheduleAnyway spreads) are honoured first or ignored.</summary>
public enum PreferencePolicy
{
    Respect,
    Ignore,
}

/// <summary>What to do when a NodeClaim's instance types cannot satisfy a requirement's <c>minValues</c>.</summary>
public enum MinValuesPolicy
{
    Strict,
    BestEffort,
}

/// <summary>
/// What the scheduler needs of a NodePool: its template (requirements, labels, taints), weight, limits, current usage
/// and the instance types the cloud provider offers for it. Built from the NodePool resource by the provisioner.
/// </summary>
public sealed class SchedulingNodePool
{
    public required string Name { get; init; }

    public int Weight { get; init; }

    /// <summary>Template requirements, including the template labels as <c>In</c> requirements.</summary>
    public Requirements Requirements { get; init; } = new();

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<V1Taint> Taints { get; init; } = [];

    public IReadOnlyList<V1Taint> StartupTaints { get; init; } = [];

    /// <summary>Resource limits (cpu, memory, nodes, …); null means unlimited.</summary>
    public Resources? Limits { get; init; }

    /// <summary>What the NodePool's existing nodes and in-flight NodeClaims already use (capacity, and <c>nodes</c>).</summary>
    public Resources Usage { get; init; }

    public IReadOnlyList<InstanceType> InstanceTypes { get; init; } = [];
}

/// <summary>A node (or an in-flight NodeClaim) that already exists, as the scheduler sees it.</summary>
public sealed class ExistingNode
{
    public required string Name { get; init; }

    /// <summary>Its labels as requirements (for an in-flight NodeClaim: its requirements).</summary>
    public required Requirements Requirements { get; init; }

    public IReadOnlyList<V1Taint> Taints { get; init; } = [];

    /// <summary>Allocatable capacity.</summary>
    public Resources Allocatable { get; init; }

    /// <summary>What bound pods (and DaemonSet pods expected to run there) already request.</summary>
    public Resources Requested { get; init; }

    public IReadOnlyCollection<HostPort> HostPortsInUse { get; init; } = [];

    public string? NodePoolName { get; init; }

    /// <summary>True while it is only an in-flight NodeClaim (not yet a registered node).</summary>
    public bool InFlight { get; init; }
}

/// <summary>A pod already bound (or nominated) to a node, counted by topology spread and pod (anti-)affinity.</summary>
public sealed record BoundPod(V1Pod Pod, string NodeName);

/// <summary>A host port a container binds: protocol, IP and port, as kube-scheduler's NodePorts filter keys them.</summary>
public readonly record struct HostPort(string Protocol, string Ip, int Port)
{
    public bool ConflictsWith(HostPort other) =>
        Port == other.Port && string.Equals(Protocol, other.Protocol, StringComparison.Ordinal) &&
        (Ip == "0.0.0.0" || other.Ip == "0.0.0.0" || string.Equals(Ip, other.Ip, StringComparison.Ordinal));

    public static IEnumerable<HostPort> Of(V1Pod pod)
    {
        foreach (var c in (pod.Spec?.Containers ?? []).Concat(pod.Spec?.InitContainers ?? []))
        {
            foreach (var p in c.Ports ?? [])
            {
                if (p.HostPort is { } port and > 0)
                {
                    yield return new HostPort(string.IsNullOrEmpty(p.Protocol) ? "TCP" : p.Protocol, string.IsNullOrEmpty(p.HostIP) ? "0.0.0.0" : p.HostIP, port);
                }
            }
        }
    }
}

/// <summary>PersistentVolumeClaims, PersistentVolumes and StorageClasses the volume topology of pods is read from.</summary>
public sealed class VolumeCatalog
{
    public static VolumeCatalog Empty { get; } = new();

    /// <summary>Claims keyed by <c>namespace/name</c>.</summary>
    public IReadOnlyDictionary<string, V1PersistentVolumeClaim> Claims { get; init; } = new Dictionary<string, V1PersistentVolumeClaim>();

    public IReadOnlyDictionary<string, V1PersistentVolume> Volumes { get; init; } = new Dictionary<string, V1PersistentVolume>();

    public IReadOnlyDictionary<string, V1StorageClass> StorageClasses { get; init; } = new Dictionary<string, V1StorageClass>();
}

public sealed class SchedulingOptions
{
    public PreferencePolicy PreferencePolicy { get; init; } = PreferencePolicy.Respect;

    public MinValuesPolicy MinValuesPolicy { get; init; } = MinValuesPolicy.Strict;

    /// <summary>At most this many instance types on a NodeClaim (upstream's <c>MaxInstanceTypes</c>).</summary>
    public int MaxInstanceTypes { get; init; } = 600;

    /// <summary>At most this many new NodeClaims (consolidation simulates "remaining nodes plus one replacement"); null: unlimited.</summary>
    public int? MaxNewNodeClaims { get; init; }

    /// <summary>
    /// A wall-clock cap on the packing-improvement step after the greedy solve, a safety net only: the step is bounded
    /// by <see cref="ImprovementEffort"/> so that its result does not depend on machine load. Zero disables the step.
    /// The default is well above what the effort takes (0.4-0.9 s of wall time for 20,000 pods on 2 cores at a load
    /// average of 20-35); at 1 s the cap bound at 20,000 pods under such load and the plan then varied between runs.
    /// </summary>
    public TimeSpan ImprovementBudget { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How much work the packing-improvement step may do, in placement checks per pod of the batch (plus a fixed
    /// allowance for small batches). The same input and effort always give the same plan. Zero disables the step.
    /// </summary>
    public int ImprovementEffort { get; init; } = 24;

    /// <summary>
    /// Also try a packing guided by the batch's fractional covering LP: each pod is hinted the instance type the LP gives
    /// it, and NodeClaims are sized for and filled first with pods of one hinted type. Off when
    /// <see cref="MaxNewNodeClaims"/> is set (consolidation's simulations).
    /// </summary>
    public bool LpGuidedPacking { get; init; } = true;

    /// <summary>
    /// Also try a packing guided by the batch's configuration LP (node-fill patterns, rounded down, opened before the
    /// greedy pass; see <c>SolverPatterns.cs</c>), the cheaper plan kept. Off when <see cref="MaxNewNodeClaims"/> is set.
    /// </summary>
    public bool PatternGuidedPacking { get; init; } = true;

    /// <summary>
    /// Batches of at most this many pods are solved again with each guided packing (<see cref="PatternGuidedPacking"/>,
    /// <see cref="LpGuidedPacking"/>), and the cheapest plan kept; larger batches are solved once, plain (a second
    /// solve would double their time).
    /// </summary>
    public int LpGuidedMaxPods { get; init; } = 5000;

    /// <summary>Label keys a NodeClaim may leave undefined because instance types or offerings define them.</summary>
    public IReadOnlySet<string>? WellKnownLabels { get; init; }
}

/// <summary>Everything one scheduling simulation reads.</summary>
public sealed class SchedulingInput
{
    public required IReadOnlyList<V1Pod> Pods { get; init; }

    public IReadOnlyList<SchedulingNodePool> NodePools { get; init; } = [];

    public IReadOnlyList<ExistingNode> ExistingNodes { get; init; } = [];

    public IReadOnlyList<BoundPod> BoundPods { get; init; } = [];

    /// <summary>The pod templates of the cluster's DaemonSets (they run on every compatible new node).</summary>
    public IReadOnlyList<V1Pod> DaemonSetPods { get; init; } = [];

    public VolumeCatalog Volumes { get; init; } = VolumeCatalog.Empty;

    /// <summary>Namespace labels, for pod-affinity namespace selectors.</summary>
    public IReadOnlyDictionary<string, IDictionary<string, string>> NamespaceLabels { get; init; } = new Dictionary<string, IDictionary<string, string>>();

    public SchedulingOptions Options { get; init; } = new();

    /// <summary>
    /// Where pods were last nominated (by <see cref="PodKey"/>: the name of an entry of <see cref="ExistingNodes"/>),
    /// tried before anything else. Pods still pending once their nominations expire go back onto the capacity the plan
    /// that nominated them made for them: in-flight NodeClaims are sized for exactly their pods, and first fit in a
    /// different order (or the improvement steps) could spread them so that one no longer fits and a NodeClaim more is
    /// bought.
    /// </summary>
    public IReadOnlyDictionary<string, string> PreferredNodes { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The key of <paramref name="pod"/> in <see cref="PreferredNodes"/>: <c>namespace/name</c>.</summary>
    public static string PodKey(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        return $"{pod.Metadata?.NamespaceProperty ?? "default"}/{pod.Metadata?.Name}";
    }
}

/// <summary>A NodeClaim the scheduler decided to create.</summary>
public sealed class PlannedNodeClaim
{
    public required SchedulingNodePool NodePool { get; init; }

    /// <summary>Final requirements: template ∩ pods ∩ topology, with <c>node.kubernetes.io/instance-type In [...]</c> and the capacity types offered.</summary>
    public required Requirements Requirements { get; init; }

    /// <summary>Compatible instance types, cheapest first, truncated to <see cref="SchedulingOptions.MaxInstanceTypes"/>.</summary>
    public required IReadOnlyList<InstanceType> InstanceTypes { get; init; }

    public required IReadOnlyList<V1Pod> Pods { get; init; }

    /// <summary>Pod requests plus the smallest DaemonSet overhead among the instance types.</summary>
    public required Resources Requests { get; init; }

    /// <summary>The hourly price of the cheapest instance type and offering (what an on-demand launch would cost).</summary>
    public required decimal Price { get; init; }

    public bool MinValuesRelaxed { get; init; }
}

/// <summary>Pods the scheduler placed on an existing node or in-flight NodeClaim.</summary>
public sealed record ExistingNodePlacement(ExistingNode Node, IReadOnlyList<V1Pod> Pods);

/// <summary>Why a pod fits nowhere: one reason per NodePool (and for existing capacity).</summary>
public sealed record PodSchedulingError(V1Pod Pod, IReadOnlyDictionary<string, string> ReasonsByNodePool)
{
    public string Message => ReasonsByNodePool.Count == 0
        ? "no NodePool can launch capacity for it"
        : string.Join("; ", ReasonsByNodePool.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"nodepool \"{kv.Key}\": {kv.Value}"));
}

/// <summary>The outcome of one simulation.</summary>
public sealed class SchedulingResult
{
    public required IReadOnlyList<PlannedNodeClaim> NewNodeClaims { get; init; }

    public required IReadOnlyList<ExistingNodePlacement> ExistingNodes { get; init; }

    public required IReadOnlyList<PodSchedulingError> PodErrors { get; init; }

    /// <summary>Hourly price of the plain greedy packing before the improvement step (the plan never costs more).</summary>
    public decimal GreedyPrice { get; init; }

    /// <summary>True when the plan is the LP-guided one (<see cref="SchedulingOptions.LpGuidedPacking"/>).</summary>
    public bool LpGuided { get; init; }

    /// <summary>True when the plan is the pattern-guided one (<see cref="SchedulingOptions.PatternGuidedPacking"/>).</summary>
    public bool PatternGuided { get; init; }

    public decimal Price => NewNodeClaims.Sum(c => c.Price);

    /// <summary>Wall-clock phases (ms), for profiling.</summary>
    public IReadOnlyDictionary<string, double> Phases { get; init; } = new Dictionary<string, double>();
}

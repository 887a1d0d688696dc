using System.Globalization;
using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Scheduling;
using Karpenter.Entities;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.Disruption;

/// <summary>How a method treats pods that refuse eviction (upstream's disruption classes).</summary>
public enum DisruptionClass
{
    /// <summary>Emptiness and consolidation: a blocking PDB or a do-not-disrupt pod keeps the node.</summary>
    Graceful,

    /// <summary>Drift: as graceful, except that a NodeClaim with a terminationGracePeriod ignores pod-level blocks.</summary>
    Eventual,
}

/// <summary>A node disruption may act on, with what it costs and what moving its pods would disturb.</summary>
public sealed class Candidate
{
    public required StateNode State { get; init; }

    public required NodePool NodePool { get; init; }

    public required InstanceType InstanceType { get; init; }

    public required string CapacityType { get; init; }

    public required string Zone { get; init; }

    /// <summary>Hourly price of its offering.</summary>
    public required decimal Price { get; init; }

    /// <summary>Pods that would have to be rescheduled (not DaemonSet, mirror, finished or terminating pods).</summary>
    public required IReadOnlyList<V1Pod> ReschedulablePods { get; init; }

    /// <summary>Upstream's rescheduling cost of its pods, weighted by the remaining lifetime.</summary>
    public required double DisruptionCost { get; init; }

    public string Name => State.Name;

    public string NodeName => State.NodeName ?? State.Name;

    public string NodePoolName => NodePool.Metadata.Name;

    public NodeClaim NodeClaim => State.NodeClaim;

    public override string ToString() => $"{NodeName} ({InstanceType.Name}/{CapacityType}/{Zone} {Price.ToString("0.####", CultureInfo.InvariantCulture)}/h)";
}

/// <summary>A node that cannot be a candidate, and why (for logs and <c>DisruptionBlocked</c> events).</summary>
/// <param name="State">The node.</param>
/// <param name="Message">Why.</param>
/// <param name="Publish">Whether a user should see it as an event (a block they caused, not a transient state).</param>
public sealed record CandidateRejection(StateNode State, string Message, bool Publish);

/// <summary>
/// Picks candidates out of a snapshot as upstream's <c>NewCandidate</c> and <c>ValidateNodeDisruptable</c> do: managed,
/// registered and initialized nodes of a known NodePool and instance type, not being deleted, marked or nominated,
/// without <c>karpenter.sh/do-not-disrupt</c> on the Node or NodeClaim, and (for graceful methods) without pods that
/// cannot be evicted now: a <c>do-not-disrupt</c> pod (<c>"true"</c>, or a duration still running since the pod
/// started) or a pod whose PodDisruptionBudget allows no disruption (or that more than one PDB selects).
/// </summary>
public static class Candidates
{
    public const string PodDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost";

    /// <summary>The candidates of <paramref name="snapshot"/> and the nodes rejected (with reasons).</summary>
    public static (List<Candidate> Candidates, List<CandidateRejection> Rejected) Build(ClusterSnapshot snapshot, DisruptionClass disruptionClass)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var candidates = new List<Candidate>();
        var rejected = new List<CandidateRejection>();
        foreach (var state in snapshot.Nodes)
        {
            var error = Check(snapshot, state, disruptionClass, out var candidate, out var publish);
            if (error is null)
            {
                candidates.Add(candidate!);
            }
            else
            {
                rejected.Add(new CandidateRejection(state, error, publish));
            }
        }

        return (candidates, rejected);
    }

    /// <summary>Pods that would move if the node went away.</summary>
    public static bool IsReschedulable(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        return pod.Status?.Phase is not ("Succeeded" or "Failed") && pod.Metadata?.DeletionTimestamp is null &&
            pod.Metadata?.OwnerReferences?.Any(o => o.Kind is "DaemonSet" or "Node") != true &&
            pod.Metadata?.Annotations?.ContainsKey("kubernetes.io/config.mirror") != true;
    }

    /// <summary>
    /// Whether <paramref name="pod"/>'s <c>karpenter.sh/do-not-disrupt</c> annotation protects it at <paramref name="now"/>:
    /// <c>"true"</c> always; a duration (<c>"5m"</c>) until that long after the pod started. Other values are ignored.
    /// </summary>
    public static bool IsDoNotDisruptActive(V1Pod pod, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(pod);
        if (pod.Metadata?.Annotations?.TryGetValue(Annotations.DoNotDisrupt, out var value) != true)
        {
            return false;
        }

        if (value == "true")
        {
            return true;
        }

        if (!GoDuration.TryParse(value, out var duration, out _))
        {
            return false;
        }

        var started = pod.Status?.StartTime ?? pod.Metadata.CreationTimestamp;
        return started is null || new DateTimeOffset(DateTime.SpecifyKind(started.Value, DateTimeKind.Utc)) + duration > now;
    }

    /// <summary>Upstream's per-pod rescheduling cost: <c>1 + deletionCost/2^27 + priority/2^25</c>, clamped to [-10, 10].</summary>
    public static double PodCost(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var cost = 1.0;
        if (pod.Metadata?.Annotations?.TryGetValue(PodDeletionCostAnnotation, out var text) == true &&
            double.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var deletionCost))
        {
            cost += deletionCost / Math.Pow(2, 27);
        }

        if (pod.Spec?.Priority is { } priority)
        {
            cost += priority / Math.Pow(2, 25);
        }

        return Math.Clamp(cost, -10.0, 10.0);
    }

    /// <summary>The fraction of the NodeClaim's lifetime left (1 without an expiry), which scales its disruption cost.</summary>
    public static double LifetimeRemaining(NodeClaim nodeClaim, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        if (!GoDuration.TryParseNillable(nodeClaim.Spec.ExpireAfter ?? "720h", out var expireAfter, out _) || expireAfter is not { } lifetime || lifetime <= TimeSpan.Zero ||
            nodeClaim.Metadata.CreationTimestamp is not { } created)
        {
            return 1.0;
        }

        var age = now - new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc));
        return Math.Clamp((lifetime - age).TotalSeconds / lifetime.TotalSeconds, 0.0, 1.0);
    }

    private static string? Check(ClusterSnapshot snapshot, StateNode state, DisruptionClass disruptionClass, out Candidate? candidate, out bool publish)
    {
        candidate = null;
        publish = false;
        if (state.Node is null)
        {
            return "NodeClaim has no registered node";
        }

        if (!state.Initialized)
        {
            return "node is not initialized";
        }

        if (state.Deleting)
        {
            return "node is being deleted";
        }

        if (state.MarkedForDeletion)
        {
            return "node is already being disrupted";
        }

        if (state.Nominated)
        {
            return "node is nominated for pending pods";
        }

        if (state.NodePoolName is not { } poolName)
        {
            return $"node has no {Labels.NodePool} label";
        }

        if (!snapshot.NodePools.TryGetValue(poolName, out var pool))
        {
            return $"NodePool \"{poolName}\" not found";
        }

        publish = true;
        if (Meta.Get(state.Node.Metadata.Annotations, Annotations.DoNotDisrupt) == "true")
        {
            return $"node has \"{Annotations.DoNotDisrupt}\" annotation";
        }

        if (Meta.Get(state.NodeClaim.Metadata.Annotations, Annotations.DoNotDisrupt) == "true")
        {
            return $"NodeClaim has \"{Annotations.DoNotDisrupt}\" annotation";
        }

        publish = false;
        var typeName = state.Label(Labels.InstanceType);
        var type = typeName is null ? null : snapshot.InstanceTypes.GetValueOrDefault(poolName)?.FirstOrDefault(t => t.Name == typeName);
        if (type is null)
        {
            return $"instance type \"{typeName}\" not found";
        }

        var capacityType = state.Label(Labels.CapacityType);
        var zone = state.Label(Labels.TopologyZone);
        var offering = type.Offerings.FirstOrDefault(o => o.CapacityType == capacityType && o.Zone == zone);
        if (capacityType is null || zone is null || offering is null)
        {
            return $"no offering of \"{typeName}\" for capacity type \"{capacityType}\" in zone \"{zone}\"";
        }

        var pods = state.Pods.Where(IsReschedulable).ToList();
        var ignorePodBlocks = disruptionClass == DisruptionClass.Eventual && state.NodeClaim.Spec.TerminationGracePeriod is not null;
        if (!ignorePodBlocks && PodBlock(snapshot, pods) is { } block)
        {
            publish = true;
            return block;
        }

        var cost = pods.Sum(PodCost) * LifetimeRemaining(state.NodeClaim, snapshot.Now);
        candidate = new Candidate
        {
            State = state,
            NodePool = pool,
            InstanceType = type,
            CapacityType = capacityType,
            Zone = zone,
            Price = offering.Price,
            ReschedulablePods = pods,
            DisruptionCost = cost,
        };
        return null;
    }

    private static string? PodBlock(ClusterSnapshot snapshot, List<V1Pod> pods)
    {
        foreach (var pod in pods)
        {
            if (IsDoNotDisruptActive(pod, snapshot.Now))
            {
                return $"pod \"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}\" has \"{Annotations.DoNotDisrupt}\" annotation";
            }

            var pdbs = snapshot.PodDisruptionBudgets
                .Where(p => p.Metadata.NamespaceProperty == pod.Metadata.NamespaceProperty && LabelSelector.From(p.Spec?.Selector).Matches(pod.Metadata.Labels))
                .ToList();
            if (pdbs.Count > 1)
            {
                return $"pod \"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}\" is selected by more than one PodDisruptionBudget ({string.Join(", ", pdbs.Select(p => p.Metadata.Name))})";
            }

            if (pdbs.Count == 1 && (pdbs[0].Status?.DisruptionsAllowed ?? 0) <= 0)
            {
                return $"pdb \"{pdbs[0].Metadata.NamespaceProperty}/{pdbs[0].Metadata.Name}\" prevents pod evictions";
            }
        }

        return null;
    }
}

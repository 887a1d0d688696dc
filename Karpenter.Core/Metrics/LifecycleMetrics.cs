using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Karpenter.Core.Metrics;

/// <summary>
/// The instruments of the NodeClaim lifecycle, termination, garbage collection and NodePool controllers, under
/// upstream Karpenter's names and labels (<c>shared/data/karpenter/metrics.json</c>), so existing dashboards and alerts
/// keep working. Exported through the meter <see cref="MeterName"/>.
/// </summary>
public sealed class LifecycleMetrics
{
    /// <summary>The meter of Karpenter.Core's controllers (the operator exports it).</summary>
    public const string MeterName = "Karpenter.Core";

    // Label names (upstream pkg/metrics/constants.go).
    public const string NodePoolLabel = "nodepool";
    public const string ReasonLabel = "reason";
    public const string CapacityTypeLabel = "capacity_type";
    public const string ResourceTypeLabel = "resource_type";
    public const string CodeLabel = "code";

    public LifecycleMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        NodeClaimsTerminated = meter.CreateCounter<long>(
            "karpenter_nodeclaims_terminated_total",
            description: "Number of nodeclaims terminated in total by Karpenter. Labeled by the owning nodepool, capacity type, and zone.");
        NodeClaimsDisrupted = meter.CreateCounter<long>(
            "karpenter_nodeclaims_disrupted_total",
            description: "Number of nodeclaims disrupted in total by Karpenter. Labeled by reason the nodeclaim was disrupted and the owning nodepool.");
        NodeClaimTerminationDuration = meter.CreateHistogram<double>(
            "karpenter_nodeclaims_termination_duration_seconds",
            description: "Duration of NodeClaim termination in seconds.");
        InstanceTerminationDuration = meter.CreateHistogram<double>(
            "karpenter_nodeclaims_instance_termination_duration_seconds",
            description: "Duration of CloudProvider Instance termination in seconds.");
        NodesCreated = meter.CreateCounter<long>(
            "karpenter_nodes_created_total",
            description: "Number of nodes created in total by Karpenter. Labeled by owning nodepool and zone.");
        NodesTerminated = meter.CreateCounter<long>(
            "karpenter_nodes_terminated_total",
            description: "Number of nodes terminated in total by Karpenter. Labeled by owning nodepool and zone.");
        NodesDrained = meter.CreateCounter<long>(
            "karpenter_nodes_drained_total",
            description: "The total number of nodes drained by Karpenter");
        NodeTerminationDuration = meter.CreateHistogram<double>(
            "karpenter_nodes_termination_duration_seconds",
            description: "The time taken between a node's deletion request and the removal of its finalizer");
        EvictionRequests = meter.CreateCounter<long>(
            "karpenter_pods_eviction_requests_total",
            description: "The total number of pod eviction requests made by Karpenter, labeled by response code");
        PodsDrained = meter.CreateCounter<long>(
            "karpenter_pods_drained_total",
            description: "The total number of pods drained during node termination by Karpenter, labeled by reason");
        Meter = meter;
    }

    /// <summary>The meter, for observable instruments registered by the controllers that own their data.</summary>
    public Meter Meter { get; }

    public Counter<long> NodeClaimsTerminated { get; }

    public Counter<long> NodeClaimsDisrupted { get; }

    public Histogram<double> NodeClaimTerminationDuration { get; }

    public Histogram<double> InstanceTerminationDuration { get; }

    public Counter<long> NodesCreated { get; }

    public Counter<long> NodesTerminated { get; }

    public Counter<long> NodesDrained { get; }

    public Histogram<double> NodeTerminationDuration { get; }

    public Counter<long> EvictionRequests { get; }

    public Counter<long> PodsDrained { get; }

    public static TagList Pool(string? nodePool) => new() { { NodePoolLabel, nodePool ?? string.Empty } };

    public static TagList PoolAndCapacity(string? nodePool, string? capacityType) =>
        new() { { NodePoolLabel, nodePool ?? string.Empty }, { CapacityTypeLabel, capacityType ?? string.Empty } };

    public static TagList Disruption(string reason, string? nodePool, string? capacityType) =>
        new() { { ReasonLabel, reason }, { NodePoolLabel, nodePool ?? string.Empty }, { CapacityTypeLabel, capacityType ?? string.Empty } };
}

/// <summary>Values of the <c>reason</c> label of <c>karpenter_nodeclaims_disrupted_total</c> set by these controllers.</summary>
public static class DisruptionReasons
{
    public const string InsufficientCapacity = "insufficient_capacity";
    public const string NodeClassNotReady = "nodeclass_not_ready";
    public const string NodePoolNotReady = "nodepool_not_ready";
    public const string LaunchTimeout = "launch_timeout";

    /// <summary>Upstream's reason for a NodeClaim deleted after the registration timeout.</summary>
    public const string Liveness = "liveness";
    public const string Expired = "expired";
    public const string GarbageCollected = "garbage_collected";
}

using System.Diagnostics.Metrics;

namespace Karpenter.Core.Provisioning;

/// <summary>
/// The provisioner's instruments, under upstream's names (<c>shared/data/karpenter/metrics.json</c>): the scheduling
/// simulation's duration and queue depth, the unschedulable and ignored pods of the last batch, how long pods waited
/// for a first decision, and the NodeClaims created.
/// </summary>
public sealed class ProvisioningMetrics
{
    /// <summary>The meter Karpenter.Core's instruments live on (export it from the operator host).</summary>
    public const string MeterName = "Karpenter.Core";

    /// <summary>Upstream's <c>reason</c> label value for NodeClaims the provisioner creates.</summary>
    public const string ProvisionedReason = "provisioned";

    private long _queueDepth;
    private long _unschedulable;
    private long _ignored;

    public ProvisioningMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        SchedulingDuration = meter.CreateHistogram<double>(
            "karpenter_scheduler_scheduling_duration_seconds",
            description: "Duration of scheduling simulations used for deprovisioning and provisioning in seconds.");
        NodeClaimsCreated = meter.CreateCounter<long>(
            "karpenter_nodeclaims_created_total",
            description: "Number of nodeclaims created in total by Karpenter. Labeled by reason the nodeclaim was created, the owning nodepool, and if min values was relaxed for this nodeclaim.");
        SchedulingDecisionDuration = meter.CreateHistogram<double>(
            "karpenter_pods_scheduling_decision_duration_seconds",
            description: "The time it takes for Karpenter to first try to schedule a pod after it's been seen.");
        meter.CreateObservableGauge(
            "karpenter_scheduler_queue_depth",
            () => new Measurement<long>(Interlocked.Read(ref _queueDepth), Controller),
            description: "The number of pods currently waiting to be scheduled.");
        meter.CreateObservableGauge(
            "karpenter_scheduler_unschedulable_pods_count",
            () => new Measurement<long>(Interlocked.Read(ref _unschedulable), Controller),
            description: "The number of unschedulable Pods.");
        meter.CreateObservableGauge(
            "karpenter_scheduler_ignored_pods_count",
            () => Interlocked.Read(ref _ignored),
            description: "Number of pods ignored during scheduling by Karpenter");
    }

    /// <summary><c>karpenter_scheduler_scheduling_duration_seconds</c>, labelled by <c>controller</c>.</summary>
    public Histogram<double> SchedulingDuration { get; }

    /// <summary><c>karpenter_nodeclaims_created_total</c>, labelled by <c>reason</c>, <c>nodepool</c>, <c>min_values_relaxed</c>.</summary>
    public Counter<long> NodeClaimsCreated { get; }

    /// <summary><c>karpenter_pods_scheduling_decision_duration_seconds</c>.</summary>
    public Histogram<double> SchedulingDecisionDuration { get; }

    private static KeyValuePair<string, object?>[] Controller { get; } = [new("controller", Provisioner.ControllerName)];

    /// <summary>Pods in the simulation running now (0 between batches).</summary>
    public void SetQueueDepth(long pods) => Interlocked.Exchange(ref _queueDepth, pods);

    /// <summary>Pods the last batch could not place.</summary>
    public void SetUnschedulable(long pods) => Interlocked.Exchange(ref _unschedulable, pods);

    /// <summary>Pods the last batch ignored or rejected before scheduling.</summary>
    public void SetIgnored(long pods) => Interlocked.Exchange(ref _ignored, pods);

    /// <summary>Counts one created NodeClaim.</summary>
    public void Created(string reason, string nodePool, bool minValuesRelaxed) =>
        NodeClaimsCreated.Add(1, new KeyValuePair<string, object?>("reason", reason), new KeyValuePair<string, object?>("nodepool", nodePool), new KeyValuePair<string, object?>("min_values_relaxed", minValuesRelaxed ? "true" : "false"));
}

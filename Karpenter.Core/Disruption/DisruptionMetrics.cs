using System.Diagnostics;
using System.Diagnostics.Metrics;
using Karpenter.Entities.V1;

namespace Karpenter.Core.Disruption;

/// <summary>Upstream's voluntary-disruption and budget instruments, under their Prometheus names.</summary>
public sealed class DisruptionMetrics
{
    public const string MeterName = "Karpenter.Core.Disruption";

    public DisruptionMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        Decisions = meter.CreateCounter<long>("karpenter_voluntary_disruption_decisions_total", description: "Number of disruption decisions performed. Labeled by disruption decision, reason, and consolidation type.");
        EligibleNodes = meter.CreateGauge<long>("karpenter_voluntary_disruption_eligible_nodes", description: "Number of nodes eligible for disruption by Karpenter. Labeled by disruption reason.");
        ConsolidationTimeouts = meter.CreateCounter<long>("karpenter_voluntary_disruption_consolidation_timeouts_total", description: "Number of times the Consolidation algorithm has reached a timeout. Labeled by consolidation type.");
        FailedValidations = meter.CreateCounter<long>("karpenter_voluntary_disruption_failed_validations_total", description: "Number of candidates that were selected for disruption but failed validation. Labeled by consolidation type.");
        QueueFailures = meter.CreateCounter<long>("karpenter_voluntary_disruption_queue_failures_total", description: "The number of times that an enqueued disruption decision failed. Labeled by disruption method.");
        AllowedDisruptions = meter.CreateGauge<long>("karpenter_nodepools_allowed_disruptions", description: "The number of nodes for a given NodePool that can be concurrently disrupting at a point in time. Labeled by NodePool.");
        DecisionDuration = meter.CreateHistogram<double>("karpenter_voluntary_disruption_decision_evaluation_duration_seconds", unit: "s", description: "Duration of the disruption decision evaluation process in seconds. Labeled by method and consolidation type.");
    }

    public Counter<long> Decisions { get; }

    public Gauge<long> EligibleNodes { get; }

    public Counter<long> ConsolidationTimeouts { get; }

    public Counter<long> FailedValidations { get; }

    public Counter<long> QueueFailures { get; }

    public Gauge<long> AllowedDisruptions { get; }

    public Histogram<double> DecisionDuration { get; }

    /// <summary>Records one executed decision.</summary>
    public void Decided(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        Decisions.Add(1, new TagList
        {
            { "decision", command.Decision == DisruptionDecision.Delete ? "delete" : "replace" },
            { "reason", ReasonLabel(command.Reason) },
            { "consolidation_type", ConsolidationType(command.Method) },
        });
    }

    /// <summary>Upstream's lower-case reason label values.</summary>
    public static string ReasonLabel(DisruptionReason reason) => reason switch
    {
        DisruptionReason.Empty => "empty",
        DisruptionReason.Drifted => "drifted",
        _ => "underutilized",
    };

    /// <summary>The <c>consolidation_type</c> label: <c>empty</c>, <c>single</c>, <c>multi</c>, or empty for drift.</summary>
    public static string ConsolidationType(string method) => method switch
    {
        DisruptionMethods.Emptiness => "empty",
        DisruptionMethods.SingleNodeConsolidation => "single",
        DisruptionMethods.MultiNodeConsolidation => "multi",
        _ => string.Empty,
    };
}

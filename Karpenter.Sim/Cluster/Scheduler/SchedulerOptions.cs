using System.ComponentModel.DataAnnotations;

namespace Karpenter.Sim.Cluster.Scheduler;

/// <summary>How nodes are scored among those a pod fits (kube-scheduler's <c>NodeResourcesFit</c> scoring strategy).</summary>
public enum ScoringStrategy
{
    /// <summary>Prefer the emptiest node (kube-scheduler's default): spreads pods.</summary>
    LeastAllocated,

    /// <summary>Prefer the fullest node: packs pods (bin packing).</summary>
    MostAllocated,
}

/// <summary>The simulated kube-scheduler's settings.</summary>
public sealed class SchedulerOptions
{
    /// <summary>Pods naming this scheduler (<c>spec.schedulerName</c>) are scheduled; others are left alone.</summary>
    [Required]
    public string SchedulerName { get; set; } = "default-scheduler";

    /// <summary>How often unschedulable pods are retried when nothing in the cluster changed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(10);

    public ScoringStrategy Scoring { get; set; } = ScoringStrategy.LeastAllocated;

    /// <summary>
    /// Prefer the node Karpenter nominated (its <c>Nominated</c> event on the pod names a NodeClaim or a Node) when the
    /// pod fits there. kube-scheduler does not read those events; this makes the simulation follow Karpenter's plan
    /// when several nodes fit, so that what is checked is whether the plan is feasible.
    /// </summary>
    public bool PreferNominatedNodes { get; set; } = true;

    /// <summary>Bindings (and status writes) in flight at once, as kube-scheduler binds asynchronously.</summary>
    [Range(1, 256)]
    public int Parallelism { get; set; } = 16;
}

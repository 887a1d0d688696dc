namespace Karpenter.Sim.Scenarios;

/// <summary>The world at one moment of a run (simulated time since the start).</summary>
public sealed record Sample
{
    public required TimeSpan At { get; init; }

    public required int PendingPods { get; init; }

    public required int RunningPods { get; init; }

    public required int Nodes { get; init; }

    public required int ReadyNodes { get; init; }

    /// <summary>Running (or pending) instances.</summary>
    public required int Instances { get; init; }

    /// <summary>The hourly price of the instances running now (on-demand list price, or the spot price of their pool).</summary>
    public required double CostPerHour { get; init; }

    /// <summary>Requested CPU of the pods bound to nodes ÷ the nodes' allocatable CPU (0 when there are no nodes).</summary>
    public required double CpuUtilisation { get; init; }

    public required double MemoryUtilisation { get; init; }

    /// <summary>Instances by "type capacity-type" (e.g. <c>t3.large spot</c>).</summary>
    public required IReadOnlyDictionary<string, int> InstancesByType { get; init; }

    /// <summary>The clock's speed at this sample (below the target while it is slowed for a lagging world).</summary>
    public double Speed { get; init; } = 1;

    /// <summary>The lower bound (configuration LP) of the hourly cost of the pods running or pending now (null: not computed, or none).</summary>
    public double? LowerBoundPerHour { get; init; }

    /// <summary>The pods the bound places (running or pending, DaemonSet pods excluded).</summary>
    public int WorkloadPods { get; init; }

    /// <summary>
    /// The cluster has settled: no pod pending, every instance a Ready node, and the workload pods' demand (their
    /// count and the bound) unchanged for <see cref="ScenarioRunOptions.SettleWindow"/> up to this sample.
    /// </summary>
    public bool Settled { get; init; }

    /// <summary>The fresh-plan reference at this sample (computed at settled samples and at the end; null elsewhere).</summary>
    public FreshPlan? FreshPlan { get; init; }
}

/// <summary>Cost against the fresh plan, and the fresh plan against the lower bound, at one sample.</summary>
public sealed record FreshPlanPoint
{
    public required TimeSpan At { get; init; }

    public required double CostPerHour { get; init; }

    public required double FreshPlanPerHour { get; init; }

    public double? LowerBoundPerHour { get; init; }

    /// <summary>Cost ÷ fresh plan: above 1, provisioning and consolidation leave money on the table.</summary>
    public double? CostOverPlan { get; init; }

    /// <summary>Fresh plan ÷ lower bound: packing plus the bound's looseness.</summary>
    public double? PlanOverBound { get; init; }

    /// <summary>What the cluster runs then ("N × type capacity-type").</summary>
    public required string Runs { get; init; }

    /// <summary>What the fresh plan would launch instead.</summary>
    public required string PlanBuys { get; init; }

    /// <summary>Pods the fresh plan could not place.</summary>
    public int Unplaced { get; init; }
}

/// <summary>
/// The cluster against a from-scratch plan of the same pods by the operator's own scheduler (see
/// <see cref="FreshPlanProbe"/>): separates what provisioning and consolidation leave on the table (cost ÷ plan) from
/// packing and the bound's looseness (plan ÷ bound).
/// </summary>
public sealed record FreshPlanSummary
{
    /// <summary>What the plan assumes (see <see cref="FreshPlanProbe.Assumptions"/>).</summary>
    public required string Assumptions { get; init; }

    /// <summary>Settled samples with a plan and a bound.</summary>
    public int SettledSamples { get; init; }

    /// <summary>Time-averaged fresh plan over the settled samples.</summary>
    public double? SettledFreshPlanPerHour { get; init; }

    /// <summary>Time-averaged cost ÷ time-averaged fresh plan over the settled samples.</summary>
    public double? SettledCostOverPlan { get; init; }

    /// <summary>Time-averaged fresh plan ÷ time-averaged bound over the settled samples.</summary>
    public double? SettledPlanOverBound { get; init; }

    /// <summary>
    /// At the settled peak of demand: the last settled sample with a plan and the largest bound (that of
    /// <see cref="BoundSummary.PeakAt"/>, unless pods changed between its bound and its plan).
    /// </summary>
    public FreshPlanPoint? Peak { get; init; }

    public FreshPlanPoint? AtEnd { get; init; }
}

/// <summary>Cost against the lower bound over a run.</summary>
public sealed record BoundSummary
{
    /// <summary>What the bound assumes (see <see cref="LowerBoundProbe.Assumptions"/>).</summary>
    public required string Assumptions { get; init; }

    /// <summary>How "settled" is defined.</summary>
    public required string SettledDefinition { get; init; }

    public double? LowerBoundAtEnd { get; init; }

    /// <summary>Cost per hour at the end ÷ the bound at the end (null when the bound is zero or unknown).</summary>
    public double? RatioAtEnd { get; init; }

    /// <summary>Settled samples over the run (each <see cref="ScenarioRunOptions.SampleInterval"/> long).</summary>
    public int SettledSamples { get; init; }

    /// <summary>Time-averaged cost per hour over the settled samples.</summary>
    public double? SettledCostPerHour { get; init; }

    /// <summary>Time-averaged lower bound over the settled samples.</summary>
    public double? SettledLowerBoundPerHour { get; init; }

    /// <summary>The headline: time-averaged cost ÷ time-averaged lower bound over the settled samples.</summary>
    public double? SettledRatio { get; init; }

    /// <summary>When the settled demand peaked (the last settled sample with the largest bound).</summary>
    public TimeSpan? PeakAt { get; init; }

    public double? PeakCostPerHour { get; init; }

    public double? PeakLowerBoundPerHour { get; init; }

    /// <summary>Cost ÷ bound at the settled peak of demand.</summary>
    public double? PeakRatio { get; init; }

    /// <summary>Why no bound could be computed, when it could not (the last reason seen).</summary>
    public string? Problem { get; init; }
}

/// <summary>Launches and terminations of one instance type and capacity type over a run.</summary>
public sealed record InstanceTypeCount(string InstanceType, string CapacityType, int Launched, int Terminated, int RunningAtEnd);

/// <summary>What a scenario run did and cost; the summary table, <c>--output json</c> and the HTML report are views of it.</summary>
public sealed record RunReport
{
    public required string Scenario { get; init; }

    public string? Description { get; init; }

    public required TimeSpan Duration { get; init; }

    public required double Speed { get; init; }

    /// <summary>Real time the run took (start of the scenario to its end, not counting start-up).</summary>
    public required TimeSpan WallTime { get; init; }

    /// <summary>Simulated time per real time over the run: lower than <see cref="Speed"/> when the clock was slowed for a lagging operator.</summary>
    public double EffectiveSpeed => WallTime > TimeSpan.Zero ? Duration / WallTime : Speed;

    /// <summary>The cost against the lower bound (null when the run had no bound probe).</summary>
    public BoundSummary? Bound { get; init; }

    /// <summary>The cost against a from-scratch plan of the same pods (null when the run had no fresh-plan probe).</summary>
    public FreshPlanSummary? FreshPlan { get; init; }

    public required IReadOnlyList<Sample> Samples { get; init; }

    /// <summary>Distinct pods created during the run (DaemonSet pods included).</summary>
    public required int PodsCreated { get; init; }

    /// <summary>Distinct pods bound to a node during the run.</summary>
    public required int PodsScheduled { get; init; }

    /// <summary>Pods still waiting for a node at the end.</summary>
    public required int PodsPendingAtEnd { get; init; }

    /// <summary>Creation to binding, median (simulated seconds), over the pods scheduled; null when none were.</summary>
    public double? TimeToScheduleP50Seconds { get; init; }

    public double? TimeToScheduleP99Seconds { get; init; }

    public double? TimeToScheduleMaxSeconds { get; init; }

    public required IReadOnlyList<InstanceTypeCount> InstanceTypes { get; init; }

    public required double CostPerHourAtEnd { get; init; }

    /// <summary>The instances' price integrated over the run (what the hour would have cost).</summary>
    public required double CostOverRun { get; init; }

    /// <summary>The time-weighted mean CPU utilisation over the samples with nodes.</summary>
    public required double MeanCpuUtilisation { get; init; }

    public required double MeanMemoryUtilisation { get; init; }

    /// <summary>Karpenter's events seen during the run (the latest last), as "time reason object: message".</summary>
    public required IReadOnlyList<string> KarpenterEvents { get; init; }

    /// <summary>Optimistic-concurrency conflicts the operator logged (and retried), by "controller on resource" (the simulated cluster's own are in <see cref="Problems"/>).</summary>
    public IReadOnlyDictionary<string, int> ReconcileConflicts { get; init; } = new Dictionary<string, int>();

    /// <summary>Things a user should look at: boot failures, pods never scheduled, instances without a node at the end.</summary>
    public required IReadOnlyList<string> Problems { get; init; }
}

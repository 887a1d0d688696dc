using System.Text.Json.Nodes;

namespace Karpenter.Sim.Scenarios;

/// <summary>Where something was written in a scenario file (1-based line and column), for error messages.</summary>
public readonly record struct SourcePosition(string File, long Line, long Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}

/// <summary>
/// A simulation scenario: the Karpenter manifests to apply, the workloads to run, what changes over time, what the
/// cloud does, which instance-type catalog the AWS emulator serves, how long to run and how fast. Read from YAML by
/// <see cref="ScenarioReader"/>; documented by <c>examples/scenarios/scenario.schema.json</c>.
/// </summary>
public sealed record Scenario
{
    /// <summary>A short name for reports.</summary>
    public required string Name { get; init; }

    public string? Description { get; init; }

    /// <summary>How much simulated time the run covers.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Simulated seconds per real second (the command line's <c>--speed</c> wins).</summary>
    public double Speed { get; init; } = 60;

    /// <summary>A catalog file of instance types for the AWS emulator (absolute), or null for the embedded one.</summary>
    public string? CatalogPath { get; init; }

    /// <summary>
    /// Operator settings by environment-variable name (e.g. <c>FEATURE_GATES: SpotToSpotConsolidation=true</c>), over
    /// the operator's defaults: what a settings change would do is a question a simulation answers.
    /// </summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>Where <see cref="Settings"/> was written (for the operator's refusals), when it was.</summary>
    public SourcePosition? SettingsPosition { get; init; }

    /// <summary>Objects to apply at the start, in order (NodePools, EC2NodeClasses, Deployments, budgets, …).</summary>
    public IReadOnlyList<ScenarioManifest> Manifests { get; init; } = [];

    public IReadOnlyList<Workload> Workloads { get; init; } = [];

    /// <summary>Workload changes, in time order.</summary>
    public IReadOnlyList<TimelineStep> Timeline { get; init; } = [];

    /// <summary>What the cloud does, in time order.</summary>
    public IReadOnlyList<CloudEvent> CloudEvents { get; init; } = [];

    /// <summary>The file the scenario came from (or the embedded resource's name).</summary>
    public required string Source { get; init; }
}

/// <summary>One Kubernetes object to apply, as JSON, and where it came from.</summary>
public sealed record ScenarioManifest(JsonObject Body, SourcePosition Position)
{
    public string ApiVersion => Body["apiVersion"]?.GetValue<string>() ?? string.Empty;

    public string Kind => Body["kind"]?.GetValue<string>() ?? string.Empty;

    public string Name => Body["metadata"]?["name"]?.GetValue<string>() ?? string.Empty;

    public string? Namespace => Body["metadata"]?["namespace"]?.GetValue<string>();

    public override string ToString() => $"{Kind} {(Namespace is null ? string.Empty : Namespace + "/")}{Name} ({ApiVersion}) from {Position}";
}

/// <summary>A Deployment to run (and optionally its PodDisruptionBudget), described by what matters for scheduling.</summary>
public sealed record Workload
{
    public required string Name { get; init; }

    public string Namespace { get; init; } = "default";

    /// <summary>Replicas at the start.</summary>
    public int Replicas { get; init; } = 1;

    /// <summary>Per-pod CPU request (a Kubernetes quantity).</summary>
    public string Cpu { get; init; } = "100m";

    /// <summary>Per-pod memory request (a Kubernetes quantity).</summary>
    public string Memory { get; init; } = "128Mi";

    /// <summary>Extra labels on the pods (the workload's <c>app</c> label is always set).</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> NodeSelector { get; init; } = new Dictionary<string, string>();

    /// <summary>Tolerations, as the pod spec writes them.</summary>
    public JsonArray? Tolerations { get; init; }

    /// <summary>An affinity, as the pod spec writes it.</summary>
    public JsonObject? Affinity { get; init; }

    /// <summary>Topology spread constraints, as the pod spec writes them (the label selector defaults to the workload's pods).</summary>
    public JsonArray? TopologySpreadConstraints { get; init; }

    /// <summary>A PodDisruptionBudget for the workload's pods, if any.</summary>
    public DisruptionBudget? DisruptionBudget { get; init; }

    public required SourcePosition Position { get; init; }
}

/// <summary>A PodDisruptionBudget: exactly one of <see cref="MinAvailable"/> and <see cref="MaxUnavailable"/> (a count or a percentage).</summary>
public sealed record DisruptionBudget(string? MinAvailable, string? MaxUnavailable);

/// <summary>A change to a workload at a simulated time since the start.</summary>
public abstract record TimelineStep(TimeSpan At, string Workload, SourcePosition Position);

/// <summary>Scale a workload to <see cref="Replicas"/>.</summary>
public sealed record ScaleStep(TimeSpan At, string Workload, int Replicas, SourcePosition Position) : TimelineStep(At, Workload, Position);

/// <summary>Delete a workload (and its budget).</summary>
public sealed record DeleteStep(TimeSpan At, string Workload, SourcePosition Position) : TimelineStep(At, Workload, Position);

/// <summary>Something the cloud does.</summary>
public abstract record CloudEvent(TimeSpan At, SourcePosition Position);

/// <summary>
/// At <see cref="CloudEvent.At"/>, interrupt <see cref="Count"/> running spot instances (the oldest first; those of
/// <see cref="InstanceType"/> only, when given): the two-minute warning goes to the interruption queue, then they terminate.
/// </summary>
public sealed record SpotInterruption(TimeSpan At, int Count, string? InstanceType, SourcePosition Position) : CloudEvent(At, Position);

/// <summary>From <see cref="CloudEvent.At"/> to <see cref="Until"/>, launches in the matching pools fail with InsufficientInstanceCapacity.</summary>
public sealed record InsufficientCapacity(TimeSpan At, TimeSpan Until, string? InstanceType, string? Zone, string? CapacityType, SourcePosition Position) : CloudEvent(At, Position);

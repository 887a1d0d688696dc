using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Sim.Aws.World;
using Karpenter.Sim.Clock;
using Karpenter.Sim.Cluster;
using Karpenter.Sim.Cluster.Resources;
using Karpenter.Sim.World;
using Microsoft.Extensions.DependencyInjection;

namespace Karpenter.Sim.Scenarios;

/// <summary>How a run is observed.</summary>
public sealed class ScenarioRunOptions
{
    /// <summary>Simulated time between samples (the live view's refresh and the report's resolution).</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Called after every sample with Karpenter's events since the previous one (the live view).</summary>
    public Action<Sample, IReadOnlyList<string>>? OnSample { get; set; }

    /// <summary>Computes the cost lower bound at each sample (e.g. <see cref="LowerBoundProbe.EstimateAsync"/>); null: no bound.</summary>
    public Func<CancellationToken, Task<BoundEstimate>>? LowerBound { get; set; }

    /// <summary>
    /// Plans the pods from scratch at each settled sample and at the end (e.g. <see cref="FreshPlanProbe.PlanAsync"/>);
    /// null: no fresh-plan reference.
    /// </summary>
    public Func<CancellationToken, Task<FreshPlan>>? FreshPlan { get; set; }

    /// <summary>How long the workload's demand must stay unchanged (with nothing pending) for the cluster to count as settled.</summary>
    public TimeSpan SettleWindow { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// Runs a <see cref="Scenario"/> against a started <see cref="SimulatedWorld"/> (with the operator already running in
/// it): applies the manifests, creates the workloads, plays the timeline and the cloud events on the world's clock,
/// samples the cluster and the bill, and returns the <see cref="RunReport"/>. Bad manifests or workloads end the run
/// with a <see cref="ScenarioException"/> carrying the API server's message.
/// </summary>
public sealed class ScenarioRunner
{
    private const int MaxEvents = 200;
    private readonly Scenario _scenario;
    private readonly SimulatedWorld _world;
    private readonly ScenarioRunOptions _options;
    private readonly ConcurrentDictionary<string, InstanceRecord> _instances = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _podsCreated = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, double> _timeToSchedule = new(StringComparer.Ordinal);
    private readonly List<Sample> _samples = [];
    private readonly List<string> _events = [];
    private readonly HashSet<string> _seenEvents = new(StringComparer.Ordinal);
    private readonly List<string> _problems = [];
    private double _cost;

    public ScenarioRunner(Scenario scenario, SimulatedWorld world, ScenarioRunOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(world);
        _scenario = scenario;
        _world = world;
        _options = options ?? new ScenarioRunOptions();
    }

    public async Task<RunReport> RunAsync(CancellationToken cancellationToken = default)
    {
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var clock = _world.Clock;
        var instanceWatch = WatchInstancesAsync(_world.Aws.World.WatchInstancesAsync(watching.Token));
        var clusterWatch = WatchClusterAsync(_world.Observer.WatchAsync(watching.Token));
        foreach (var instance in _world.Aws.World.Instances())
        {
            Track(instance, clock.GetUtcNow());
        }

        try
        {
            using (var applier = new ManifestApplier(_world.ClientConfiguration))
            {
                foreach (var manifest in _scenario.Manifests)
                {
                    await applier.ApplyAsync(manifest, cancellationToken);
                }
            }

            // The workloads, and each set of timeline actions due together, are written as one burst (as kubectl
            // apply writes them): under a clock hold, so that they reach the cluster within the real time they take.
            var holds = ClockHold.Of(clock);
            using (holds.Hold())
            {
                foreach (var workload in _scenario.Workloads)
                {
                    await CreateWorkloadAsync(workload, cancellationToken);
                }
            }

            var start = clock.GetUtcNow();
            var wall = Stopwatch.StartNew();
            foreach (var ice in _scenario.CloudEvents.OfType<InsufficientCapacity>())
            {
                _world.Aws.World.SetInsufficientCapacity(ice.InstanceType, ice.Zone, ice.CapacityType, start + ice.At, start + ice.Until);
            }

            var actions = new Queue<object>(_scenario.Timeline.Cast<object>()
                .Concat(_scenario.CloudEvents.OfType<SpotInterruption>())
                .OrderBy(a => a is TimelineStep s ? s.At : ((CloudEvent)a).At));
            var nextSample = TimeSpan.Zero;
            var lastSample = TimeSpan.Zero;
            Sample? previous = null;
            while (true)
            {
                var elapsed = clock.GetUtcNow() - start;
                if (actions.TryPeek(out var due) && At(due) <= elapsed)
                {
                    using var hold = holds.Hold();
                    while (actions.TryPeek(out var action) && At(action) <= elapsed)
                    {
                        actions.Dequeue();
                        await RunActionAsync(action, cancellationToken);
                    }
                }

                if (elapsed >= nextSample || elapsed >= _scenario.Duration)
                {
                    var sample = await SampleAsync(Min(elapsed, _scenario.Duration), elapsed >= _scenario.Duration, cancellationToken);
                    if (previous is not null)
                    {
                        _cost += previous.CostPerHour * (sample.At - lastSample).TotalHours;
                    }

                    previous = sample;
                    lastSample = sample.At;
                    nextSample = elapsed + _options.SampleInterval;
                }

                if (elapsed >= _scenario.Duration)
                {
                    break;
                }

                var next = Min(nextSample, _scenario.Duration);
                if (actions.TryPeek(out var upcoming))
                {
                    next = Min(next, At(upcoming));
                }

                var wait = next - elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, clock, cancellationToken);
                }
            }

            wall.Stop();
            return BuildReport(wall.Elapsed);
        }
        finally
        {
            await watching.CancelAsync();
            await Task.WhenAll(instanceWatch, clusterWatch);
        }
    }

    private static TimeSpan At(object action) => action is TimelineStep step ? step.At : ((CloudEvent)action).At;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private async Task CreateWorkloadAsync(Workload workload, CancellationToken cancellationToken)
    {
        try
        {
            await _world.Client.CreateAsync(WorkloadObjects.Deployment(workload, _scenario.Name), cancellationToken);
            if (WorkloadObjects.Budget(workload) is { } budget)
            {
                await _world.Client.CreateAsync(budget, cancellationToken);
            }
        }
        catch (KubeApiException e)
        {
            throw new ScenarioException(workload.Position, $"the API server refused workload '{workload.Name}': {e.Message}", e);
        }
    }

    private async Task RunActionAsync(object action, CancellationToken cancellationToken)
    {
        var namespaceOf = (string name) => _scenario.Workloads.First(w => w.Name == name).Namespace;
        try
        {
            switch (action)
            {
                case ScaleStep scale:
                    await _world.Client.PatchAsync<V1Deployment>(scale.Workload, namespaceOf(scale.Workload), KubePatch.Merge(new { spec = new { replicas = scale.Replicas } }), cancellationToken);
                    break;
                case DeleteStep delete:
                    var ns = namespaceOf(delete.Workload);
                    await _world.Client.DeleteAsync<V1Deployment>(delete.Workload, ns, cancellationToken: cancellationToken);
                    if (_scenario.Workloads.First(w => w.Name == delete.Workload).DisruptionBudget is not null)
                    {
                        await _world.Client.DeleteAsync<V1PodDisruptionBudget>(delete.Workload, ns, cancellationToken: cancellationToken);
                    }

                    break;
                case SpotInterruption spot:
                    Interrupt(spot);
                    break;
            }
        }
        catch (KubeApiException e)
        {
            var position = action is TimelineStep s ? s.Position : ((CloudEvent)action).Position;
            _problems.Add($"{position}: {e.Message}");
        }
    }

    private void Interrupt(SpotInterruption spot)
    {
        var candidates = _world.Aws.World.Instances()
            .Where(i => i.State == InstanceState.Running && i.CapacityType == CapacityTypes.Spot && i.InterruptionTime is null)
            .Where(i => spot.InstanceType is null || i.InstanceType == spot.InstanceType)
            .OrderBy(i => i.LaunchTime)
            .Take(spot.Count)
            .ToList();
        if (candidates.Count < spot.Count)
        {
            _problems.Add($"{spot.Position}: {spot.Count} spot interruption(s) asked for at {ScenarioReader.Format(spot.At)}, but only {candidates.Count} spot instance(s) were running");
        }

        foreach (var instance in candidates)
        {
            _world.Aws.World.InterruptSpotInstance(instance.InstanceId);
        }
    }

    private async Task<Sample> SampleAsync(TimeSpan at, bool final, CancellationToken cancellationToken)
    {
        var nodes = _world.Nodes();
        var pods = _world.Pods();
        foreach (var pod in pods)
        {
            if (pod.Metadata.CreationTimestamp is { } created)
            {
                _podsCreated.TryAdd(pod.Metadata.Uid ?? pod.Metadata.NamespaceProperty + "/" + pod.Metadata.Name, new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)));
            }
        }

        var instances = _world.Aws.World.Instances().Where(i => i.State is InstanceState.Pending or InstanceState.Running).ToList();
        var requested = ResourceAmounts.Empty;
        var allocatable = ResourceAmounts.Empty;
        var nodeNames = new HashSet<string>(nodes.Select(n => n.Metadata.Name), StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            allocatable = allocatable.Add(ResourceAmounts.From(node.Status?.Allocatable));
        }

        foreach (var pod in pods.Where(p => !string.IsNullOrEmpty(p.Spec?.NodeName) && nodeNames.Contains(p.Spec.NodeName) && p.Status?.Phase is not ("Succeeded" or "Failed")))
        {
            requested = requested.Add(PodRequests.Of(pod));
        }

        var bound = _options.LowerBound is { } probe ? await probe(cancellationToken) : null;
        if (bound is not null && bound.PerHour is null)
        {
            _boundProblem = bound.Status;
        }

        if (bound is null || bound.Pods != _lastDemand.Pods || !SameBound(bound.PerHour, _lastDemand.Bound))
        {
            _lastDemand = (bound?.Pods ?? -1, bound?.PerHour, at);
        }

        // Planned right after the bound, so that both see the same pods (a scale-down deleting pods in between would
        // make the plan cheaper than the bound); a plan of a different pod count is no reference and is dropped.
        FreshPlan? freshPlan = null;
        if (_options.FreshPlan is { } planner && (final || at - _lastDemand.Since >= _options.SettleWindow))
        {
            freshPlan = await planner(cancellationToken);
            if (bound is not null && freshPlan.Pods != bound.Pods)
            {
                freshPlan = freshPlan with { PerHour = null, Problem = $"the pods changed between the bound ({bound.Pods}) and the plan ({freshPlan.Pods})" };
            }
        }

        await CollectEventsAsync(at, cancellationToken);
        var newEvents = _events.Skip(_lastReportedEvents).ToList();
        _lastReportedEvents = _events.Count;
        var sample = new Sample
        {
            At = at,
            PendingPods = pods.Count(p => string.IsNullOrEmpty(p.Spec?.NodeName) && p.Metadata.DeletionTimestamp is null && p.Status?.Phase is not ("Succeeded" or "Failed")),
            RunningPods = pods.Count(p => p.Status?.Phase == "Running"),
            Nodes = nodes.Count,
            ReadyNodes = nodes.Count(n => n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true),
            Instances = instances.Count,
            CostPerHour = instances.Sum(Price),
            CpuUtilisation = Ratio(requested[ResourceAmounts.Cpu], allocatable[ResourceAmounts.Cpu]),
            MemoryUtilisation = Ratio(requested[ResourceAmounts.Memory], allocatable[ResourceAmounts.Memory]),
            InstancesByType = instances.GroupBy(i => $"{i.InstanceType} {i.CapacityType}").OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            LowerBoundPerHour = bound?.PerHour,
            Speed = _world.AcceleratedClock?.Speed ?? 1,
            WorkloadPods = bound?.Pods ?? 0,
        };
        sample = sample with
        {
            Settled = bound?.PerHour is not null && sample.PendingPods == 0 && sample.Instances == sample.ReadyNodes && at - _lastDemand.Since >= _options.SettleWindow,
        };
        if (sample.Settled || final)
        {
            sample = sample with { FreshPlan = freshPlan };
        }

        _samples.Add(sample);
        _options.OnSample?.Invoke(sample, newEvents);
        return sample;
    }

    private int _lastReportedEvents;
    private (int Pods, double? Bound, TimeSpan Since) _lastDemand = (-1, null, TimeSpan.Zero);
    private string? _boundProblem;

    private static bool SameBound(double? a, double? b) =>
        a is { } x && b is { } y ? Math.Abs(x - y) <= 1e-6 * Math.Max(1, Math.Max(x, y)) : a is null && b is null;

    private static double Ratio(long part, long whole) => whole <= 0 ? 0 : (double)part / whole;

    private double Price(InstanceSnapshot instance) =>
        instance.CapacityType == CapacityTypes.Spot
            ? _world.Aws.World.SpotPrice(instance.InstanceType, instance.AvailabilityZone) ?? _world.Aws.World.OnDemandPrice(instance.InstanceType) ?? 0
            : _world.Aws.World.OnDemandPrice(instance.InstanceType) ?? 0;

    private async Task CollectEventsAsync(TimeSpan at, CancellationToken cancellationToken)
    {
        KubeList<Corev1Event> events;
        try
        {
            events = await _world.Client.ListAsync<Corev1Event>(cancellationToken: cancellationToken);
        }
        catch (KubeApiException)
        {
            return;
        }

        foreach (var e in events.Items
            .Where(e => (e.ReportingComponent ?? e.Source?.Component) == "karpenter")
            .OrderBy(e => e.LastTimestamp ?? e.EventTime ?? e.Metadata.CreationTimestamp))
        {
            // A repeated event (its count going up) is news only when its message changes.
            var key = $"{e.Metadata.Uid}/{e.Message}";
            if (!_seenEvents.Add(key))
            {
                continue;
            }

            _events.Add($"{ScenarioReader.Format(at)} {e.Reason} {e.InvolvedObject?.Kind}/{e.InvolvedObject?.Name}: {e.Message}");
        }
    }

    private async Task WatchInstancesAsync(IAsyncEnumerable<InstanceEvent> events)
    {
        try
        {
            await foreach (var e in events)
            {
                Track(e.Instance, e.Time);
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    private void Track(InstanceSnapshot instance, DateTimeOffset at)
    {
        var record = _instances.GetOrAdd(instance.InstanceId, _ => new InstanceRecord(instance.InstanceType, instance.CapacityType, instance.LaunchTime));
        if (instance.State is InstanceState.ShuttingDown or InstanceState.Terminated)
        {
            record.EndedAt ??= at;
        }
    }

    private async Task WatchClusterAsync(IAsyncEnumerable<ClusterEvent> events)
    {
        try
        {
            await foreach (var e in events)
            {
                if (e.Kind == ClusterEventKind.PodScheduled && e.Namespace is { } ns)
                {
                    var pod = _world.ClusterServices.GetRequiredService<ClusterCaches>().Pods.Get(new ObjectKey(ns, e.Name));
                    if (pod?.Metadata.CreationTimestamp is { } created)
                    {
                        var key = pod.Metadata.Uid ?? ns + "/" + e.Name;
                        _podsCreated.TryAdd(key, new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)));
                        _timeToSchedule.TryAdd(key, Math.Max(0, (e.Time - new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc))).TotalSeconds));
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    private RunReport BuildReport(TimeSpan wallTime)
    {
        var last = _samples[^1];
        var times = _timeToSchedule.Values.Order().ToList();
        var problems = new List<string>(_problems);
        foreach (var failure in _world.BootFailures)
        {
            problems.Add($"instance {failure.InstanceId} never became a node: {failure.Reason}");
        }

        if (last.PendingPods > 0)
        {
            problems.Add($"{last.PendingPods} pod(s) were still pending at the end");
        }

        var nodeProviders = new HashSet<string>(_world.Nodes().Select(n => n.Spec?.ProviderID ?? string.Empty), StringComparer.Ordinal);
        var withoutNode = _world.Aws.World.Instances()
            .Where(i => i.State == InstanceState.Running && !nodeProviders.Contains(i.ProviderId) && _world.Clock.GetUtcNow() - i.LaunchTime > TimeSpan.FromMinutes(5))
            .Select(i => i.InstanceId)
            .ToList();
        if (withoutNode.Count > 0)
        {
            problems.Add($"{withoutNode.Count} instance(s) running for over 5 minutes without a node at the end: {string.Join(", ", withoutNode.Take(10))}");
        }

        var withNodes = _samples.Where(s => s.Nodes > 0).ToList();
        return new RunReport
        {
            Scenario = _scenario.Name,
            Description = _scenario.Description,
            Duration = _scenario.Duration,
            Speed = _world.AcceleratedClock?.Speed ?? 1,
            WallTime = wallTime,
            Samples = [.. _samples],
            PodsCreated = _podsCreated.Count,
            PodsScheduled = times.Count,
            PodsPendingAtEnd = last.PendingPods,
            TimeToScheduleP50Seconds = Percentile(times, 0.50),
            TimeToScheduleP99Seconds = Percentile(times, 0.99),
            TimeToScheduleMaxSeconds = times.Count == 0 ? null : times[^1],
            InstanceTypes = [.. _instances.Values
                .GroupBy(r => (r.InstanceType, r.CapacityType))
                .Select(g => new InstanceTypeCount(g.Key.InstanceType, g.Key.CapacityType, g.Count(), g.Count(r => r.EndedAt is not null), g.Count(r => r.EndedAt is null)))
                .OrderBy(c => c.InstanceType, StringComparer.Ordinal).ThenBy(c => c.CapacityType, StringComparer.Ordinal)],
            CostPerHourAtEnd = last.CostPerHour,
            CostOverRun = _cost,
            MeanCpuUtilisation = withNodes.Count == 0 ? 0 : withNodes.Average(s => s.CpuUtilisation),
            MeanMemoryUtilisation = withNodes.Count == 0 ? 0 : withNodes.Average(s => s.MemoryUtilisation),
            KarpenterEvents = [.. _events.TakeLast(MaxEvents)],
            Problems = problems,
            Bound = _options.LowerBound is null ? null : SummariseBound(_samples, _options.SettleWindow, _boundProblem),
            FreshPlan = _options.FreshPlan is null ? null : SummariseFreshPlan(_samples),
        };
    }

    /// <summary>Cost against the bound: at the end, time-averaged over the settled samples, and at the settled peak of demand.</summary>
    internal static BoundSummary SummariseBound(IReadOnlyList<Sample> samples, TimeSpan settleWindow, string? problem)
    {
        var last = samples[^1];
        var settled = samples.Where(s => s.Settled && s.LowerBoundPerHour is not null).ToList();
        var cost = settled.Count == 0 ? (double?)null : settled.Average(s => s.CostPerHour);
        var bound = settled.Count == 0 ? (double?)null : settled.Average(s => s.LowerBoundPerHour!.Value);
        var peakBound = settled.Count == 0 ? 0 : settled.Max(s => s.LowerBoundPerHour!.Value);
        var peak = settled.LastOrDefault(s => peakBound > 0 && SameBound(s.LowerBoundPerHour, peakBound));
        return new BoundSummary
        {
            Assumptions = LowerBoundProbe.Assumptions,
            SettledDefinition = $"settled: no pod pending, every instance a Ready node, and the pods' demand (count and bound) unchanged for {ScenarioReader.Format(settleWindow)}",
            LowerBoundAtEnd = last.LowerBoundPerHour,
            RatioAtEnd = RatioOf(last.CostPerHour, last.LowerBoundPerHour),
            SettledSamples = settled.Count,
            SettledCostPerHour = cost,
            SettledLowerBoundPerHour = bound,
            SettledRatio = cost is { } c ? RatioOf(c, bound) : null,
            PeakAt = peak?.At,
            PeakCostPerHour = peak?.CostPerHour,
            PeakLowerBoundPerHour = peak?.LowerBoundPerHour,
            PeakRatio = peak is null ? null : RatioOf(peak.CostPerHour, peak.LowerBoundPerHour),
            Problem = problem,
        };
    }

    /// <summary>
    /// Cost against the fresh plan, and the fresh plan against the bound: at the settled peak of demand (the last
    /// settled sample with a plan and the largest bound), time-averaged over the settled samples, and at the end.
    /// </summary>
    internal static FreshPlanSummary SummariseFreshPlan(IReadOnlyList<Sample> samples)
    {
        var settled = samples.Where(s => s.Settled && s.FreshPlan?.PerHour is not null && s.LowerBoundPerHour is not null).ToList();
        var peakBound = settled.Count == 0 ? 0 : settled.Max(s => s.LowerBoundPerHour!.Value);
        var peak = settled.LastOrDefault(s => peakBound > 0 && SameBound(s.LowerBoundPerHour, peakBound));
        var cost = settled.Count == 0 ? (double?)null : settled.Average(s => s.CostPerHour);
        var plan = settled.Count == 0 ? (double?)null : settled.Average(s => s.FreshPlan!.PerHour!.Value);
        var bound = settled.Count == 0 ? (double?)null : settled.Average(s => s.LowerBoundPerHour!.Value);
        return new FreshPlanSummary
        {
            Assumptions = FreshPlanProbe.Assumptions,
            SettledSamples = settled.Count,
            SettledFreshPlanPerHour = plan,
            SettledCostOverPlan = cost is { } c ? RatioOf(c, plan) : null,
            SettledPlanOverBound = plan is { } p ? RatioOf(p, bound) : null,
            Peak = peak is null ? null : Point(peak),
            AtEnd = samples[^1].FreshPlan is { PerHour: not null } ? Point(samples[^1]) : null,
        };

        static FreshPlanPoint Point(Sample s) => new()
        {
            At = s.At,
            CostPerHour = s.CostPerHour,
            FreshPlanPerHour = s.FreshPlan!.PerHour!.Value,
            LowerBoundPerHour = s.LowerBoundPerHour,
            CostOverPlan = RatioOf(s.CostPerHour, s.FreshPlan.PerHour),
            PlanOverBound = RatioOf(s.FreshPlan.PerHour!.Value, s.LowerBoundPerHour),
            Runs = string.Join(", ", s.InstancesByType.OrderByDescending(t => t.Value).ThenBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Value} × {t.Key}")),
            PlanBuys = s.FreshPlan.Buys,
            Unplaced = s.FreshPlan.Unplaced,
        };
    }

    private static double? RatioOf(double cost, double? bound) => bound is > 1e-9 ? cost / bound : null;

    /// <summary>The nearest-rank percentile of sorted values.</summary>
    internal static double? Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return null;
        }

        var rank = (int)Math.Ceiling(p * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    private sealed class InstanceRecord(string instanceType, string capacityType, DateTimeOffset launchedAt)
    {
        public string InstanceType { get; } = instanceType;

        public string CapacityType { get; } = capacityType;

        public DateTimeOffset LaunchedAt { get; } = launchedAt;

        public DateTimeOffset? EndedAt { get; set; }
    }
}

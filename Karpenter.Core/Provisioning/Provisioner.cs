using k8s.Models;
using Karpenter.Core.Scheduling;
using Karpenter.Core.State;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Entities;
using Karpenter.Kube.Events;
using Karpenter.Kube.Informers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Core.Provisioning;

/// <summary>What one batch did.</summary>
public sealed record ProvisioningResult
{
    public static ProvisioningResult Nothing { get; } = new();

    /// <summary>Pods the batch scheduled (pending pods plus pods of nodes being deleted), after validation.</summary>
    public int Pods { get; init; }

    /// <summary>Pods ignored (opted out, DRA) or rejected (restricted labels) before scheduling.</summary>
    public int Ignored { get; init; }

    /// <summary>The NodeClaims created, and those whose creation failed (their pods are retried next batch).</summary>
    public IReadOnlyList<NodeClaimLaunch> Launches { get; init; } = [];

    /// <summary>Pods nominated to existing nodes or in-flight NodeClaims.</summary>
    public int PlacedOnExisting { get; init; }

    /// <summary>Pods that fit nowhere (each got a FailedScheduling event).</summary>
    public IReadOnlyList<PodSchedulingError> Unschedulable { get; init; } = [];

    public IEnumerable<NodeClaim> Created => Launches.Where(l => l.Created is not null).Select(l => l.Created!);

    public int FailedLaunches => Launches.Count(l => l.Created is null);
}

/// <summary>The outcome of creating one planned NodeClaim: the stored NodeClaim, or why it could not be created.</summary>
public sealed record NodeClaimLaunch(PlannedNodeClaim Planned, NodeClaim? Created, string? Error);

/// <summary>
/// Upstream's provisioner (<c>provisioning/provisioner.go</c>) as a singleton controller. Woken by provisionable pods
/// and by nodes starting deletion, it waits for the batch window to close (<see cref="Batcher"/>: 1 s idle, 10 s at
/// most), then, once the cluster state has synced, runs one scheduling simulation over the pending pods plus the
/// reschedulable pods of deleting nodes: existing nodes and in-flight NodeClaims first, then new NodeClaims from the
/// Ready, dynamic NodePools by weight within their limits. It creates the new NodeClaims through the API in parallel,
/// nominates every placed pod (cluster state and a <c>Nominated</c> event) so the next batch does not launch for it
/// again within <see cref="NominationWindow"/>, and gives every pod that fits nowhere a <c>FailedScheduling</c> event
/// with the reason per NodePool. Bad input fails a pod or a NodePool, never the batch; a failed create loses nothing
/// (its pods stay pending and are retried).
/// </summary>
[EntityRbac(typeof(NodePool), Verbs = RbacVerbs.Read)]
[EntityRbac(typeof(NodeClaim), Verbs = RbacVerbs.Read | RbacVerbs.Create)]
[GenericRbac(Groups = [""], Resources = ["pods", "nodes", "namespaces", "persistentvolumeclaims", "persistentvolumes"], Verbs = RbacVerbs.Read)]
[GenericRbac(Groups = ["apps"], Resources = ["daemonsets"], Verbs = RbacVerbs.Read)]
[GenericRbac(Groups = ["storage.k8s.io"], Resources = ["storageclasses"], Verbs = RbacVerbs.Read)]
public sealed partial class Provisioner : ISingletonReconciler
{
    /// <summary>The controller's name (logs, metrics, the singleton's key).</summary>
    public const string ControllerName = "provisioner";

    /// <summary>While pods stay pending the provisioner looks again this often (upstream's pod trigger requeues every 10 s).</summary>
    public static readonly TimeSpan PendingRecheck = TimeSpan.FromSeconds(10);

    /// <summary>How often it checks again while the cluster state has not synced.</summary>
    public static readonly TimeSpan SyncRecheck = TimeSpan.FromSeconds(1);

    private readonly ClusterState _state;
    private readonly Batcher _batcher;
    private readonly Scheduler _scheduler;
    private readonly SchedulingInputs _inputs;
    private readonly IKubeClient _client;
    private readonly Informer<NodePool> _nodePools;
    private readonly IEventRecorder _events;
    private readonly BatchingOptions _batching;
    private readonly ProvisionerOptions _options;
    private readonly KarpenterOptions _policies;
    private readonly ProvisioningMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<Provisioner> _logger;

    public Provisioner(
        ClusterState state,
        Batcher batcher,
        Scheduler scheduler,
        SchedulingInputs inputs,
        IKubeClient client,
        InformerFactory informers,
        IEventRecorder events,
        IOptions<BatchingOptions> batching,
        IOptions<ProvisionerOptions> options,
        IOptions<KarpenterOptions> policies,
        ProvisioningMetrics metrics,
        TimeProvider time,
        ILogger<Provisioner> logger)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(batcher);
        ArgumentNullException.ThrowIfNull(informers);
        ArgumentNullException.ThrowIfNull(batching);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(policies);
        _state = state;
        _batcher = batcher;
        _scheduler = scheduler;
        _inputs = inputs;
        _client = client;
        _nodePools = informers.Get<NodePool>();
        _events = events;
        _batching = batching.Value;
        _options = options.Value;
        _policies = policies.Value;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        state.CapacityNeeded += batcher.Trigger;
    }

    /// <summary>How long a nomination hides its pods from later batches: max(2 × BATCH_MAX_DURATION, 10 s), as upstream.</summary>
    public TimeSpan NominationWindow => TimeSpan.FromTicks(Math.Max(2 * _batching.BatchMaxDuration.Ticks, TimeSpan.FromSeconds(10).Ticks));

    /// <summary>Waits for a batch (or the wake-up timeout), provisions it, and says when to look again.</summary>
    public async Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken)
    {
        if (!_state.Synced || !_nodePools.HasSynced)
        {
            WaitingForSync();
            return ReconcileResult.After(SyncRecheck);
        }

        await _batcher.WaitAsync(cancellationToken);
        var result = await ProvisionAsync(cancellationToken);
        if (result.FailedLaunches > 0)
        {
            return ReconcileResult.RequeueRateLimited;
        }

        var (waiting, nextExpiry) = _state.PendingPodsSummary();
        if (waiting > 0)
        {
            return ReconcileResult.After(PendingRecheck);
        }

        return nextExpiry is { } expiry ? ReconcileResult.After((expiry - _time.GetUtcNow()) + TimeSpan.FromMilliseconds(1)) : ReconcileResult.Done;
    }

    /// <summary>Provisions for the pods waiting now (one scheduling simulation), without waiting for a batch window.</summary>
    public async Task<ProvisioningResult> ProvisionAsync(CancellationToken cancellationToken)
    {
        var pending = _state.PendingPods();
        var rescheduled = _state.ReschedulablePods();
        var pods = new List<V1Pod>(pending.Count + rescheduled.Count);
        var ignored = 0;
        foreach (var pod in pending)
        {
            switch (PodValidation.Check(pod, _inputs.WellKnownLabels, _options.IgnoreDraRequests, out var why))
            {
                case PodVerdict.Provision:
                    pods.Add(pod);
                    break;
                case PodVerdict.Ignore:
                    ignored++;
                    PodIgnored(pod.Metadata.NamespaceProperty, pod.Metadata.Name, why!);
                    break;
                default:
                    ignored++;
                    PodIgnored(pod.Metadata.NamespaceProperty, pod.Metadata.Name, why!);
                    _events.Publish(FailedScheduling(pod, $"ignoring pod, {why}"));
                    break;
            }
        }

        pods.AddRange(rescheduled);
        _metrics.SetIgnored(ignored);
        if (pods.Count == 0)
        {
            _metrics.SetUnschedulable(0);
            return ProvisioningResult.Nothing with { Ignored = ignored };
        }

        var nodePools = await _inputs.ResolveNodePoolsAsync(_nodePools.List(), cancellationToken);
        var input = _inputs.Build(pods, nodePools, new SchedulingOptions
        {
            PreferencePolicy = _policies.PreferencePolicy,
            MinValuesPolicy = _policies.MinValuesPolicy,
            WellKnownLabels = _inputs.WellKnownLabels,
        });

        SchedulingResult result;
        var started = _time.GetTimestamp();
        _metrics.SetQueueDepth(pods.Count);
        using (var timeout = new CancellationTokenSource(_options.SolveTimeout, _time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken))
        {
            result = _scheduler.Solve(input, linked.Token);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var solveTime = _time.GetElapsedTime(started);
        _metrics.SetQueueDepth(0);
        _metrics.SchedulingDuration.Record(solveTime.TotalSeconds, new KeyValuePair<string, object?>("controller", ControllerName));
        foreach (var wait in _state.RecordSchedulingDecisions(pods))
        {
            _metrics.SchedulingDecisionDuration.Record(wait.TotalSeconds);
        }

        foreach (var error in result.PodErrors)
        {
            _events.Publish(FailedScheduling(error.Pod, Explain(error, nodePools.Skipped)));
        }

        _metrics.SetUnschedulable(result.PodErrors.Count);
        var until = _time.GetUtcNow() + NominationWindow;
        var placed = NominateExisting(result.ExistingNodes, until);
        var launches = await CreateNodeClaimsAsync(result.NewNodeClaims, nodePools, ProvisioningMetrics.ProvisionedReason, cancellationToken);
        var failed = launches.Count(l => l.Created is null);
        Batch(pods.Count, result.NewNodeClaims.Count - failed, failed, placed, result.PodErrors.Count, ignored, (long)solveTime.TotalMilliseconds);
        return new ProvisioningResult
        {
            Pods = pods.Count,
            Ignored = ignored,
            Launches = launches,
            PlacedOnExisting = placed,
            Unschedulable = result.PodErrors,
        };
    }

    /// <summary>
    /// Creates <paramref name="planned"/> NodeClaims through the API, in parallel, from the NodePool resources in
    /// <paramref name="nodePools"/>. Each one created is recorded in the cluster state at once (so limits and the next
    /// batch see it before its informer does), counted in <c>karpenter_nodeclaims_created_total</c> with
    /// <paramref name="reason"/>, and its pods are nominated to it (state and a <c>Nominated</c> event). A failed create
    /// does not affect the others; its pods stay pending. Disruption uses this to launch replacements.
    /// </summary>
    public async Task<IReadOnlyList<NodeClaimLaunch>> CreateNodeClaimsAsync(IReadOnlyList<PlannedNodeClaim> planned, ProvisionableNodePools nodePools, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(planned);
        ArgumentNullException.ThrowIfNull(nodePools);
        var launches = new NodeClaimLaunch[planned.Count];
        var until = _time.GetUtcNow() + NominationWindow;
        await Parallel.ForEachAsync(
            Enumerable.Range(0, planned.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.MaxParallelCreates, CancellationToken = cancellationToken },
            async (i, token) => launches[i] = await CreateAsync(planned[i], nodePools, reason, until, token));
        return launches;
    }

    private async Task<NodeClaimLaunch> CreateAsync(PlannedNodeClaim planned, ProvisionableNodePools nodePools, string reason, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var poolName = planned.NodePool.Name;
        if (!nodePools.Resources.TryGetValue(poolName, out var nodePool))
        {
            return new NodeClaimLaunch(planned, null, $"NodePool {poolName} is not among the NodePools the plan was made from");
        }

        NodeClaim created;
        try
        {
            created = await _client.CreateAsync(NodeClaimFactory.ToNodeClaim(planned, nodePool), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is KubeApiException or HttpRequestException or TimeoutException or OperationCanceledException)
        {
            CreateFailed(e, poolName, planned.Pods.Count);
            if (e is KubeInvalidException or KubeForbiddenException)
            {
                // Retrying will not help until something changes: tell the pods' owners why.
                foreach (var pod in planned.Pods)
                {
                    _events.Publish(FailedScheduling(pod, $"creating a NodeClaim from nodepool \"{poolName}\" failed, {e.Message}"));
                }
            }

            return new NodeClaimLaunch(planned, null, e.Message);
        }

        var name = created.Metadata.Name;
        _state.AddCreatedNodeClaim(StateNodeClaim.FromNodeClaim(created), planned.Pods, until);
        _metrics.Created(reason, poolName, planned.MinValuesRelaxed);
        if (_logger.IsEnabled(LogLevel.Information))
        {
            var requests = FormatRequests(planned.Requests);
            var types = FormatTypes([.. planned.InstanceTypes.Select(t => t.Name)]);
            Created(name, poolName, planned.Pods.Count, requests, types);
        }
        foreach (var pod in planned.Pods)
        {
            _events.Publish(Nominated(pod, $"nodeclaim/{name}"));
        }

        return new NodeClaimLaunch(planned, created, null);
    }

    private int NominateExisting(IReadOnlyList<ExistingNodePlacement> placements, DateTimeOffset until)
    {
        if (placements.Count == 0)
        {
            return 0;
        }

        var claimsByNode = _state.NodeClaims().Where(c => c.NodeName is not null).GroupBy(c => c.NodeName!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Name, StringComparer.Ordinal);
        var placed = 0;
        foreach (var placement in placements)
        {
            var node = placement.Node;
            _state.Nominate(node.Name, placement.Pods, until);
            var target = node.InFlight ? $"nodeclaim/{node.Name}"
                : claimsByNode.TryGetValue(node.Name, out var claim) ? $"nodeclaim/{claim}, node/{node.Name}"
                : $"node/{node.Name}";
            foreach (var pod in placement.Pods)
            {
                _events.Publish(Nominated(pod, target));
                placed++;
            }
        }

        return placed;
    }

    /// <summary>The FailedScheduling note: the scheduler's reason per NodePool, then the NodePools that could not take part.</summary>
    internal static string Explain(PodSchedulingError error, IReadOnlyDictionary<string, string> skipped)
    {
        var parts = new List<string>();
        if (error.ReasonsByNodePool.TryGetValue("*", out var general))
        {
            parts.Add(general);
        }

        foreach (var (pool, reason) in error.ReasonsByNodePool.Where(kv => kv.Key != "*").OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            parts.Add($"incompatible with nodepool \"{pool}\", {reason}");
        }

        foreach (var (pool, reason) in skipped.Where(kv => !error.ReasonsByNodePool.ContainsKey(kv.Key)).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            parts.Add($"nodepool \"{pool}\" was skipped, {reason}");
        }

        return parts.Count == 0 ? "no NodePool can launch capacity for it" : string.Join("; ", parts);
    }

    private static KubeEvent FailedScheduling(V1Pod pod, string why) =>
        new(pod, EventTypes.Warning, EventReasons.FailedScheduling, $"Failed to schedule pod, {why}")
        {
            DedupeValues = [pod.Metadata?.Uid ?? $"{pod.Metadata?.NamespaceProperty}/{pod.Metadata?.Name}"],
            DedupeTimeout = TimeSpan.FromMinutes(5),
        };

    private static KubeEvent Nominated(V1Pod pod, string target) =>
        new(pod, EventTypes.Normal, EventReasons.Nominated, $"Pod should schedule on: {target}")
        {
            DedupeValues = [pod.Metadata?.Uid ?? $"{pod.Metadata?.NamespaceProperty}/{pod.Metadata?.Name}", target],
        };

    private static string FormatRequests(Resources requests) => string.Join(", ", requests.ToList().Select(kv => $"{kv.Key}: {kv.Value}"));

    private static string FormatTypes(List<string> names) =>
        names.Count <= 5 ? string.Join(", ", names) : $"{string.Join(", ", names.Take(5))} and {names.Count - 5} other(s)";

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "waiting on cluster sync")]
    private partial void WaitingForSync();

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "ignoring pod {Namespace}/{Pod}, {Reason}")]
    private partial void PodIgnored(string? @namespace, string pod, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "created nodeclaim {NodeClaim} from nodepool {NodePool} for {Pods} pod(s), requests {Requests}, instance-types {InstanceTypes}")]
    private partial void Created(string nodeClaim, string nodePool, int pods, string requests, string instanceTypes);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "creating a nodeclaim from nodepool {NodePool} for {Pods} pod(s) failed; they stay pending and are retried")]
    private partial void CreateFailed(Exception exception, string nodePool, int pods);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "batch of {Pods} pod(s): {NodeClaims} nodeclaim(s) created, {Failed} failed, {Existing} pod(s) nominated to existing capacity, {Unschedulable} unschedulable, {Ignored} ignored, solved in {SolveMs} ms")]
    private partial void Batch(int pods, int nodeClaims, int failed, int existing, int unschedulable, int ignored, long solveMs);
}

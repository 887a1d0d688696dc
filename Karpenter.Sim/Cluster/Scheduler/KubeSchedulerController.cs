using System.Collections.Concurrent;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Karpenter.Sim.Clock;
using Karpenter.Sim.Cluster.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Sim.Cluster.Scheduler;

/// <summary>
/// An independent kube-scheduler: each pass takes the pending pods (highest priority first, then oldest), filters every
/// node with <see cref="PodFit"/>, binds each pod through the <c>binding</c> subresource to the best-scoring node
/// (Karpenter's nominated node when it fits) and marks the others <c>PodScheduled=False</c>, reason
/// <c>Unschedulable</c>, with kube-scheduler's message — which is what wakes Karpenter's provisioner. Pods placed in
/// a pass are assumed bound until the informer shows them, so a later pass never double-books their room. Runs on
/// every pod, node and nomination change, and every <see cref="SchedulerOptions.RetryInterval"/> while pods are pending.
/// A pass that meets workload pods it has never tried runs under a clock hold (<see cref="IClockHold"/>), so that
/// scheduling or marking a burst of new pods takes the simulated time it takes a real kube-scheduler (milliseconds),
/// not <c>speed</c> times as long, and Karpenter sees a scale-up arrive as it would in a cluster. Passes over pods
/// it has already marked (retries while nodes boot) and over new DaemonSet pods (never Karpenter's to provision)
/// run on the accelerated clock: holding them would slow the whole simulation for no difference Karpenter sees.
/// </summary>
public sealed class KubeSchedulerController(
    ClusterCaches caches,
    IKubeClient client,
    ComponentEvents events,
    ClusterObserver observer,
    IOptions<SchedulerOptions> options,
    TimeProvider time,
    IClockHold holds,
    ILogger<KubeSchedulerController> logger) : ISingletonReconciler
{
    public const string Name = "kube-scheduler";

    private static readonly TimeSpan AssumeTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(5);
    private readonly SchedulerOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, (string Node, DateTimeOffset Until)> _assumed = new(StringComparer.Ordinal);

    /// <summary>Whether this scheduler is responsible for <paramref name="pod"/> and it waits for a node.</summary>
    public bool IsPending(V1Pod pod) =>
        string.IsNullOrEmpty(pod.Spec?.NodeName) &&
        pod.Metadata.DeletionTimestamp is null &&
        !PodFacts.IsTerminal(pod) &&
        (pod.Spec?.SchedulerName ?? _options.SchedulerName) == _options.SchedulerName;

    public async Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var pods = caches.Pods.List();
        var bound = new List<(V1Pod, string)>();
        var pending = new List<V1Pod>();
        foreach (var pod in pods)
        {
            if (PodFacts.IsTerminal(pod))
            {
                continue;
            }

            if (!string.IsNullOrEmpty(pod.Spec?.NodeName))
            {
                _assumed.TryRemove(pod.Metadata.Uid, out _);
                bound.Add((pod, pod.Spec.NodeName));
            }
            else if (_assumed.TryGetValue(pod.Metadata.Uid, out var assumed))
            {
                if (assumed.Until > now && pod.Metadata.DeletionTimestamp is null)
                {
                    bound.Add((pod, assumed.Node));
                }
                else
                {
                    _assumed.TryRemove(pod.Metadata.Uid, out _);
                }
            }
            else if (IsPending(pod))
            {
                pending.Add(pod);
            }
        }

        using var hold = pending.Any(IsNewWorkloadPod) ? holds.Hold() : null;
        var nodes = caches.Nodes.List();
        var snapshot = new SchedulingSnapshot(nodes, bound, caches.Namespaces.List());
        var nodesByClaim = Nominations.NodesByNodeClaim(nodes);
        var work = new List<Task>();
        using var slots = new SemaphoreSlim(_options.Parallelism);
        var unschedulable = 0;
        var placed = 0;
        foreach (var pod in pending.OrderByDescending(p => p.Spec?.Priority ?? 0).ThenBy(p => p.Metadata.CreationTimestamp).ThenBy(p => p.Metadata.Name, StringComparer.Ordinal))
        {
            if (pod.Spec?.SchedulingGates is { Count: > 0 })
            {
                work.Add(Limited(slots, () => MarkAsync(pod, "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates", cancellationToken), cancellationToken));
                continue;
            }

            var (node, message) = Place(pod, snapshot, nodesByClaim);
            if (node is null)
            {
                unschedulable++;
                work.Add(Limited(slots, () => MarkAsync(pod, "Unschedulable", message!, cancellationToken), cancellationToken));
                continue;
            }

            placed++;
            _assumed[pod.Metadata.Uid] = (node.Name, now + AssumeTimeout);
            snapshot.Place(pod, node);
            work.Add(Limited(slots, () => BindAsync(pod, node.Name, cancellationToken), cancellationToken));
        }

        await Task.WhenAll(work);
        logger.SchedulerPass(pending.Count, placed, unschedulable, snapshot.Nodes.Count);
        return ReconcileResult.After(unschedulable > 0 || placed > 0 ? _options.RetryInterval : Idle);
    }

    /// <summary>A pod no pass has tried yet (no PodScheduled condition) that is not a DaemonSet's.</summary>
    private static bool IsNewWorkloadPod(V1Pod pod) =>
        PodFacts.Condition(pod, "PodScheduled") is null && PodFacts.ControllerOf(pod)?.Kind != "DaemonSet";

    private (NodeInfo? Node, string? Message) Place(V1Pod pod, SchedulingSnapshot snapshot, ILookup<string, string> nodesByClaim)
    {
        PodFit fit;
        try
        {
            fit = new PodFit(pod, snapshot);
        }
        catch (FormatException e)
        {
            return (null, $"0/{snapshot.Nodes.Count} nodes are available: {e.Message}.");
        }

        var nominated = _options.PreferNominatedNodes ? Nominations.NodesFor(pod, caches, nodesByClaim) : [];
        NodeInfo? best = null;
        var bestScore = double.MinValue;
        var reasons = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in snapshot.Nodes)
        {
            if (fit.Filter(node) is { } failures)
            {
                foreach (var failure in failures)
                {
                    reasons[failure] = reasons.GetValueOrDefault(failure) + 1;
                }

                continue;
            }

            var score = fit.Score(node, nominated.Contains(node.Name), _options.Scoring);
            if (score > bestScore)
            {
                best = node;
                bestScore = score;
            }
        }

        if (best is not null)
        {
            return (best, null);
        }

        if (snapshot.Nodes.Count == 0)
        {
            return (null, "no nodes available to schedule pods");
        }

        var detail = string.Join(", ", reasons.Select(r => $"{r.Value} {r.Key}").Order(StringComparer.Ordinal));
        return (null, $"0/{snapshot.Nodes.Count} nodes are available: {detail}.");
    }

    private async Task BindAsync(V1Pod pod, string nodeName, CancellationToken cancellationToken)
    {
        try
        {
            await client.BindAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty, nodeName, pod.Metadata.Uid, cancellationToken);
        }
        catch (KubeApiException e) when (e is KubeConflictException or KubeNotFoundException)
        {
            _assumed.TryRemove(pod.Metadata.Uid, out _);
            logger.BindFailed(pod.Metadata.NamespaceProperty, pod.Metadata.Name, nodeName, e.Message);
            return;
        }
        catch (KubeApiException e)
        {
            _assumed.TryRemove(pod.Metadata.Uid, out _);
            logger.BindFailed(pod.Metadata.NamespaceProperty, pod.Metadata.Name, nodeName, e.Message);
            throw;
        }

        events.For(Components.Scheduler).Publish(new KubeEvent(pod, EventTypes.Normal, "Scheduled", $"Successfully assigned {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name} to {nodeName}", "Binding"));
        observer.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.PodScheduled, pod.Metadata.NamespaceProperty, pod.Metadata.Name, nodeName, null));
    }

    /// <summary>Sets <c>PodScheduled=False</c> with the reason and message (when they changed) and records FailedScheduling.</summary>
    private async Task MarkAsync(V1Pod pod, string reason, string message, CancellationToken cancellationToken)
    {
        var current = PodFacts.Condition(pod, "PodScheduled");
        if (current is { Status: "False" } && current.Reason == reason && current.Message == message)
        {
            return;
        }

        var original = KubeObjects.DeepClone(pod);
        var modified = KubeObjects.DeepClone(pod);
        var now = time.GetUtcNow().UtcDateTime;
        modified.Status ??= new V1PodStatus();
        var conditions = (modified.Status.Conditions ?? []).Where(c => c.Type != "PodScheduled").ToList();
        conditions.Add(new V1PodCondition
        {
            Type = "PodScheduled",
            Status = "False",
            Reason = reason,
            Message = message,
            LastTransitionTime = current?.Status == "False" ? current.LastTransitionTime ?? now : now,
        });
        modified.Status.Conditions = conditions;
        try
        {
            await client.PatchStatusFromAsync(original, modified, optimisticLock: true, cancellationToken);
        }
        catch (KubeApiException e) when (e is KubeConflictException or KubeNotFoundException)
        {
            // Changed or gone meanwhile; the next pass sees the new state.
            return;
        }

        if (reason == "Unschedulable")
        {
            events.For(Components.Scheduler).Publish(new KubeEvent(pod, EventTypes.Warning, "FailedScheduling", message, "Scheduling"));
            observer.Publish(new ClusterEvent(time.GetUtcNow(), ClusterEventKind.PodUnschedulable, pod.Metadata.NamespaceProperty, pod.Metadata.Name, null, message));
        }
    }

    private static async Task Limited(SemaphoreSlim slots, Func<Task> action, CancellationToken cancellationToken)
    {
        await slots.WaitAsync(cancellationToken);
        try
        {
            await action();
        }
        finally
        {
            slots.Release();
        }
    }
}

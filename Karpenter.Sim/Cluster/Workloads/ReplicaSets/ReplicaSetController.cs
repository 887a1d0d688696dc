using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Karpenter.Sim.Clock;
using Karpenter.Sim.Cluster.Common;
using Microsoft.Extensions.Logging;

namespace Karpenter.Sim.Cluster.Workloads.ReplicaSets;

/// <summary>
/// The ReplicaSet controller: keeps <c>spec.replicas</c> active pods (not terminal, not being deleted) controlled by
/// each ReplicaSet — creating them from the template with <c>generateName</c> and a controller owner reference,
/// deleting the least valuable first when there are too many (unscheduled, then pending, then not ready, then the
/// newest) — so an evicted or deleted pod is replaced; and writes the ReplicaSet's status. A burst of creations or
/// deletions runs under a clock hold (<see cref="IClockHold"/>): it takes the simulated time it takes in a cluster.
/// </summary>
public sealed class ReplicaSetController(
    ClusterCaches caches,
    IKubeClient client,
    ComponentEvents events,
    TimeProvider time,
    IClockHold holds,
    ILogger<ReplicaSetController> logger) : IReconciler<V1ReplicaSet>
{
    public const string Name = "replicaset";

    /// <summary>At most this many pods are created or deleted per reconcile (upstream's burst replicas).</summary>
    private const int BurstReplicas = 500;

    private readonly Expectations _expectations = new();

    public async Task<ReconcileResult> ReconcileAsync(V1ReplicaSet entity, CancellationToken cancellationToken)
    {
        if (entity.Metadata.DeletionTimestamp is not null)
        {
            return ReconcileResult.Done;
        }

        var uid = entity.Metadata.Uid;
        var ns = entity.Metadata.NamespaceProperty;
        var now = time.GetUtcNow();
        var owned = caches.Pods.ByIndex(ClusterCaches.ByOwner, uid).Where(p => PodFacts.ControllerOf(p)?.Uid == uid).ToList();
        var active = owned.Where(PodFacts.IsActive).ToList();
        var activeUids = active.Select(p => p.Metadata.Uid).ToHashSet(StringComparer.Ordinal);
        var creating = _expectations.PendingCreations(uid, name => caches.Pods.Get(new ObjectKey(ns, name)) is not null, now);
        var deleting = _expectations.PendingDeletions(uid, podUid => !activeUids.Contains(podUid), now);
        var doomed = _expectations.DeletingUids(uid);
        var desired = entity.Spec?.Replicas ?? 1;
        var diff = active.Count + creating - deleting - desired;
        if (diff < 0)
        {
            using var hold = holds.Hold();
            await CreateAsync(entity, Math.Min(-diff, BurstReplicas), now, cancellationToken);
        }
        else if (diff > 0)
        {
            // kube-controller-manager's ActivePodsWithRanks order: unassigned, pending, not ready, lower
            // pod-deletion-cost, then the pods with most active replicas on their node first (doubled-up pods go
            // before lone ones, which is what empties a big node in a scale-down), then the most recently ready and
            // the newest. Ranked over this ReplicaSet's pods (upstream counts those of the Deployment's other
            // ReplicaSets too; a rollout is not simulated).
            var colocated = active.Where(p => !string.IsNullOrEmpty(p.Spec?.NodeName))
                .GroupBy(p => p.Spec.NodeName, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var victims = active.Where(p => !doomed.Contains(p.Metadata.Uid))
                .OrderBy(p => string.IsNullOrEmpty(p.Spec?.NodeName) ? 0 : 1)
                .ThenBy(p => p.Status?.Phase switch { PodFacts.PhasePending => 0, PodFacts.PhaseRunning => 2, _ => 1 })
                .ThenBy(p => PodFacts.IsReady(p) ? 1 : 0)
                .ThenBy(DeletionCost)
                .ThenByDescending(p => string.IsNullOrEmpty(p.Spec?.NodeName) ? 0 : colocated.GetValueOrDefault(p.Spec.NodeName))
                .ThenByDescending(p => PodFacts.ReadySince(p) ?? DateTimeOffset.MinValue)
                .ThenByDescending(p => p.Metadata.CreationTimestamp ?? DateTime.MinValue)
                .Take(Math.Min(diff, BurstReplicas))
                .ToList();
            using var hold = holds.Hold();
            foreach (var pod in victims)
            {
                _expectations.Deleted(uid, pod.Metadata.Uid, now);
                try
                {
                    await client.DeleteAsync<V1Pod>(pod.Metadata.Name, ns, KubeClientExtensions.Preconditions(pod.Metadata.Uid), cancellationToken);
                    events.For(Components.ReplicaSetController).Publish(new KubeEvent(entity, EventTypes.Normal, "SuccessfulDelete", $"Deleted pod: {pod.Metadata.Name}"));
                }
                catch (KubeApiException e) when (e is KubeNotFoundException or KubeConflictException)
                {
                    // Already gone.
                }
            }
        }

        return await UpdateStatusAsync(entity, active, now, cancellationToken);
    }

    /// <summary>The <c>controller.kubernetes.io/pod-deletion-cost</c> annotation (0 when absent or not a 32-bit integer, as upstream).</summary>
    private static int DeletionCost(V1Pod pod) =>
        pod.Metadata.Annotations?.TryGetValue("controller.kubernetes.io/pod-deletion-cost", out var text) == true &&
        int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var cost)
            ? cost
            : 0;

    /// <summary>
    /// Creates <paramref name="count"/> pods as kube-controller-manager does (<c>slowStartBatch</c>): batches of 1, 2, 4, …
    /// created concurrently, stopping after a batch with a failure. Created one after the other, a scale-up of 30 pods
    /// took 30 round trips to the API server, which on a loaded machine and an accelerated clock spread the pods over
    /// tens of simulated seconds (more than the provisioner's 10 s batch window) where a real cluster creates them
    /// within a fraction of a second, and the operator saw several small batches instead of one.
    /// </summary>
    private async Task CreateAsync(V1ReplicaSet entity, int count, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var batch = 1;
        for (var remaining = count; remaining > 0; remaining -= batch, batch *= 2)
        {
            batch = Math.Min(batch, remaining);
            var results = await Task.WhenAll(Enumerable.Range(0, batch).Select(_ => CreateOneAsync(entity, now, cancellationToken)));
            if (results.FirstOrDefault(e => e is not null) is { } failure)
            {
                throw failure;
            }
        }
    }

    /// <summary>Creates one pod; returns the API server's refusal instead of throwing, so that the rest of its batch completes.</summary>
    private async Task<KubeApiException?> CreateOneAsync(V1ReplicaSet entity, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var pod = PodTemplates.NewPod(entity, entity.Spec.Template);
        try
        {
            var created = await client.CreateAsync(pod, cancellationToken);
            _expectations.Created(entity.Metadata.Uid, created.Metadata.Name, now);
            events.For(Components.ReplicaSetController).Publish(new KubeEvent(entity, EventTypes.Normal, "SuccessfulCreate", $"Created pod: {created.Metadata.Name}"));
            return null;
        }
        catch (KubeConflictException e)
        {
            // Thrown after the batch, so that the reconcile is retried (a generated name taken, a stale cache).
            return e;
        }
        catch (KubeApiException e)
        {
            logger.PodCreateFailed("ReplicaSet", entity.Metadata.NamespaceProperty, entity.Metadata.Name, e.Message);
            events.For(Components.ReplicaSetController).Publish(new KubeEvent(entity, EventTypes.Warning, "FailedCreate", $"Error creating: {e.Message}"));
            return e;
        }
    }

    private async Task<ReconcileResult> UpdateStatusAsync(V1ReplicaSet entity, List<V1Pod> active, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var minReady = entity.Spec?.MinReadySeconds ?? 0;
        var templateLabels = entity.Spec?.Template?.Metadata?.Labels ?? new Dictionary<string, string>();
        var status = new V1ReplicaSetStatus
        {
            Replicas = active.Count,
            FullyLabeledReplicas = active.Count(p => templateLabels.All(kv => p.Metadata.Labels?.TryGetValue(kv.Key, out var v) == true && v == kv.Value)),
            ReadyReplicas = active.Count(PodFacts.IsReady),
            AvailableReplicas = active.Count(p => PodFacts.IsAvailable(p, minReady, now)),
            ObservedGeneration = entity.Metadata.Generation,
            Conditions = entity.Status?.Conditions,
        };
        if (!KubeJson.Same(status, entity.Status))
        {
            var modified = KubeObjects.DeepClone(entity);
            modified.Status = status;
            try
            {
                await client.PatchStatusFromAsync(entity, modified, optimisticLock: true, cancellationToken);
            }
            catch (KubeConflictException)
            {
                return ReconcileResult.RequeueRateLimited;
            }
        }

        // Pods ready but not yet available become available after minReadySeconds.
        var next = active.Where(PodFacts.IsReady).Select(PodFacts.ReadySince).OfType<DateTimeOffset>()
            .Select(since => since.AddSeconds(minReady)).Where(at => at > now).DefaultIfEmpty().Min();
        return minReady > 0 && next > now ? ReconcileResult.After(next - now) : ReconcileResult.Done;
    }
}

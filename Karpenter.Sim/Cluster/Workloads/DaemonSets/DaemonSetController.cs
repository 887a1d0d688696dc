using System.Globalization;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Karpenter.Sim.Cluster.Common;
using Microsoft.Extensions.Logging;
using WellKnownTaints = Karpenter.Entities.WellKnown.Taints;

namespace Karpenter.Sim.Cluster.Workloads.DaemonSets;

/// <summary>
/// The DaemonSet controller: one pod per node that should run it — the template's node selector and required
/// affinity match, and every NoSchedule/NoExecute taint is tolerated (with the tolerations DaemonSet pods always get:
/// not-ready, unreachable, pressure, unschedulable) — pinned to the node by a <c>metadata.name</c> node affinity and
/// then bound by the scheduler; failed pods are replaced, pods on nodes that should not run them removed, pods of an
/// old template replaced one unavailable pod at a time; and the DaemonSet's status.
/// </summary>
public sealed class DaemonSetController(
    ClusterCaches caches,
    IKubeClient client,
    ComponentEvents events,
    TimeProvider time,
    ILogger<DaemonSetController> logger) : IReconciler<V1DaemonSet>
{
    public const string Name = "daemonset";

    private const string TemplateGenerationLabel = "pod-template-generation";

    /// <summary>The tolerations the DaemonSet controller adds to every pod it creates (<c>util.AddOrUpdateDaemonPodTolerations</c>).</summary>
    public static readonly IReadOnlyList<V1Toleration> DaemonTolerations =
    [
        new() { Key = WellKnownTaints.NotReadyKey, OperatorProperty = "Exists", Effect = WellKnownTaints.EffectNoExecute },
        new() { Key = WellKnownTaints.UnreachableKey, OperatorProperty = "Exists", Effect = WellKnownTaints.EffectNoExecute },
        new() { Key = "node.kubernetes.io/disk-pressure", OperatorProperty = "Exists", Effect = WellKnownTaints.EffectNoSchedule },
        new() { Key = "node.kubernetes.io/memory-pressure", OperatorProperty = "Exists", Effect = WellKnownTaints.EffectNoSchedule },
        new() { Key = "node.kubernetes.io/pid-pressure", OperatorProperty = "Exists", Effect = WellKnownTaints.EffectNoSchedule },
        new() { Key = WellKnownTaints.UnschedulableKey, OperatorProperty = "Exists", Effect = WellKnownTaints.EffectNoSchedule },
    ];

    private readonly Expectations _expectations = new();

    public async Task<ReconcileResult> ReconcileAsync(V1DaemonSet entity, CancellationToken cancellationToken)
    {
        if (entity.Metadata.DeletionTimestamp is not null)
        {
            return ReconcileResult.Done;
        }

        var uid = entity.Metadata.Uid;
        var ns = entity.Metadata.NamespaceProperty;
        var now = time.GetUtcNow();
        var hash = PodTemplates.Hash(entity.Spec.Template);
        var tolerations = Tolerations(entity);
        var owned = caches.Pods.ByIndex(ClusterCaches.ByOwner, uid).Where(p => PodFacts.ControllerOf(p)?.Uid == uid).ToList();
        var byNode = owned.GroupBy(TargetNode).Where(g => g.Key is not null).ToDictionary(g => g.Key!, g => g.ToList(), StringComparer.Ordinal);
        var nodes = caches.Nodes.List();
        var maxUnavailable = MaxUnavailable(entity, nodes.Count);
        var unavailable = owned.Count(p => PodFacts.IsActive(p) && !PodFacts.IsAvailable(p, entity.Spec.MinReadySeconds ?? 0, now));
        int desired = 0, scheduled = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
        foreach (var node in nodes)
        {
            var pods = byNode.GetValueOrDefault(node.Metadata.Name) ?? [];
            var should = ShouldRun(entity, node, tolerations);
            var active = pods.Where(PodFacts.IsActive).OrderBy(p => p.Metadata.CreationTimestamp ?? DateTime.MinValue).ToList();
            foreach (var failed in pods.Where(p => p.Status?.Phase == PodFacts.PhaseFailed && p.Metadata.DeletionTimestamp is null))
            {
                await DeleteAsync(entity, failed, "deleting failed pod", cancellationToken);
            }

            var owner = uid + "/" + node.Metadata.Name;
            var creating = _expectations.PendingCreations(owner, name => caches.Pods.Get(new ObjectKey(ns, name)) is not null, now);
            if (should)
            {
                desired++;
                if (active.Count == 0 && creating == 0 && node.Metadata.DeletionTimestamp is null)
                {
                    await CreateAsync(entity, node.Metadata.Name, hash, tolerations, owner, now, cancellationToken);
                }

                foreach (var extra in active.Skip(1))
                {
                    await DeleteAsync(entity, extra, "deleting an extra pod", cancellationToken);
                }

                if (active.FirstOrDefault() is { } pod)
                {
                    scheduled++;
                    ready += PodFacts.IsReady(pod) ? 1 : 0;
                    var isAvailable = PodFacts.IsAvailable(pod, entity.Spec.MinReadySeconds ?? 0, now);
                    available += isAvailable ? 1 : 0;
                    var current = Maps.Get(pod.Metadata.Labels, PodTemplates.ControllerRevisionHashLabel) == hash;
                    updated += current ? 1 : 0;
                    if (!current && entity.Spec.UpdateStrategy?.Type != "OnDelete" && isAvailable && unavailable < maxUnavailable)
                    {
                        unavailable++;
                        await DeleteAsync(entity, pod, "replacing a pod of an old template", cancellationToken);
                    }
                }
            }
            else if (active.Count > 0)
            {
                misscheduled++;
                foreach (var pod in active)
                {
                    await DeleteAsync(entity, pod, "the node no longer runs it", cancellationToken);
                }
            }
        }

        // Unscheduled pods pinned to nodes that no longer exist will never be bound (getUnscheduledPodsWithoutNode).
        var existing = nodes.Select(n => n.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (nodeName, pods) in byNode)
        {
            if (!existing.Contains(nodeName))
            {
                foreach (var pod in pods.Where(p => string.IsNullOrEmpty(p.Spec?.NodeName) && p.Metadata.DeletionTimestamp is null))
                {
                    await DeleteAsync(entity, pod, "its node is gone", cancellationToken);
                }
            }
        }

        await UpdateStatusAsync(entity, desired, scheduled, misscheduled, ready, available, updated, cancellationToken);
        return ReconcileResult.Done;
    }

    /// <summary>Whether the DaemonSet's pod belongs on <paramref name="node"/> (<c>NodeShouldRunDaemonPod</c>).</summary>
    public static bool ShouldRun(V1DaemonSet daemonSet, V1Node node, IList<V1Toleration> tolerations)
    {
        ArgumentNullException.ThrowIfNull(daemonSet);
        ArgumentNullException.ThrowIfNull(node);
        return NodeSelection.Admits(daemonSet.Spec.Template.Spec, node) &&
               Common.Tolerations.FirstUntolerated(node.Spec?.Taints, tolerations, WellKnownTaints.EffectNoSchedule, WellKnownTaints.EffectNoExecute) is null;
    }

    private static List<V1Toleration> Tolerations(V1DaemonSet entity)
    {
        var tolerations = new List<V1Toleration>(entity.Spec.Template.Spec?.Tolerations ?? []);
        foreach (var extra in DaemonTolerations)
        {
            if (!tolerations.Any(t => t.Key == extra.Key && t.Effect == extra.Effect))
            {
                tolerations.Add(extra);
            }
        }

        if (entity.Spec.Template.Spec?.HostNetwork == true)
        {
            tolerations.Add(new V1Toleration { Key = "node.kubernetes.io/network-unavailable", OperatorProperty = "Exists", Effect = WellKnownTaints.EffectNoSchedule });
        }

        return tolerations;
    }

    private async Task CreateAsync(V1DaemonSet entity, string nodeName, string hash, List<V1Toleration> tolerations, string owner, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var pod = PodTemplates.NewPod(entity, entity.Spec.Template, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [PodTemplates.ControllerRevisionHashLabel] = hash,
            [TemplateGenerationLabel] = (entity.Metadata.Generation ?? 1).ToString(CultureInfo.InvariantCulture),
        });
        pod.Spec.Tolerations = tolerations;
        pod.Spec.Affinity ??= new V1Affinity();
        pod.Spec.Affinity.NodeAffinity ??= new V1NodeAffinity();
        pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
        {
            NodeSelectorTerms =
            [
                new V1NodeSelectorTerm { MatchFields = [new V1NodeSelectorRequirement { Key = "metadata.name", OperatorProperty = "In", Values = [nodeName] }] },
            ],
        };
        try
        {
            var created = await client.CreateAsync(pod, cancellationToken);
            _expectations.Created(owner, created.Metadata.Name, now);
            events.For(Components.DaemonSetController).Publish(new KubeEvent(entity, EventTypes.Normal, "SuccessfulCreate", $"Created pod: {created.Metadata.Name}"));
        }
        catch (KubeApiException e)
        {
            logger.PodCreateFailed("DaemonSet", entity.Metadata.NamespaceProperty, entity.Metadata.Name, e.Message);
            events.For(Components.DaemonSetController).Publish(new KubeEvent(entity, EventTypes.Warning, "FailedCreate", $"Error creating: {e.Message}"));
            throw;
        }
    }

    private async Task DeleteAsync(V1DaemonSet entity, V1Pod pod, string why, CancellationToken cancellationToken)
    {
        try
        {
            await client.DeleteAsync<V1Pod>(pod.Metadata.Name, pod.Metadata.NamespaceProperty, KubeClientExtensions.Preconditions(pod.Metadata.Uid), cancellationToken);
            events.For(Components.DaemonSetController).Publish(new KubeEvent(entity, EventTypes.Normal, "SuccessfulDelete", $"Deleted pod: {pod.Metadata.Name} ({why})"));
        }
        catch (KubeApiException e) when (e is KubeNotFoundException or KubeConflictException)
        {
            // Already gone.
        }
    }

    private async Task UpdateStatusAsync(V1DaemonSet entity, int desired, int scheduled, int misscheduled, int ready, int available, int updated, CancellationToken cancellationToken)
    {
        var status = new V1DaemonSetStatus
        {
            DesiredNumberScheduled = desired,
            CurrentNumberScheduled = scheduled,
            NumberMisscheduled = misscheduled,
            NumberReady = ready,
            NumberAvailable = available,
            NumberUnavailable = Math.Max(0, desired - available),
            UpdatedNumberScheduled = updated,
            ObservedGeneration = entity.Metadata.Generation,
            CollisionCount = entity.Status?.CollisionCount,
            Conditions = entity.Status?.Conditions,
        };
        if (KubeJson.Same(status, entity.Status))
        {
            return;
        }

        var modified = KubeObjects.DeepClone(entity);
        modified.Status = status;
        try
        {
            await client.PatchStatusFromAsync(entity, modified, optimisticLock: true, cancellationToken);
        }
        catch (KubeConflictException)
        {
            // The next reconcile writes it from the newer state.
        }
    }

    private static int MaxUnavailable(V1DaemonSet entity, int nodes)
    {
        var value = entity.Spec.UpdateStrategy?.RollingUpdate?.MaxUnavailable?.Value ?? "1";
        if (value.EndsWith('%') && double.TryParse(value[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent))
        {
            return Math.Max(1, (int)Math.Ceiling(percent * nodes / 100));
        }

        return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? Math.Max(1, n) : 1;
    }

    /// <summary>The node a DaemonSet pod is for: where it is bound, or the node its <c>metadata.name</c> affinity pins.</summary>
    private static string? TargetNode(V1Pod pod)
    {
        if (!string.IsNullOrEmpty(pod.Spec?.NodeName))
        {
            return pod.Spec.NodeName;
        }

        return pod.Spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms?
            .SelectMany(t => t.MatchFields ?? [])
            .FirstOrDefault(f => f.Key == "metadata.name" && f.OperatorProperty == "In" && f.Values is { Count: 1 })?.Values[0];
    }
}

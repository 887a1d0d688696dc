using System.Globalization;
using System.Text.Json.Nodes;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Karpenter.Sim.Clock;
using Karpenter.Sim.Cluster.Common;

namespace Karpenter.Sim.Cluster.Workloads.Deployments;

/// <summary>
/// The Deployment controller: a ReplicaSet per pod template (named <c>{deployment}-{pod-template-hash}</c>, the hash
/// added to its selector, labels and template), scaled to <c>spec.replicas</c>; a template change rolls out with
/// <c>RollingUpdate</c> (new ReplicaSet up to <c>replicas + maxSurge</c>, old ones down keeping
/// <c>replicas − maxUnavailable</c> available) or <c>Recreate</c>; old ReplicaSets beyond
/// <c>revisionHistoryLimit</c> are removed; and the Deployment's status and Available/Progressing conditions. Writes
/// to ReplicaSets run under a clock hold (<see cref="IClockHold"/>), taking the simulated time they take in a cluster.
/// </summary>
public sealed class DeploymentController(ClusterCaches caches, IKubeClient client, ComponentEvents events, TimeProvider time, IClockHold holds) : IReconciler<V1Deployment>
{
    public const string Name = "deployment";

    private const string RevisionAnnotation = "deployment.kubernetes.io/revision";
    private const string DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
    private const string MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";

    public async Task<ReconcileResult> ReconcileAsync(V1Deployment entity, CancellationToken cancellationToken)
    {
        if (entity.Metadata.DeletionTimestamp is not null)
        {
            return ReconcileResult.Done;
        }

        var uid = entity.Metadata.Uid;
        var all = caches.ReplicaSets.ByIndex(ClusterCaches.ByOwner, uid).Where(rs => PodFacts.ControllerOf(rs)?.Uid == uid).ToList();
        var current = all.FirstOrDefault(rs => PodTemplates.SameTemplate(rs.Spec?.Template, entity.Spec.Template));
        var old = all.Where(rs => rs != current).ToList();
        var replicas = entity.Spec.Replicas ?? 1;
        var (surge, unavailable) = RollingParameters(entity, replicas);
        if (entity.Spec.Paused != true)
        {
            if (current is null)
            {
                var created = await CreateReplicaSetAsync(entity, old, replicas, surge, cancellationToken);
                if (created is null)
                {
                    return ReconcileResult.RequeueRateLimited;
                }

                current = created;
            }
            else if (entity.Spec.Strategy?.Type == "Recreate")
            {
                await RecreateAsync(entity, current, old, replicas, cancellationToken);
            }
            else
            {
                await RollAsync(entity, current, old, replicas, surge, unavailable, cancellationToken);
            }

            await CleanUpAsync(entity, old, cancellationToken);
        }

        await UpdateStatusAsync(entity, current, all, replicas, unavailable, cancellationToken);
        return ReconcileResult.Done;
    }

    private async Task<V1ReplicaSet?> CreateReplicaSetAsync(V1Deployment entity, List<V1ReplicaSet> old, int replicas, int surge, CancellationToken cancellationToken)
    {
        var hash = PodTemplates.Hash(entity.Spec.Template, entity.Status?.CollisionCount);
        var template = KubeObjects.DeepClone(entity.Spec.Template);
        template.Metadata ??= new V1ObjectMeta();
        template.Metadata.Labels = new Dictionary<string, string>(template.Metadata.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [PodTemplates.PodTemplateHashLabel] = hash,
        };
        var selector = KubeObjects.DeepClone(entity.Spec.Selector);
        selector.MatchLabels = new Dictionary<string, string>(selector.MatchLabels ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [PodTemplates.PodTemplateHashLabel] = hash,
        };
        var oldReplicas = old.Sum(rs => rs.Spec?.Replicas ?? 0);
        var initial = entity.Spec.Strategy?.Type == "Recreate"
            ? (oldReplicas > 0 ? 0 : replicas)
            : Math.Max(0, Math.Min(replicas, replicas + surge - oldReplicas));
        var revision = old.Select(Revision).DefaultIfEmpty(0).Max() + 1;
        var rs = new V1ReplicaSet
        {
            ApiVersion = "apps/v1",
            Kind = "ReplicaSet",
            Metadata = new V1ObjectMeta
            {
                Name = $"{entity.Metadata.Name}-{hash}",
                NamespaceProperty = entity.Metadata.NamespaceProperty,
                Labels = new Dictionary<string, string>(template.Metadata.Labels, StringComparer.Ordinal),
                Annotations = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    [RevisionAnnotation] = revision.ToString(CultureInfo.InvariantCulture),
                    [DesiredReplicasAnnotation] = replicas.ToString(CultureInfo.InvariantCulture),
                    [MaxReplicasAnnotation] = (replicas + surge).ToString(CultureInfo.InvariantCulture),
                },
                OwnerReferences = [PodTemplates.OwnerReference(entity)],
            },
            Spec = new V1ReplicaSetSpec { Replicas = initial, MinReadySeconds = entity.Spec.MinReadySeconds, Selector = selector, Template = template },
        };
        using var hold = holds.Hold();
        try
        {
            var created = await client.CreateAsync(rs, cancellationToken);
            events.For(Components.DeploymentController).Publish(new KubeEvent(entity, EventTypes.Normal, "ScalingReplicaSet", $"Scaled up replica set {created.Metadata.Name} from 0 to {initial}"));
            return created;
        }
        catch (KubeAlreadyExistsException)
        {
            // A ReplicaSet of that name with another template: count the collision so the next hash differs.
            var modified = KubeObjects.DeepClone(entity);
            modified.Status ??= new V1DeploymentStatus();
            modified.Status.CollisionCount = (entity.Status?.CollisionCount ?? 0) + 1;
            await client.PatchStatusFromAsync(entity, modified, optimisticLock: true, cancellationToken);
            return null;
        }
    }

    private async Task RecreateAsync(V1Deployment entity, V1ReplicaSet current, List<V1ReplicaSet> old, int replicas, CancellationToken cancellationToken)
    {
        foreach (var rs in old.Where(rs => (rs.Spec?.Replicas ?? 0) > 0))
        {
            await ScaleAsync(entity, rs, 0, replicas, 0, cancellationToken);
        }

        var oldPods = old.Sum(rs => caches.Pods.ByIndex(ClusterCaches.ByOwner, rs.Metadata.Uid).Count(p => !PodFacts.IsTerminal(p)));
        if (oldPods == 0)
        {
            await ScaleAsync(entity, current, replicas, replicas, 0, cancellationToken);
        }
    }

    private async Task RollAsync(V1Deployment entity, V1ReplicaSet current, List<V1ReplicaSet> old, int replicas, int surge, int unavailable, CancellationToken cancellationToken)
    {
        var oldActive = old.Where(rs => (rs.Spec?.Replicas ?? 0) > 0).ToList();
        if (oldActive.Count == 0)
        {
            await ScaleAsync(entity, current, replicas, replicas, surge, cancellationToken);
            return;
        }

        // Scale the new ReplicaSet up within the surge.
        var total = oldActive.Sum(rs => rs.Spec?.Replicas ?? 0) + (current.Spec?.Replicas ?? 0);
        var currentReplicas = current.Spec?.Replicas ?? 0;
        var up = Math.Min(replicas + surge - total, replicas - currentReplicas);
        if (up > 0)
        {
            currentReplicas += up;
            total += up;
            await ScaleAsync(entity, current, currentReplicas, replicas, surge, cancellationToken);
        }

        // Scale old ReplicaSets down while keeping replicas - maxUnavailable available; unhealthy pods go first.
        var newUnavailable = Math.Max(0, currentReplicas - (current.Status?.AvailableReplicas ?? 0));
        var budget = total - (replicas - unavailable) - newUnavailable;
        foreach (var rs in oldActive.OrderBy(Revision))
        {
            if (budget <= 0)
            {
                break;
            }

            var spec = rs.Spec?.Replicas ?? 0;
            var available = rs.Status?.AvailableReplicas ?? 0;
            var unhealthy = Math.Max(0, spec - available);
            var down = Math.Min(budget, Math.Max(unhealthy, spec));
            await ScaleAsync(entity, rs, spec - down, replicas, surge, cancellationToken);
            budget -= down;
        }
    }

    private async Task CleanUpAsync(V1Deployment entity, List<V1ReplicaSet> old, CancellationToken cancellationToken)
    {
        var limit = entity.Spec.RevisionHistoryLimit ?? 10;
        var idle = old.Where(rs => (rs.Spec?.Replicas ?? 0) == 0 && (rs.Status?.Replicas ?? 0) == 0 && rs.Metadata.DeletionTimestamp is null)
            .OrderBy(Revision).ToList();
        foreach (var rs in idle.Take(Math.Max(0, idle.Count - limit)))
        {
            using var hold = holds.Hold();
            await client.DeleteIfExistsAsync<V1ReplicaSet>(rs.Metadata.Name, rs.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
        }
    }

    private async Task ScaleAsync(V1Deployment entity, V1ReplicaSet rs, int to, int replicas, int surge, CancellationToken cancellationToken)
    {
        var from = rs.Spec?.Replicas ?? 0;
        var desired = replicas.ToString(CultureInfo.InvariantCulture);
        var max = (replicas + surge).ToString(CultureInfo.InvariantCulture);
        if (from == to && Maps.Get(rs.Metadata.Annotations, DesiredReplicasAnnotation) == desired && Maps.Get(rs.Metadata.Annotations, MaxReplicasAnnotation) == max)
        {
            return;
        }

        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [DesiredReplicasAnnotation] = desired, [MaxReplicasAnnotation] = max } },
            ["spec"] = new JsonObject { ["replicas"] = to },
        };
        using var hold = holds.Hold();
        await client.PatchAsync<V1ReplicaSet>(rs.Metadata.Name, rs.Metadata.NamespaceProperty, KubePatch.Merge(patch), cancellationToken);
        if (from != to)
        {
            events.For(Components.DeploymentController).Publish(new KubeEvent(entity, EventTypes.Normal, "ScalingReplicaSet",
                $"Scaled {(to > from ? "up" : "down")} replica set {rs.Metadata.Name} from {from} to {to}"));
        }
    }

    private async Task UpdateStatusAsync(V1Deployment entity, V1ReplicaSet? current, List<V1ReplicaSet> all, int replicas, int unavailable, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var available = all.Sum(rs => rs.Status?.AvailableReplicas ?? 0);
        var specTotal = all.Sum(rs => rs.Spec?.Replicas ?? 0);
        var updated = current?.Status?.Replicas ?? 0;
        var status = new V1DeploymentStatus
        {
            ObservedGeneration = entity.Metadata.Generation,
            Replicas = all.Sum(rs => rs.Status?.Replicas ?? 0),
            UpdatedReplicas = updated,
            ReadyReplicas = all.Sum(rs => rs.Status?.ReadyReplicas ?? 0),
            AvailableReplicas = available,
            UnavailableReplicas = Math.Max(0, specTotal - available),
            CollisionCount = entity.Status?.CollisionCount,
            Conditions = [.. (entity.Status?.Conditions ?? []).Select(KubeObjects.DeepClone)],
        };
        var isAvailable = available >= replicas - unavailable;
        SetCondition(status, "Available", isAvailable ? "True" : "False",
            isAvailable ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
            isAvailable ? "Deployment has minimum availability." : "Deployment does not have minimum availability.", now);
        var complete = current is not null && updated == replicas && available == replicas && all.All(rs => rs == current || (rs.Status?.Replicas ?? 0) == 0);
        SetCondition(status, "Progressing", "True",
            complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
            current is null ? "Waiting for a ReplicaSet." : complete ? $"ReplicaSet \"{current.Metadata.Name}\" has successfully progressed." : $"ReplicaSet \"{current.Metadata.Name}\" is progressing.", now);
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

    private static void SetCondition(V1DeploymentStatus status, string type, string value, string reason, string message, DateTime now)
    {
        var condition = status.Conditions.FirstOrDefault(c => c.Type == type);
        if (condition is null)
        {
            condition = new V1DeploymentCondition { Type = type, LastTransitionTime = now, LastUpdateTime = now };
            status.Conditions.Add(condition);
        }

        if (condition.Status != value)
        {
            condition.LastTransitionTime = now;
        }

        if (condition.Status != value || condition.Reason != reason || condition.Message != message)
        {
            condition.LastUpdateTime = now;
        }

        condition.Status = value;
        condition.Reason = reason;
        condition.Message = message;
    }

    /// <summary>maxSurge (rounded up) and maxUnavailable (rounded down) against <paramref name="replicas"/>; never both zero.</summary>
    private static (int Surge, int Unavailable) RollingParameters(V1Deployment entity, int replicas)
    {
        if (entity.Spec.Strategy?.Type == "Recreate")
        {
            return (0, replicas);
        }

        var rolling = entity.Spec.Strategy?.RollingUpdate;
        var surge = Resolve(rolling?.MaxSurge?.Value ?? "25%", replicas, roundUp: true);
        var unavailable = Resolve(rolling?.MaxUnavailable?.Value ?? "25%", replicas, roundUp: false);
        return surge == 0 && unavailable == 0 ? (0, 1) : (surge, unavailable);
    }

    private static int Resolve(string value, int total, bool roundUp)
    {
        if (value.EndsWith('%') && double.TryParse(value[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent))
        {
            var exact = percent * total / 100;
            return (int)(roundUp ? Math.Ceiling(exact) : Math.Floor(exact));
        }

        return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    private static int Revision(V1ReplicaSet rs) =>
        int.TryParse(Maps.Get(rs.Metadata.Annotations, RevisionAnnotation), NumberStyles.Integer, CultureInfo.InvariantCulture, out var r) ? r : 0;
}

using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Karpenter.Sim.Cluster.Common;
using Microsoft.Extensions.Logging;
using WellKnownTaints = Karpenter.Entities.WellKnown.Taints;

namespace Karpenter.Sim.Cluster.NodeLifecycle;

/// <summary>
/// kube-controller-manager's node lifecycle and taint eviction controllers: taint nodes by their Ready condition
/// (<c>node.kubernetes.io/not-ready</c> when False, <c>node.kubernetes.io/unreachable</c> when Unknown, both
/// NoSchedule and NoExecute; removed when Ready), and delete the pods on a node that do not tolerate one of its
/// NoExecute taints (or whose <c>tolerationSeconds</c> have run out since the taint was added).
/// </summary>
public sealed class NodeLifecycleController(
    ClusterCaches caches,
    IKubeClient client,
    ComponentEvents events,
    TimeProvider time,
    ILogger<NodeLifecycleController> logger) : IReconciler<V1Node>
{
    public const string Name = "node-lifecycle";

    public async Task<ReconcileResult> ReconcileAsync(V1Node entity, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var node = await TaintByConditionAsync(entity, now, cancellationToken);
        return await EvictAsync(node, now, cancellationToken);
    }

    private async Task<V1Node> TaintByConditionAsync(V1Node entity, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ready = entity.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.Status;
        var wanted = ready switch
        {
            "True" => null,
            "False" => WellKnownTaints.NotReadyKey,
            _ => WellKnownTaints.UnreachableKey,
        };
        var taints = entity.Spec?.Taints ?? [];
        var current = taints.Where(t => t.Key is WellKnownTaints.NotReadyKey or WellKnownTaints.UnreachableKey).ToList();
        var desired = wanted is null ? [] : new[] { WellKnownTaints.EffectNoSchedule, WellKnownTaints.EffectNoExecute };
        var upToDate = current.Count == desired.Length && current.All(t => t.Key == wanted && desired.Contains(t.Effect));
        if (upToDate)
        {
            return entity;
        }

        var original = KubeObjects.DeepClone(entity);
        var modified = KubeObjects.DeepClone(entity);
        var updated = (modified.Spec.Taints ?? []).Where(t => t.Key is not (WellKnownTaints.NotReadyKey or WellKnownTaints.UnreachableKey)).ToList();
        foreach (var effect in desired)
        {
            updated.Add(current.FirstOrDefault(t => t.Key == wanted && t.Effect == effect)
                ?? new V1Taint { Key = wanted, Effect = effect, TimeAdded = effect == WellKnownTaints.EffectNoExecute ? now.UtcDateTime : null });
        }

        modified.Spec.Taints = updated;
        return await client.PatchFromAsync(original, modified, optimisticLock: true, cancellationToken);
    }

    private async Task<ReconcileResult> EvictAsync(V1Node node, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var noExecute = (node.Spec?.Taints ?? []).Where(t => t.Effect == WellKnownTaints.EffectNoExecute).ToList();
        if (noExecute.Count == 0)
        {
            return ReconcileResult.Done;
        }

        TimeSpan? wake = null;
        foreach (var pod in caches.PodsOn(node.Metadata.Name))
        {
            if (pod.Metadata.DeletionTimestamp is not null || PodFacts.IsTerminal(pod))
            {
                continue;
            }

            foreach (var taint in noExecute)
            {
                var toleration = pod.Spec.Tolerations?.Where(t => Tolerations.Tolerates(t, taint))
                    .OrderByDescending(t => t.TolerationSeconds is null ? long.MaxValue : t.TolerationSeconds.Value).FirstOrDefault();
                if (toleration is not null && toleration.TolerationSeconds is null)
                {
                    continue;
                }

                if (toleration?.TolerationSeconds is { } seconds)
                {
                    var added = taint.TimeAdded is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : now;
                    var evictAt = added.AddSeconds(Math.Max(0, seconds));
                    if (evictAt > now)
                    {
                        wake = wake is { } w && w < evictAt - now ? w : evictAt - now;
                        continue;
                    }
                }

                logger.TaintEviction(pod.Metadata.NamespaceProperty, pod.Metadata.Name, node.Metadata.Name, $"{taint.Key}:{taint.Effect}");
                events.For(Components.TaintEvictionController).Publish(new KubeEvent(pod, EventTypes.Normal, "TaintManagerEviction", $"Marking for deletion Pod {pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}"));
                try
                {
                    await client.DeleteIfExistsAsync<V1Pod>(pod.Metadata.Name, pod.Metadata.NamespaceProperty, KubeClientExtensions.Preconditions(pod.Metadata.Uid), cancellationToken);
                }
                catch (KubeConflictException)
                {
                    // Replaced by a new pod of the same name meanwhile.
                }

                break;
            }
        }

        return wake is { } next ? ReconcileResult.After(next) : ReconcileResult.Done;
    }
}

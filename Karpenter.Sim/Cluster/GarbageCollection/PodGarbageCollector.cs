using System.Collections.Concurrent;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Microsoft.Extensions.Logging;

namespace Karpenter.Sim.Cluster.GarbageCollection;

/// <summary>
/// kube-controller-manager's pod garbage collector for orphans: a pod bound to a node that no longer exists is
/// force-deleted (grace 0) once the node has been gone for the quarantine period, as nothing else can finish it.
/// </summary>
public sealed class PodGarbageCollector(
    ClusterCaches caches,
    IKubeClient client,
    TimeProvider time,
    ILogger<PodGarbageCollector> logger) : IReconciler<V1Pod>
{
    public const string Name = "pod-garbage-collector";

    /// <summary>How long a node must be absent before its pods are deleted (upstream: 40 s).</summary>
    public static readonly TimeSpan Quarantine = TimeSpan.FromSeconds(40);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _missingSince = new(StringComparer.Ordinal);

    public async Task<ReconcileResult> ReconcileAsync(V1Pod entity, CancellationToken cancellationToken)
    {
        var nodeName = entity.Spec?.NodeName;
        if (string.IsNullOrEmpty(nodeName))
        {
            return ReconcileResult.Done;
        }

        if (caches.Nodes.Get(ObjectKey.Cluster(nodeName)) is not null)
        {
            _missingSince.TryRemove(nodeName, out _);
            return ReconcileResult.Done;
        }

        var now = time.GetUtcNow();
        var since = _missingSince.GetOrAdd(nodeName, now);
        if (now - since < Quarantine)
        {
            return ReconcileResult.After(Quarantine - (now - since));
        }

        // Double-check with the API server: the cache may lag behind a freshly created node.
        if (await client.TryGetAsync<V1Node>(nodeName, cancellationToken: cancellationToken) is not null)
        {
            _missingSince.TryRemove(nodeName, out _);
            return ReconcileResult.Done;
        }

        logger.OrphanPodDeleted(entity.Metadata.NamespaceProperty, entity.Metadata.Name, nodeName);
        try
        {
            await client.DeleteIfExistsAsync<V1Pod>(entity.Metadata.Name, entity.Metadata.NamespaceProperty, KubeClientExtensions.Preconditions(entity.Metadata.Uid, gracePeriodSeconds: 0), cancellationToken);
        }
        catch (KubeConflictException)
        {
            // A new pod with that name.
        }

        return ReconcileResult.Done;
    }
}

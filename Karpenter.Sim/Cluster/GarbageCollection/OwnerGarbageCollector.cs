using k8s;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Microsoft.Extensions.Logging;

namespace Karpenter.Sim.Cluster.GarbageCollection;

/// <summary>
/// kube-controller-manager's garbage collector, for the kinds the simulated cluster owns: ReplicaSets owned by
/// Deployments, Pods owned by ReplicaSets and DaemonSets, and node Leases owned by Nodes are deleted (background
/// propagation) once every owner is gone. Absence is confirmed with the API server (owner UID) before deleting;
/// dependents with an owner of any other kind are left alone.
/// </summary>
public sealed class OwnerGarbageCollector(ClusterCaches caches, IKubeClient client, ILogger<OwnerGarbageCollector> logger) : ISingletonReconciler
{
    public const string Name = "garbage-collector";

    private static readonly TimeSpan Resync = TimeSpan.FromSeconds(15);

    public async Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken)
    {
        var live = new HashSet<string>(StringComparer.Ordinal);
        live.UnionWith(caches.Deployments.List().Select(o => o.Metadata.Uid));
        live.UnionWith(caches.ReplicaSets.List().Select(o => o.Metadata.Uid));
        live.UnionWith(caches.DaemonSets.List().Select(o => o.Metadata.Uid));
        live.UnionWith(caches.Nodes.List().Select(o => o.Metadata.Uid));
        await CollectAsync(caches.ReplicaSets.List(), live, cancellationToken);
        await CollectAsync(caches.Pods.List(), live, cancellationToken);
        await CollectAsync(caches.NodeLeases.List(), live, cancellationToken);
        return ReconcileResult.After(Resync);
    }

    private async Task CollectAsync<T>(IReadOnlyList<T> dependents, HashSet<string> live, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        foreach (var dependent in dependents)
        {
            var owners = dependent.Metadata.OwnerReferences;
            if (owners is not { Count: > 0 } || dependent.Metadata.DeletionTimestamp is not null ||
                owners.Any(o => live.Contains(o.Uid) || !Known(o)))
            {
                continue;
            }

            var ns = dependent.Metadata.NamespaceProperty;
            var anyOwnerLeft = false;
            foreach (var owner in owners)
            {
                anyOwnerLeft |= await OwnerExistsAsync(owner, ns, cancellationToken);
            }

            if (anyOwnerLeft)
            {
                continue;
            }

            logger.GarbageCollected(KubeResource.Of<T>().Kind, ns, dependent.Metadata.Name);
            try
            {
                await client.DeleteIfExistsAsync<T>(dependent.Metadata.Name, ns, KubeClientExtensions.Preconditions(dependent.Metadata.Uid, propagationPolicy: PropagationPolicy.Background), cancellationToken);
            }
            catch (KubeConflictException)
            {
                // Replaced by a new object of the same name.
            }
        }
    }

    private static bool Known(V1OwnerReference owner) => (owner.ApiVersion, owner.Kind) is
        ("apps/v1", "Deployment") or ("apps/v1", "ReplicaSet") or ("apps/v1", "DaemonSet") or ("v1", "Node");

    private async Task<bool> OwnerExistsAsync(V1OwnerReference owner, string? ns, CancellationToken cancellationToken)
    {
        IKubernetesObject<V1ObjectMeta>? found = owner.Kind switch
        {
            "Deployment" => await client.TryGetAsync<V1Deployment>(owner.Name, ns, cancellationToken),
            "ReplicaSet" => await client.TryGetAsync<V1ReplicaSet>(owner.Name, ns, cancellationToken),
            "DaemonSet" => await client.TryGetAsync<V1DaemonSet>(owner.Name, ns, cancellationToken),
            _ => await client.TryGetAsync<V1Node>(owner.Name, cancellationToken: cancellationToken),
        };
        return found?.Metadata?.Uid == owner.Uid;
    }
}

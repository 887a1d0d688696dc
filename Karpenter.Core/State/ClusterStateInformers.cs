using k8s;
using k8s.Models;
using Karpenter.Entities.V1;
using Karpenter.Kube.Informers;

namespace Karpenter.Core.State;

/// <summary>Feeds <see cref="ClusterState"/> from the shared informers and gates its <see cref="ClusterState.Synced"/> on theirs.</summary>
public static class ClusterStateInformers
{
    /// <summary>
    /// Subscribes the state to nodes, NodeClaims, pods, DaemonSets, namespaces, PersistentVolumeClaims, PersistentVolumes
    /// and StorageClasses.
    /// </summary>
    public static IReadOnlyList<IDisposable> Attach(ClusterState state, InformerFactory informers)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(informers);
        return
        [
            Feed<V1Node>(state, informers, state.UpdateNode, state.DeleteNode),
            Feed<NodeClaim>(state, informers, n => state.UpdateNodeClaim(StateNodeClaim.FromNodeClaim(n)), n => state.DeleteNodeClaim(n.Metadata.Name)),
            Feed<V1Pod>(state, informers, state.UpdatePod, state.DeletePod),
            Feed<V1DaemonSet>(state, informers, state.UpdateDaemonSet, state.DeleteDaemonSet),
            Feed<V1Namespace>(state, informers, state.UpdateNamespace, state.DeleteNamespace),
            Feed<V1PersistentVolumeClaim>(state, informers, state.UpdateVolumeClaim, state.DeleteVolumeClaim),
            Feed<V1PersistentVolume>(state, informers, state.UpdateVolume, state.DeleteVolume),
            Feed<V1StorageClass>(state, informers, state.UpdateStorageClass, state.DeleteStorageClass),
        ];
    }

    /// <summary>Subscribes <paramref name="state"/> to any informer, with its own add/update and delete callbacks.</summary>
    public static IDisposable Feed<T>(ClusterState state, InformerFactory informers, Action<T> update, Action<T> delete)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(informers);
        var informer = informers.Get<T>();
        state.AddSyncCheck(() => informer.HasSynced);
        return informer.AddEventHandler(new InformerHandler<T>(update, (_, n) => update(n), delete));
    }
}

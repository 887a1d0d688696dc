using k8s;
using k8s.Models;
using Karpenter.Kube.Client;

namespace Karpenter.Kube.Controllers;

/// <summary>
/// A level-based reconciler of one object type: read the object's current state, converge the world towards it and
/// return. It is called with the cached object for a key; a key whose object is gone is not reconciled (clean up with
/// a finalizer). Must be idempotent: it may run any number of times for the same state.
/// </summary>
public interface IReconciler<in T>
    where T : IKubernetesObject<V1ObjectMeta>
{
    /// <param name="entity">The cached object (shared: clone it before modifying, see <see cref="KubeObjects.DeepClone{T}"/>).</param>
    /// <param name="cancellationToken">Cancelled when the host stops.</param>
    Task<ReconcileResult> ReconcileAsync(T entity, CancellationToken cancellationToken);
}

/// <summary>
/// A singleton controller: one fixed key, one worker, running as a loop that requeues itself
/// (<see cref="ReconcileResult.After"/>) and can be triggered by watches (Karpenter's provisioner and disruption loops).
/// </summary>
public interface ISingletonReconciler
{
    Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken);
}

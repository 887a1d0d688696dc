using k8s;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;

namespace Karpenter.Kube.Finalizers;

/// <summary>
/// A reconciler that owns one finalizer. While the object lives it makes sure the finalizer is on it before
/// <see cref="ReconcileLiveAsync"/> runs (so external resources are never created without it); once the object is
/// being deleted it runs <see cref="FinalizeAsync"/> and, when that reports done, removes only its own finalizer.
/// </summary>
public abstract class FinalizingReconciler<T>(FinalizerClient finalizers) : IReconciler<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    /// <summary>The finalizer this reconciler owns (e.g. <c>karpenter.sh/termination</c>).</summary>
    protected abstract string Finalizer { get; }

    public async Task<ReconcileResult> ReconcileAsync(T entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (entity.IsBeingDeleted())
        {
            if (!(entity.Metadata.Finalizers?.Contains(Finalizer) ?? false))
            {
                return ReconcileResult.Done;
            }

            var outcome = await FinalizeAsync(entity, cancellationToken);
            if (outcome.Completed)
            {
                await finalizers.RemoveAsync(entity, Finalizer);
                return ReconcileResult.Done;
            }

            return outcome.Result;
        }

        var withFinalizer = await finalizers.AddAsync(entity, Finalizer, cancellationToken);
        return await ReconcileLiveAsync(withFinalizer, cancellationToken);
    }

    /// <summary>Converges a live object (the finalizer is already on it).</summary>
    protected abstract Task<ReconcileResult> ReconcileLiveAsync(T entity, CancellationToken cancellationToken);

    /// <summary>Cleans up for an object being deleted; return <see cref="FinalizeOutcome.Done"/> when nothing is left.</summary>
    protected abstract Task<FinalizeOutcome> FinalizeAsync(T entity, CancellationToken cancellationToken);
}

/// <summary>Whether cleanup has finished (then the finalizer is removed) or what to do meanwhile.</summary>
public readonly record struct FinalizeOutcome(bool Completed, ReconcileResult Result)
{
    public static FinalizeOutcome Done => new(true, ReconcileResult.Done);

    /// <summary>Not finished; come back after <paramref name="delay"/> (or on the next change).</summary>
    public static FinalizeOutcome Pending(TimeSpan delay) => new(false, ReconcileResult.After(delay));
}

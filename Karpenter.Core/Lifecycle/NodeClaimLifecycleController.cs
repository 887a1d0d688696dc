using System.Runtime.ExceptionServices;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Lifecycle.Initialization;
using Karpenter.Core.Lifecycle.Launch;
using Karpenter.Core.Lifecycle.Liveness;
using Karpenter.Core.Lifecycle.Registration;
using Karpenter.Core.Termination;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Finalizers;

namespace Karpenter.Core.Lifecycle;

/// <summary>
/// <c>nodeclaim.lifecycle</c>: the NodeClaim state machine, level-based. On every reconcile of a live NodeClaim it
/// first makes sure the <c>karpenter.sh/termination</c> finalizer is on it (before anything can be launched, so nothing
/// can leak), then runs its steps in order on one working copy and writes the result once:
/// <list type="number">
/// <item><see cref="LaunchStep"/> → <c>Launched</c> (provider ID, image, capacity, labels);</item>
/// <item><see cref="RegistrationStep"/> → <c>Registered</c> (the Node adopted);</item>
/// <item><see cref="InitializationStep"/> → <c>Initialized</c> (Node ready, startup taints gone);</item>
/// <item><see cref="LivenessStep"/> → deletes a NodeClaim that failed to launch for 5 minutes or to register for 15.</item>
/// </list>
/// <c>Ready</c> is Launched ∧ Registered ∧ Initialized. A deleted NodeClaim is finalized by
/// <see cref="NodeClaimTermination"/>. Nodes trigger the NodeClaim with their provider ID.
/// </summary>
public sealed class NodeClaimLifecycleController(
    IKubeClient client,
    FinalizerClient finalizers,
    ICloudProvider cloudProvider,
    LaunchStep launch,
    RegistrationStep registration,
    InitializationStep initialization,
    LivenessStep liveness,
    NodeClaimTermination termination,
    TimeProvider time) : IReconciler<NodeClaim>
{
    public const string Name = "nodeclaim.lifecycle";

    public async Task<ReconcileResult> ReconcileAsync(NodeClaim entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (!NodeClaims.IsManaged(entity, cloudProvider))
        {
            return ReconcileResult.Done;
        }

        if (entity.IsBeingDeleted())
        {
            return await termination.FinalizeAsync(entity, cancellationToken);
        }

        NodeClaim stored;
        try
        {
            stored = await finalizers.AddAsync(entity, Finalizers.Termination, cancellationToken);
        }
        catch (KubeConflictException)
        {
            return ReconcileResult.RequeueRateLimited;
        }
        catch (KubeNotFoundException)
        {
            return ReconcileResult.Done;
        }

        var working = KubeObjects.DeepClone(stored);
        working.Status.Conditions ??= [];
        NodeClaims.Conditions.Initialize(working.Status.Conditions, working.Metadata.Generation, time.GetUtcNow());

        var results = new List<ReconcileResult>(4);
        ExceptionDispatchInfo? failure = null;
        foreach (var step in Steps())
        {
            StepOutcome outcome;
            try
            {
                outcome = await step(working, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Keep what the other steps found (upstream aggregates the errors and still writes the status).
                failure ??= ExceptionDispatchInfo.Capture(e);
                continue;
            }

            if (outcome.Deleted)
            {
                return ReconcileResult.Done;
            }

            results.Add(outcome.Result);
        }

        try
        {
            await NodeClaims.PatchAsync(client, stored, working, cancellationToken);
        }
        catch (KubeConflictException)
        {
            failure?.Throw();
            return ReconcileResult.RequeueRateLimited;
        }
        catch (KubeNotFoundException)
        {
            return ReconcileResult.Done;
        }

        failure?.Throw();
        return StepOutcome.Min(results);
    }

    private IEnumerable<Func<NodeClaim, CancellationToken, Task<StepOutcome>>> Steps()
    {
        yield return launch.ReconcileAsync;
        yield return registration.ReconcileAsync;
        yield return initialization.ReconcileAsync;
        yield return liveness.ReconcileAsync;
    }
}

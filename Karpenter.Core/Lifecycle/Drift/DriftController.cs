using Karpenter.Core.CloudProvider;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Conditions;
using Karpenter.Kube.Controllers;
using Microsoft.Extensions.Logging;

namespace Karpenter.Core.Lifecycle.Drift;

/// <summary>
/// <c>nodeclaim.disruption</c> (the <c>Drifted</c> half of upstream's controller; the <c>Consolidatable</c> condition
/// belongs beside it when disruption lands): a launched NodeClaim is <c>Drifted=True</c> when
/// <list type="bullet">
/// <item>its NodePool's template changed (<c>NodePoolDrifted</c>: the NodePool's hash annotation differs from the one
/// the NodeClaim was made with, both of the current hash version);</item>
/// <item>its labels no longer satisfy the NodePool's requirements (<c>RequirementsDrifted</c>); keys the cloud provider
/// or Kubernetes define but the NodeClaim does not carry are not held against it;</item>
/// <item>the cloud provider reports drift (<see cref="ICloudProvider.IsDriftedAsync"/>, e.g. <c>AMIDrift</c>).</item>
/// </list>
/// Otherwise the condition is removed. Checked on every NodeClaim and NodePool change and every 5 minutes.
/// </summary>
public sealed class DriftController(IKubeClient client, ICloudProvider cloudProvider, ClusterIndexes indexes, TimeProvider time, ILogger<DriftController> logger) : IReconciler<NodeClaim>
{
    public const string Name = "nodeclaim.disruption";

    public const string NodePoolDrifted = "NodePoolDrifted";
    public const string RequirementsDrifted = "RequirementsDrifted";

    /// <summary>Upstream re-checks drift this often.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    public async Task<ReconcileResult> ReconcileAsync(NodeClaim entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (!NodeClaims.IsManaged(entity, cloudProvider) || entity.IsBeingDeleted())
        {
            return ReconcileResult.Done;
        }

        var modified = KubeObjects.DeepClone(entity);
        modified.Status.Conditions ??= [];
        var result = ReconcileResult.After(Interval);
        if (!entity.IsTrue(ConditionTypes.Launched))
        {
            ConditionList.Remove(modified.Status.Conditions, ConditionTypes.Drifted);
            result = ReconcileResult.Done;
        }
        else
        {
            (string Reason, string Message)? drift;
            try
            {
                drift = await DriftAsync(entity, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Keep the last verdict; try again later.
                logger.DriftCheckFailed(entity.Metadata.Name, e);
                return ReconcileResult.RequeueRateLimited;
            }

            if (drift is { } d)
            {
                if (!entity.IsTrue(ConditionTypes.Drifted))
                {
                    logger.Drifted(entity.Metadata.Name, d.Reason);
                }

                modified.SetCondition(ConditionTypes.Drifted, ConditionStatus.True, d.Reason, d.Message, time.GetUtcNow());
            }
            else
            {
                ConditionList.Remove(modified.Status.Conditions, ConditionTypes.Drifted);
            }
        }

        try
        {
            await client.PatchStatusFromAsync(entity, modified, optimisticLock: true, cancellationToken);
        }
        catch (KubeConflictException)
        {
            return ReconcileResult.RequeueRateLimited;
        }
        catch (KubeNotFoundException)
        {
            return ReconcileResult.Done;
        }

        return result;
    }

    private async Task<(string Reason, string Message)?> DriftAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        if (indexes.NodePool(nodeClaim.NodePoolName) is { } nodePool)
        {
            if (StaticDrift(nodePool, nodeClaim) is { } stat)
            {
                return (NodePoolDrifted, stat);
            }

            if (RequirementsDrift(nodePool, nodeClaim, cloudProvider.WellKnownLabels) is { } req)
            {
                return (RequirementsDrifted, req);
            }
        }

        return await cloudProvider.IsDriftedAsync(nodeClaim, cancellationToken) is { Length: > 0 } reason
            ? (reason, $"The cloud provider reports {reason}")
            : null;
    }

    /// <summary>Why the NodeClaim's template hash no longer matches its NodePool's, or null.</summary>
    public static string? StaticDrift(NodePool nodePool, NodeClaim nodeClaim)
    {
        ArgumentNullException.ThrowIfNull(nodePool);
        ArgumentNullException.ThrowIfNull(nodeClaim);
        var poolAnnotations = nodePool.Metadata.Annotations;
        var claimAnnotations = nodeClaim.Metadata.Annotations;
        if (poolAnnotations?.TryGetValue(Annotations.NodePoolHash, out var poolHash) != true ||
            claimAnnotations?.TryGetValue(Annotations.NodePoolHash, out var claimHash) != true ||
            !IsCurrentVersion(poolAnnotations) || !IsCurrentVersion(claimAnnotations))
        {
            return null;
        }

        return poolHash == claimHash ? null : $"NodePool {nodePool.Metadata.Name}'s template changed since the NodeClaim was created (hash {claimHash} → {poolHash})";
    }

    private static bool IsCurrentVersion(IDictionary<string, string> annotations) =>
        annotations.TryGetValue(Annotations.NodePoolHashVersion, out var version) && version == Annotations.NodePoolHashVersionValue;

    /// <summary>The first NodePool requirement the NodeClaim's labels break, or null.</summary>
    public static string? RequirementsDrift(NodePool nodePool, NodeClaim nodeClaim, IReadOnlySet<string> providerLabels)
    {
        ArgumentNullException.ThrowIfNull(nodePool);
        ArgumentNullException.ThrowIfNull(nodeClaim);
        ArgumentNullException.ThrowIfNull(providerLabels);
        var required = Requirements.FromNodeSelector(nodePool.Spec.Template.Spec.Requirements.Select(r => r.ToV1()));
        var labels = Requirements.FromLabels(nodeClaim.Metadata.Labels);
        var undefinedAllowed = new HashSet<string>(Scheduler.CoreWellKnownLabels, StringComparer.Ordinal);
        undefinedAllowed.UnionWith(providerLabels);
        return labels.Compatible(required, undefinedAllowed) is { } conflict
            ? $"NodePool {nodePool.Metadata.Name}'s requirements no longer admit this NodeClaim: {conflict}"
            : null;
    }
}

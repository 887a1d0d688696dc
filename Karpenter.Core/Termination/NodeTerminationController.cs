using k8s.Models;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Lifecycle;
using Karpenter.Core.Metrics;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Conditions;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Karpenter.Kube.Finalizers;
using Microsoft.Extensions.Logging;

namespace Karpenter.Core.Termination;

/// <summary>
/// <c>node.termination</c> (upstream <c>node/termination</c>): the <c>karpenter.sh/termination</c> finalizer of a
/// managed Node. A deleted Node is, in order and level-based (each pass redoes what is not yet true):
/// <list type="number">
/// <item>tied to its NodeClaim, which is deleted too (a Node deleted by hand takes its NodeClaim with it);</item>
/// <item>let go at once when its instance is already gone and the Node is not Ready (nothing left to drain);</item>
/// <item>tainted <c>karpenter.sh/disrupted:NoSchedule</c>;</item>
/// <item>drained (<see cref="Terminator.DrainAsync"/>, evictions through <see cref="EvictionController"/>), with
/// <c>Drained</c> on the NodeClaim; past the NodeClaim's termination deadline pods are deleted regardless of PDBs;</item>
/// <item>released by its volume attachments (<c>VolumesDetached</c>), unless the deadline has passed;</item>
/// <item>its instance terminated (<c>InstanceTerminating</c>) until the cloud provider reports it gone;</item>
/// <item>freed of the finalizer, so the API server removes it; the NodeClaim's finalizer then completes.</item>
/// </list>
/// </summary>
public sealed class NodeTerminationController(
    IKubeClient client,
    FinalizerClient finalizers,
    ICloudProvider cloudProvider,
    ClusterIndexes indexes,
    Terminator terminator,
    InstanceTermination instances,
    IEventRecorder events,
    LifecycleMetrics metrics,
    TimeProvider time,
    ILogger<NodeTerminationController> logger) : IReconciler<V1Node>
{
    public const string Name = "node.termination";

    /// <summary>The drain and volume-detachment requeue (upstream: 1 s).</summary>
    public static readonly TimeSpan DrainPoll = TimeSpan.FromSeconds(1);

    public async Task<ReconcileResult> ReconcileAsync(V1Node entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (entity.Metadata.DeletionTimestamp is null || entity.Metadata.Finalizers?.Contains(Finalizers.Termination) != true)
        {
            return ReconcileResult.Done;
        }

        try
        {
            return await FinalizeAsync(entity, cancellationToken);
        }
        catch (KubeConflictException)
        {
            return ReconcileResult.RequeueRateLimited;
        }
        catch (KubeNotFoundException)
        {
            // The Node or its NodeClaim went meanwhile; their own events bring the next reconcile.
            return ReconcileResult.Done;
        }
    }

    private async Task<ReconcileResult> FinalizeAsync(V1Node node, CancellationToken cancellationToken)
    {
        var providerId = node.Spec?.ProviderID;
        var nodeClaims = indexes.NodeClaimsForProviderId(providerId);
        if (nodeClaims.Count != 1)
        {
            // No NodeClaim tracks this Node's termination (someone removed it or made a duplicate): upstream lets the
            // Node go rather than hold it forever.
            logger.NodeClaimMismatch(node.Metadata.Name, nodeClaims.Count, providerId);
            events.Publish(new KubeEvent(node, EventTypes.Warning, EventReasons.FailedTermination,
                nodeClaims.Count == 0
                    ? $"No NodeClaim has provider ID {providerId}; removing the {Finalizers.Termination} finalizer without draining"
                    : $"{nodeClaims.Count} NodeClaims have provider ID {providerId}; removing the {Finalizers.Termination} finalizer without draining"));
            await RemoveFinalizerAsync(node, providerId);
            return ReconcileResult.Done;
        }

        var nodeClaim = nodeClaims[0];
        if (!NodeClaims.IsManaged(nodeClaim, cloudProvider))
        {
            return ReconcileResult.Done;
        }

        if (nodeClaim.Metadata.DeletionTimestamp is null)
        {
            await client.DeleteIfExistsAsync<NodeClaim>(nodeClaim.Metadata.Name, null, KubeClientExtensions.Preconditions(nodeClaim.Metadata.Uid), cancellationToken);
            nodeClaim = await client.GetAsync<NodeClaim>(nodeClaim.Metadata.Name, null, cancellationToken);
        }

        if (!NodeClaims.IsNodeReady(node) && await InstanceGoneAsync(providerId!, cancellationToken))
        {
            // The kubelet is not running and the machine is gone: there is nothing to drain (upstream does the same).
            logger.InstanceGone(node.Metadata.Name, providerId);
            await RemoveFinalizerAsync(node, providerId);
            return ReconcileResult.Done;
        }

        var now = time.GetUtcNow();
        var deadline = NodeClaimTermination.TerminationDeadline(nodeClaim);
        node = await terminator.TaintAsync(node, cancellationToken);

        var drain = await terminator.DrainAsync(node, deadline, cancellationToken);
        if (!drain.Drained)
        {
            events.Publish(new KubeEvent(node, EventTypes.Warning, EventReasons.FailedDraining, $"Failed to drain node, {drain}"));
            await SetConditionAsync(nodeClaim, ConditionTypes.Drained, ConditionStatus.False, "Draining", "Draining", cancellationToken);
            return ReconcileResult.After(DrainPoll);
        }

        (nodeClaim, var drained) = await SetConditionAsync(nodeClaim, ConditionTypes.Drained, ConditionStatus.True, ConditionTypes.Drained, string.Empty, cancellationToken);
        if (drained)
        {
            logger.Drained(node.Metadata.Name);
            metrics.NodesDrained.Add(1, LifecycleMetrics.Pool(nodeClaim.NodePoolName));
        }

        if (deadline is { } end && now >= end)
        {
            // Past the termination grace period volumes are not waited for.
            (nodeClaim, _) = await SetConditionAsync(nodeClaim, ConditionTypes.VolumesDetached, ConditionStatus.False, "TerminationGracePeriodElapsed", "TerminationGracePeriodElapsed", cancellationToken);
        }
        else
        {
            var attachments = await terminator.PendingVolumeAttachmentsAsync(node, cancellationToken);
            if (attachments.Count > 0)
            {
                await SetConditionAsync(nodeClaim, ConditionTypes.VolumesDetached, ConditionStatus.False, "AwaitingVolumeDetachment",
                    $"Awaiting deletion of bound VolumeAttachments ({string.Join(", ", attachments.Take(5).Select(a => a.Metadata.Name))})", cancellationToken);
                return ReconcileResult.After(DrainPoll);
            }

            (nodeClaim, _) = await SetConditionAsync(nodeClaim, ConditionTypes.VolumesDetached, ConditionStatus.True, ConditionTypes.VolumesDetached, string.Empty, cancellationToken);
        }

        if (!await instances.EnsureTerminatedAsync(nodeClaim, providerId!, cancellationToken))
        {
            return ReconcileResult.After(InstanceTermination.Poll);
        }

        await RemoveFinalizerAsync(node, providerId);
        return ReconcileResult.Done;
    }

    private async Task<bool> InstanceGoneAsync(string providerId, CancellationToken cancellationToken)
    {
        try
        {
            await cloudProvider.GetAsync(providerId, cancellationToken);
            return false;
        }
        catch (NodeClaimNotFoundException)
        {
            return true;
        }
    }

    /// <summary>Sets a condition on the NodeClaim's status (optimistic lock); returns the NodeClaim as stored and whether it changed.</summary>
    private async Task<(NodeClaim NodeClaim, bool Changed)> SetConditionAsync(NodeClaim nodeClaim, string type, string status, string reason, string message, CancellationToken cancellationToken)
    {
        var modified = KubeObjects.DeepClone(nodeClaim);
        if (!modified.SetCondition(type, status, reason, message, time.GetUtcNow()))
        {
            return (nodeClaim, false);
        }

        return (await client.PatchStatusFromAsync(nodeClaim, modified, optimisticLock: true, cancellationToken), true);
    }

    private async Task RemoveFinalizerAsync(V1Node node, string? providerId)
    {
        if (!await finalizers.RemoveAsync(node, Finalizers.Termination))
        {
            return;
        }

        logger.NodeFinalized(node.Metadata.Name, providerId);
        var pool = node.Metadata.Labels?.TryGetValue(Labels.NodePool, out var name) == true ? name : null;
        metrics.NodesTerminated.Add(1, LifecycleMetrics.Pool(pool));
        if (node.Metadata.DeletionTimestamp is { } deleted)
        {
            var seconds = (time.GetUtcNow() - new DateTimeOffset(DateTime.SpecifyKind(deleted, DateTimeKind.Utc))).TotalSeconds;
            metrics.NodeTerminationDuration.Record(Math.Max(0, seconds), LifecycleMetrics.Pool(pool));
        }
    }
}

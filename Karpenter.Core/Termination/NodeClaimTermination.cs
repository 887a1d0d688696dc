using System.Globalization;
using k8s.Models;
using Karpenter.Core.Lifecycle;
using Karpenter.Core.Lifecycle.Launch;
using Karpenter.Core.Metrics;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Karpenter.Kube.Finalizers;
using Microsoft.Extensions.Logging;

namespace Karpenter.Core.Termination;

/// <summary>
/// The finalizer half of <c>nodeclaim.lifecycle</c> (upstream's <c>finalize</c>): when a NodeClaim is deleted it records
/// its drain deadline (<c>karpenter.sh/nodeclaim-termination-timestamp</c> = deletion + <c>terminationGracePeriod</c>),
/// deletes its Node and waits for the Node's own finalizer (<c>node.termination</c>: taint, drain, volumes) to finish,
/// then terminates the instance (<c>InstanceTerminating=True</c>, retried every 5 s until the provider reports it gone)
/// and finally removes <c>karpenter.sh/termination</c>. A NodeClaim deleted before its launch was recorded still has
/// its instance found (this process's launch cache, or the instance tagged with its name) and terminated.
/// </summary>
public sealed class NodeClaimTermination(
    IKubeClient client,
    FinalizerClient finalizers,
    InstanceTermination instances,
    ClusterIndexes indexes,
    LaunchCache launches,
    InheritedLaunches inherited,
    IEventRecorder events,
    LifecycleMetrics metrics,
    TimeProvider time,
    ILogger<NodeClaimTermination> logger)
{
    /// <summary>A safety requeue while the Node drains (its deletion also wakes the NodeClaim through the Node watch).</summary>
    public static readonly TimeSpan NodeDeletionPoll = TimeSpan.FromSeconds(30);

    public async Task<ReconcileResult> FinalizeAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        if (!(nodeClaim.Metadata.Finalizers?.Contains(Finalizers.Termination) ?? false))
        {
            return ReconcileResult.Done;
        }

        try
        {
            nodeClaim = await EnsureTerminationDeadlineAsync(nodeClaim, cancellationToken);
        }
        catch (KubeConflictException)
        {
            return ReconcileResult.RequeueRateLimited;
        }
        catch (KubeNotFoundException)
        {
            return ReconcileResult.Done;
        }

        // Every Node with the provider ID goes first, registered or not (upstream deletes them all).
        {
            var nodes = indexes.NodesForProviderId(nodeClaim.Status.ProviderId);
            foreach (var node in nodes.Where(n => n.Metadata.DeletionTimestamp is null))
            {
                // The Node's finalizer drains it; its deletion wakes this NodeClaim through the Node watch.
                await client.DeleteIfExistsAsync<V1Node>(node.Metadata.Name, null, KubeClientExtensions.Preconditions(node.Metadata.Uid), cancellationToken);
            }

            if (nodes.Count > 0)
            {
                return ReconcileResult.After(NodeDeletionPoll);
            }
        }

        var providerId = await ProviderIdAsync(nodeClaim, cancellationToken);
        if (providerId is not null)
        {
            bool gone;
            try
            {
                gone = await instances.EnsureTerminatedAsync(nodeClaim, providerId, cancellationToken);
            }
            catch (KubeConflictException)
            {
                return ReconcileResult.RequeueRateLimited;
            }
            catch (KubeNotFoundException)
            {
                return ReconcileResult.Done;
            }

            if (!gone)
            {
                return ReconcileResult.After(InstanceTermination.Poll);
            }

            if (nodeClaim.Condition(ConditionTypes.InstanceTerminating)?.LastTransitionTime is { } terminating)
            {
                metrics.InstanceTerminationDuration.Record(Seconds(time.GetUtcNow(), terminating), LifecycleMetrics.Pool(nodeClaim.NodePoolName));
            }
        }

        if (await finalizers.RemoveAsync(nodeClaim, Finalizers.Termination))
        {
            logger.Finalized(nodeClaim.Metadata.Name, providerId);
            metrics.NodeClaimsTerminated.Add(1, LifecycleMetrics.PoolAndCapacity(nodeClaim.NodePoolName, nodeClaim.Label(Labels.CapacityType)));
            if (nodeClaim.Metadata.DeletionTimestamp is { } deleted)
            {
                metrics.NodeClaimTerminationDuration.Record(Seconds(time.GetUtcNow(), deleted), LifecycleMetrics.Pool(nodeClaim.NodePoolName));
            }
        }

        launches.Remove(nodeClaim.Metadata.Uid);
        return ReconcileResult.Done;
    }

    /// <summary>The drain deadline of a deleted NodeClaim: its annotation, or null when it has no termination grace period.</summary>
    public static DateTimeOffset? TerminationDeadline(NodeClaim nodeClaim)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        return nodeClaim.Metadata.Annotations?.TryGetValue(Annotations.NodeClaimTerminationTimestamp, out var value) == true &&
            DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var deadline)
            ? deadline
            : null;
    }

    private async Task<NodeClaim> EnsureTerminationDeadlineAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        if (nodeClaim.Metadata.Annotations?.ContainsKey(Annotations.NodeClaimTerminationTimestamp) == true ||
            NodeClaims.Duration(nodeClaim.Spec.TerminationGracePeriod) is not { } grace ||
            nodeClaim.Metadata.DeletionTimestamp is not { } deleted)
        {
            return nodeClaim;
        }

        var deadline = new DateTimeOffset(DateTime.SpecifyKind(deleted, DateTimeKind.Utc)) + grace;
        var text = deadline.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var modified = KubeObjects.DeepClone(nodeClaim);
        modified.Metadata.Annotations ??= new Dictionary<string, string>();
        modified.Metadata.Annotations[Annotations.NodeClaimTerminationTimestamp] = text;
        var patched = await client.PatchFromAsync(nodeClaim, modified, optimisticLock: true, cancellationToken);
        logger.TerminationDeadline(nodeClaim.Metadata.Name, text);
        events.Publish(new KubeEvent(
            nodeClaim,
            EventTypes.Warning,
            EventReasons.TerminationGracePeriodExpiring,
            $"All pods will be deleted by {text}"));
        return patched;
    }

    private async Task<string?> ProviderIdAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(nodeClaim.Status.ProviderId))
        {
            return nodeClaim.Status.ProviderId;
        }

        if (launches.TryGet(nodeClaim.Metadata.Uid, out var launched) && !string.IsNullOrEmpty(launched.Status?.ProviderId))
        {
            return launched.Status.ProviderId;
        }

        return (await inherited.FindAsync(nodeClaim, cancellationToken))?.Status?.ProviderId;
    }

    private static double Seconds(DateTimeOffset now, DateTime since) =>
        Math.Max(0, (now - new DateTimeOffset(DateTime.SpecifyKind(since, DateTimeKind.Utc))).TotalSeconds);
}

using Karpenter.Core.CloudProvider;
using Karpenter.Core.Metrics;
using Karpenter.Core.NodePools;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Conditions;
using Karpenter.Kube.Events;
using Microsoft.Extensions.Logging;

namespace Karpenter.Core.Lifecycle.Launch;

/// <summary>
/// The launch step of <c>nodeclaim.lifecycle</c>: asks the cloud provider for a machine (once: the lifecycle controller
/// has put its finalizer on before this runs) and records what it got: provider ID, image, capacity and allocatable in
/// status, and the labels the launch resolved (instance type, zone, capacity type). A NodeClaim whose NodePool or
/// NodeClass is gone or not ready, or that no capacity can satisfy, is deleted with an event; any other failure sets
/// <c>Launched=False</c> and is retried until the liveness step's launch timeout deletes it.
/// </summary>
public sealed class LaunchStep(
    ICloudProvider cloudProvider,
    IKubeClient client,
    IEventRecorder events,
    ClusterIndexes indexes,
    LaunchCache cache,
    InheritedLaunches inherited,
    LifecycleMetrics metrics,
    TimeProvider time,
    ILogger<LaunchStep> logger,
    INodeClassReadiness? nodeClasses = null)
{
    public async Task<StepOutcome> ReconcileAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        if (nodeClaim.IsTrue(ConditionTypes.Launched))
        {
            return StepOutcome.Done;
        }

        if (cache.TryGet(nodeClaim.Metadata.Uid, out var launched))
        {
            Record(nodeClaim, launched);
            return StepOutcome.Done;
        }

        if (RefusalReason(nodeClaim) is { } refusal)
        {
            return await DeleteAsync(nodeClaim, refusal.Reason, refusal.Message, refusal.MetricReason, cancellationToken);
        }

        NodeClaim created;
        if (await inherited.FindAsync(nodeClaim, cancellationToken) is { } adopted)
        {
            logger.Adopted(nodeClaim.Metadata.Name, adopted.Status?.ProviderId);
            created = adopted;
        }
        else
        {
            try
            {
                created = await cloudProvider.CreateAsync(nodeClaim, cancellationToken);
            }
            catch (InsufficientCapacityException e)
            {
                logger.LaunchFailed(nodeClaim.Metadata.Name, "insufficient capacity", e);
                return await DeleteAsync(nodeClaim, EventReasons.InsufficientCapacityError, $"NodeClaim {nodeClaim.Metadata.Name} event: {e.Message}", DisruptionReasons.InsufficientCapacity, cancellationToken);
            }
            catch (NodeClassNotReadyException e)
            {
                logger.LaunchFailed(nodeClaim.Metadata.Name, "node class not ready", e);
                return await DeleteAsync(nodeClaim, EventReasons.NodeClassNotReady, $"Failed to launch NodeClaim {nodeClaim.Metadata.Name}: {e.Message}", DisruptionReasons.NodeClassNotReady, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                logger.LaunchFailed(nodeClaim.Metadata.Name, e.Message, e);
                nodeClaim.SetFalse(ConditionTypes.Launched, EventReasons.LaunchFailed, e.Message, time.GetUtcNow());
                events.Publish(new KubeEvent(nodeClaim, EventTypes.Warning, EventReasons.LaunchFailed, NodeClaims.Truncate($"Failed to launch NodeClaim: {e.Message}")));
                return StepOutcome.Retry;
            }

            if (logger.IsEnabled(LogLevel.Information))
            {
                logger.Launched(nodeClaim.Metadata.Name, created.Status?.ProviderId, created.Label(Labels.InstanceType), created.Label(Labels.TopologyZone), created.Label(Labels.CapacityType));
            }
        }

        if (string.IsNullOrEmpty(nodeClaim.Metadata.Uid))
        {
            throw new InvalidOperationException($"NodeClaim {nodeClaim.Metadata.Name} has no UID; it was not read from the API server.");
        }

        cache.Set(nodeClaim.Metadata.Uid, created);
        Record(nodeClaim, created);
        return StepOutcome.Done;
    }

    /// <summary>
    /// Copies what the launch resolved onto the NodeClaim. Label priority as upstream: the provider's labels, then the
    /// labels single-valued requirements pin, then the NodeClaim's own.
    /// </summary>
    public void Record(NodeClaim nodeClaim, NodeClaim launched)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        ArgumentNullException.ThrowIfNull(launched);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in launched.Metadata?.Labels ?? new Dictionary<string, string>())
        {
            if (k != InstanceTags.NodeClaim)
            {
                labels[k] = v;
            }
        }

        var requirements = Requirements.FromNodeSelector(nodeClaim.Spec.Requirements.Select(r => r.ToV1()));
        foreach (var (k, v) in requirements.Labels())
        {
            if (k != Labels.Hostname)
            {
                labels[k] = v;
            }
        }

        foreach (var (k, v) in nodeClaim.Metadata.Labels ?? new Dictionary<string, string>())
        {
            labels[k] = v;
        }

        nodeClaim.Metadata.Labels = labels;
        if (launched.Metadata?.Annotations is { Count: > 0 } annotations)
        {
            nodeClaim.Metadata.Annotations ??= new Dictionary<string, string>();
            foreach (var (k, v) in annotations)
            {
                if (k != InstanceTags.NodeClaim)
                {
                    nodeClaim.Metadata.Annotations[k] = v;
                }
            }
        }

        nodeClaim.Status.ProviderId = launched.Status?.ProviderId;
        nodeClaim.Status.ImageId = launched.Status?.ImageId;
        nodeClaim.Status.Capacity = launched.Status?.Capacity;
        nodeClaim.Status.Allocatable = launched.Status?.Allocatable;
        nodeClaim.SetTrue(ConditionTypes.Launched, time.GetUtcNow());
    }

    private (string Reason, string Message, string MetricReason)? RefusalReason(NodeClaim nodeClaim)
    {
        if (nodeClaim.NodePoolName is { } poolName)
        {
            var pool = indexes.NodePool(poolName);
            if (pool is null)
            {
                return (EventReasons.NodePoolNotFound, $"NodePool {poolName} does not exist; NodeClaim {nodeClaim.Metadata.Name} cannot launch", DisruptionReasons.NodePoolNotReady);
            }

            if (ConditionList.Get(pool.Status?.Conditions, ConditionTypes.Ready) is { Status: ConditionStatus.False } notReady)
            {
                return (EventReasons.NodePoolNotReady, $"NodePool {poolName} is not ready ({notReady.Reason}: {notReady.Message}); NodeClaim {nodeClaim.Metadata.Name} cannot launch", DisruptionReasons.NodePoolNotReady);
            }
        }

        if (nodeClasses?.Find(nodeClaim.Spec.NodeClassRef) is { } nodeClass)
        {
            if (!nodeClass.Exists)
            {
                return (EventReasons.NodeClassNotReady, $"{nodeClaim.Spec.NodeClassRef.Kind} {nodeClaim.Spec.NodeClassRef.Name} does not exist; NodeClaim {nodeClaim.Metadata.Name} cannot launch", DisruptionReasons.NodeClassNotReady);
            }

            if (nodeClass.Ready is { Status: ConditionStatus.False } notReady)
            {
                return (EventReasons.NodeClassNotReady, $"{nodeClaim.Spec.NodeClassRef.Kind} {nodeClaim.Spec.NodeClassRef.Name} is not ready ({notReady.Reason}: {notReady.Message}); NodeClaim {nodeClaim.Metadata.Name} cannot launch", DisruptionReasons.NodeClassNotReady);
            }
        }

        return null;
    }

    private async Task<StepOutcome> DeleteAsync(NodeClaim nodeClaim, string reason, string message, string metricReason, CancellationToken cancellationToken)
    {
        events.Publish(new KubeEvent(nodeClaim, EventTypes.Warning, reason, NodeClaims.Truncate(message)));
        logger.Deleting(nodeClaim.Metadata.Name, message);
        await client.DeleteIfExistsAsync<NodeClaim>(nodeClaim.Metadata.Name, null, KubeClientExtensions.Preconditions(nodeClaim.Metadata.Uid), cancellationToken);
        metrics.NodeClaimsDisrupted.Add(1, LifecycleMetrics.Disruption(metricReason, nodeClaim.NodePoolName, nodeClaim.Label(Labels.CapacityType)));
        return StepOutcome.WasDeleted;
    }
}

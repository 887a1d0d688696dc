using Karpenter.Core.Metrics;
using Karpenter.Core.NodePools;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Events;
using Microsoft.Extensions.Logging;

namespace Karpenter.Core.Lifecycle.Liveness;

/// <summary>
/// The liveness step of <c>nodeclaim.lifecycle</c>: a NodeClaim that has not launched 5 minutes after its
/// <c>Launched</c> condition left True's way (its launch kept failing), or whose Node has not registered 15 minutes
/// after <c>Registered</c> first turned, is deleted with an event, so the provisioner can try again elsewhere and the
/// finalizer terminates whatever was launched. Until then it comes back when the deadline falls due.
/// </summary>
public sealed class LivenessStep(IKubeClient client, NodePoolRegistrationHealth registrationHealth, IEventRecorder events, LifecycleMetrics metrics, TimeProvider time, ILogger<LivenessStep> logger)
{
    /// <summary>Upstream's <c>LaunchTimeout</c>.</summary>
    public static readonly TimeSpan LaunchTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Upstream's <c>registrationTTL</c>.</summary>
    public static readonly TimeSpan RegistrationTimeout = TimeSpan.FromMinutes(15);

    public async Task<StepOutcome> ReconcileAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        var registered = nodeClaim.Condition(ConditionTypes.Registered);
        if (registered is null || nodeClaim.IsTrue(ConditionTypes.Registered))
        {
            return StepOutcome.Done;
        }

        var now = time.GetUtcNow();
        var launched = nodeClaim.Condition(ConditionTypes.Launched);
        if (launched is not null && launched.Status != "True")
        {
            var remaining = LaunchTimeout - (now - Since(launched.LastTransitionTime, now));
            if (remaining > TimeSpan.Zero)
            {
                return StepOutcome.After(remaining);
            }

            var why = string.IsNullOrEmpty(launched.Message) ? string.Empty : $": {launched.Message}";
            return await DeleteAsync(nodeClaim, EventReasons.LaunchTimeout, $"NodeClaim {nodeClaim.Metadata.Name} did not launch within {LaunchTimeout.TotalMinutes:0}m{why}", DisruptionReasons.LaunchTimeout, cancellationToken);
        }

        var left = RegistrationTimeout - (now - Since(registered.LastTransitionTime, now));
        if (left > TimeSpan.Zero)
        {
            return StepOutcome.After(left);
        }

        return await DeleteAsync(
            nodeClaim,
            EventReasons.RegistrationTimeout,
            $"No node with provider ID {nodeClaim.Status.ProviderId} registered within {RegistrationTimeout.TotalMinutes:0}m; deleting NodeClaim {nodeClaim.Metadata.Name} so its instance is terminated",
            DisruptionReasons.Liveness,
            cancellationToken);
    }

    private static DateTimeOffset Since(DateTime? transition, DateTimeOffset now) =>
        transition is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : now;

    private async Task<StepOutcome> DeleteAsync(NodeClaim nodeClaim, string reason, string message, string metricReason, CancellationToken cancellationToken)
    {
        events.Publish(new KubeEvent(nodeClaim, EventTypes.Warning, reason, NodeClaims.Truncate(message)));
        logger.Deleting(nodeClaim.Metadata.Name, message);
        await registrationHealth.FailedAsync(nodeClaim, cancellationToken);
        await client.DeleteIfExistsAsync<NodeClaim>(nodeClaim.Metadata.Name, null, KubeClientExtensions.Preconditions(nodeClaim.Metadata.Uid), cancellationToken);
        metrics.NodeClaimsDisrupted.Add(1, LifecycleMetrics.Disruption(metricReason, nodeClaim.NodePoolName, nodeClaim.Label(Labels.CapacityType)));
        return StepOutcome.WasDeleted;
    }
}

using System.Globalization;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Metrics;
using Karpenter.Entities;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Microsoft.Extensions.Logging;

namespace Karpenter.Core.Lifecycle.Expiration;

/// <summary>
/// <c>nodeclaim.expiration</c>: deletes a NodeClaim once <c>creationTimestamp + spec.expireAfter</c> has passed. Forceful,
/// as upstream: no disruption budget, no replacement launched first; the drain is bounded only by the NodeClaim's
/// <c>terminationGracePeriod</c>. Until then the NodeClaim is requeued for its expiry time.
/// </summary>
public sealed class ExpirationController(
    IKubeClient client,
    ICloudProvider cloudProvider,
    IEventRecorder events,
    LifecycleMetrics metrics,
    TimeProvider time,
    ILogger<ExpirationController> logger) : IReconciler<NodeClaim>
{
    public const string Name = "nodeclaim.expiration";

    public async Task<ReconcileResult> ReconcileAsync(NodeClaim entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (!NodeClaims.IsManaged(entity, cloudProvider) || entity.IsBeingDeleted() ||
            NodeClaims.Duration(entity.Spec.ExpireAfter) is not { } expireAfter ||
            entity.Metadata.CreationTimestamp is not { } created)
        {
            return ReconcileResult.Done;
        }

        var expiresAt = new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)) + expireAfter;
        var now = time.GetUtcNow();
        if (now < expiresAt)
        {
            return ReconcileResult.After(expiresAt - now);
        }

        var message = $"NodeClaim {entity.Metadata.Name} expired: created {created.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)} with expireAfter {GoDuration.Format(expireAfter)}";
        logger.Deleting(entity.Metadata.Name, message);
        events.Publish(new KubeEvent(entity, EventTypes.Normal, EventReasons.Expired, message));
        if (await client.DeleteIfExistsAsync<NodeClaim>(entity.Metadata.Name, null, KubeClientExtensions.Preconditions(entity.Metadata.Uid), cancellationToken))
        {
            metrics.NodeClaimsDisrupted.Add(1, LifecycleMetrics.Disruption(DisruptionReasons.Expired, entity.NodePoolName, entity.Label(Labels.CapacityType)));
        }

        return ReconcileResult.Done;
    }
}

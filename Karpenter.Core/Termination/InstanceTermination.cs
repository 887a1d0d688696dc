using Karpenter.Core.CloudProvider;
using Karpenter.Core.Lifecycle;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;

namespace Karpenter.Core.Termination;

/// <summary>
/// Terminating the instance behind a NodeClaim (upstream <c>termination.EnsureTerminated</c>), shared by the Node's
/// and the NodeClaim's finalizers: asks the cloud provider to delete it and records <c>InstanceTerminating=True</c> on
/// the NodeClaim until the provider reports the instance gone.
/// </summary>
public sealed class InstanceTermination(IKubeClient client, ICloudProvider cloudProvider, TimeProvider time)
{
    /// <summary>How often the instance's termination is re-requested until the provider reports it gone (upstream: 5 s).</summary>
    public static readonly TimeSpan Poll = TimeSpan.FromSeconds(5);

    /// <summary>
    /// True once the instance <paramref name="providerId"/> is gone; false while it terminates (call again after
    /// <see cref="Poll"/>). Throws <see cref="KubeConflictException"/> or <see cref="KubeNotFoundException"/> when the
    /// NodeClaim moved or went while its condition was written.
    /// </summary>
    public async Task<bool> EnsureTerminatedAsync(NodeClaim nodeClaim, string providerId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        ArgumentException.ThrowIfNullOrEmpty(providerId);
        var target = KubeObjects.DeepClone(nodeClaim);
        target.Status.ProviderId = providerId;
        try
        {
            await cloudProvider.DeleteAsync(target, cancellationToken);
        }
        catch (NodeClaimNotFoundException)
        {
            return true;
        }

        if (!nodeClaim.IsTrue(ConditionTypes.InstanceTerminating) || nodeClaim.Status.ProviderId != providerId)
        {
            // Record the provider ID too when it came from the launch cache or the cloud, so the next pass keeps
            // waiting for this instance.
            var modified = KubeObjects.DeepClone(nodeClaim);
            modified.Status.ProviderId = providerId;
            modified.SetTrue(ConditionTypes.InstanceTerminating, time.GetUtcNow());
            await client.PatchStatusFromAsync(nodeClaim, modified, optimisticLock: true, cancellationToken);
        }

        return false;
    }
}

using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Informers;
using Microsoft.Extensions.Logging;

namespace Karpenter.Aws.InstanceProfiles;

/// <summary>
/// <c>instanceprofile.garbagecollection</c> (upstream <c>pkg/controllers/providers/instanceprofile/garbagecollection</c>): every
/// 30 minutes deletes the instance profiles this cluster's operator created (under its IAM path) that no EC2NodeClass status
/// names and no NodeClaim's <c>karpenter.k8s.aws/instance-profile-name</c> annotation references, such as the profile of a
/// NodeClass whose role changed or whose deletion was interrupted.
/// </summary>
public sealed partial class InstanceProfileGarbageCollector(InstanceProfileProvider profiles, IKubeClient client, InformerFactory informers,
    ILogger<InstanceProfileGarbageCollector> logger) : ISingletonReconciler
{
    public const string Name = "instanceprofile.garbagecollection";

    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(30);

    private readonly Informer<EC2NodeClass> _nodeClasses = informers.Get<EC2NodeClass>();
    private readonly Informer<NodeClaim> _nodeClaims = informers.Get<NodeClaim>();

    public async Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken)
    {
        var owned = await profiles.ListClusterProfilesAsync(cancellationToken);
        if (owned.Count == 0)
        {
            return ReconcileResult.After(Interval);
        }
        // Read the profiles in use after listing IAM, so a profile created meanwhile is already in some status.
        var inUse = new HashSet<string>(StringComparer.Ordinal);
        IEnumerable<EC2NodeClass> nodeClasses = _nodeClasses.HasSynced
            ? _nodeClasses.List()
            : (await client.ListAllAsync<EC2NodeClass>(cancellationToken: cancellationToken)).Items;
        foreach (var nodeClass in nodeClasses)
        {
            if (!string.IsNullOrEmpty(nodeClass.Status?.InstanceProfile))
            {
                inUse.Add(nodeClass.Status.InstanceProfile);
            }
        }
        IEnumerable<NodeClaim> claims = _nodeClaims.HasSynced
            ? _nodeClaims.List()
            : (await client.ListAllAsync<NodeClaim>(cancellationToken: cancellationToken)).Items;
        foreach (var claim in claims)
        {
            if (claim.Metadata.Annotations.ValueOf(Annotations.InstanceProfileName) is { Length: > 0 } name)
            {
                inUse.Add(name);
            }
        }
        foreach (var profile in owned.Where(p => !inUse.Contains(p.Name)))
        {
            await profiles.DeleteAsync(profile.Name, cancellationToken);
            LogDeleted(logger, profile.Name);
        }
        return ReconcileResult.After(Interval);
    }

    [LoggerMessage(EventId = 2700, Level = LogLevel.Information, Message = "deleted instance profile {InstanceProfile}: no EC2NodeClass or NodeClaim uses it")]
    private static partial void LogDeleted(ILogger logger, string instanceProfile);
}

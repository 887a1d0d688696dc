using Karpenter.Aws.Instances;
using Karpenter.Core.CloudProvider;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Aws.Tagging;

/// <summary>
/// The <c>nodeclaim.tagging</c> controller (upstream <c>pkg/controllers/nodeclaim/tagging</c>): once a NodeClaim's node has
/// registered, tags its instance with <c>Name</c> (the node name), <c>karpenter.sh/nodeclaim</c> and
/// <c>eks:eks-cluster-name</c>, adding only keys the instance lacks, then marks the NodeClaim
/// <c>karpenter.k8s.aws/tagged=true</c> so it is not tagged again.
/// </summary>
public sealed partial class TaggingController(InstanceProvider instances, IKubeClient client, IOptions<AwsOptions> options,
    ILogger<TaggingController> logger) : IReconciler<NodeClaim>
{
    public const string Name = "nodeclaim.tagging";

    public async Task<ReconcileResult> ReconcileAsync(NodeClaim entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (!IsTaggable(entity) || Ec2Instance.ParseProviderId(entity.Status.ProviderId) is not { } instanceId)
        {
            return ReconcileResult.Done;
        }
        Ec2Instance instance;
        try
        {
            instance = await instances.GetAsync(instanceId, cancellationToken);
        }
        catch (NodeClaimNotFoundException)
        {
            return ReconcileResult.Done; // the instance is gone: nothing to tag.
        }
        var wanted = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [AwsTags.Name] = entity.Status.NodeName!,
            [AwsTags.NodeClaim] = entity.Metadata.Name,
            [AwsTags.EksClusterName] = options.Value.ClusterName,
        };
        var missing = wanted.Where(t => !instance.Tags.ContainsKey(t.Key)).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
        if (missing.Count > 0)
        {
            try
            {
                await instances.CreateTagsAsync(instanceId, missing, cancellationToken);
            }
            catch (NodeClaimNotFoundException)
            {
                return ReconcileResult.Done;
            }
            var added = string.Join(", ", missing.Keys.Order(StringComparer.Ordinal));
            LogTagged(logger, instanceId, entity.Metadata.Name, added);
        }
        try
        {
            await client.PatchAsync<NodeClaim>(entity.Metadata.Name, null,
                KubePatch.Merge(new { metadata = new { annotations = new Dictionary<string, string> { [Annotations.InstanceTagged] = "true" } } }),
                cancellationToken);
        }
        catch (KubeNotFoundException)
        {
            // Deleted meanwhile.
        }
        return ReconcileResult.Done;
    }

    /// <summary>Registered, with a node name, not being deleted, and not tagged yet.</summary>
    public static bool IsTaggable(NodeClaim nodeClaim)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        return nodeClaim.Metadata.DeletionTimestamp is null
            && !string.IsNullOrEmpty(nodeClaim.Status?.NodeName)
            && nodeClaim.IsConditionTrue(ConditionTypes.Registered)
            && nodeClaim.Metadata.Annotations.ValueOf(Annotations.InstanceTagged) != "true";
    }

    [LoggerMessage(EventId = 2600, Level = LogLevel.Information, Message = "tagged instance {InstanceId} of nodeclaim {NodeClaim} with {Tags}")]
    private static partial void LogTagged(ILogger logger, string instanceId, string nodeClaim, string tags);
}

using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Informers;

namespace Karpenter.Aws.NodeClasses.Hash;

/// <summary>
/// The <c>nodeclass.hash</c> controller (upstream <c>pkg/controllers/nodeclass/hash</c>): writes the static-drift hash and its
/// version on each EC2NodeClass. When the version on the NodeClass is not this implementation's, its NodeClaims are
/// re-stamped with the new version (and, unless already drifted, the new hash) so a change of hashing is not drift.
/// </summary>
public sealed class NodeClassHashController(IKubeClient client, InformerFactory informers) : IReconciler<EC2NodeClass>
{
    public const string Name = "nodeclass.hash";

    private readonly Informer<NodeClaim> _nodeClaims = informers.Get<NodeClaim>();

    public async Task<ReconcileResult> ReconcileAsync(EC2NodeClass entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        if (entity.Metadata.DeletionTimestamp is not null)
        {
            return ReconcileResult.Done;
        }
        var hash = NodeClassHash.Compute(entity);
        var annotations = entity.Metadata.Annotations ?? new Dictionary<string, string>();
        if (annotations.ValueOf(Annotations.Ec2NodeClassHashVersion) != NodeClassHash.Version)
        {
            await RestampNodeClaimsAsync(entity, hash, cancellationToken);
        }
        if (annotations.ValueOf(Annotations.Ec2NodeClassHash) == hash && annotations.ValueOf(Annotations.Ec2NodeClassHashVersion) == NodeClassHash.Version)
        {
            return ReconcileResult.Done;
        }
        var patch = new { metadata = new { annotations = new Dictionary<string, string> { [Annotations.Ec2NodeClassHash] = hash, [Annotations.Ec2NodeClassHashVersion] = NodeClassHash.Version } } };
        try
        {
            await client.PatchAsync<EC2NodeClass>(entity.Metadata.Name, null, KubePatch.Merge(patch), cancellationToken);
        }
        catch (KubeNotFoundException)
        {
            // Deleted meanwhile.
        }
        return ReconcileResult.Done;
    }

    private async Task RestampNodeClaimsAsync(EC2NodeClass nodeClass, string hash, CancellationToken cancellationToken)
    {
        IEnumerable<NodeClaim> claims = _nodeClaims.HasSynced
            ? _nodeClaims.List()
            : (await client.ListAllAsync<NodeClaim>(cancellationToken: cancellationToken)).Items;
        foreach (var claim in claims.Where(c => c.Spec.NodeClassRef.Name == nodeClass.Metadata.Name && c.Spec.NodeClassRef.Kind == "EC2NodeClass"))
        {
            var annotations = claim.Metadata.Annotations ?? new Dictionary<string, string>();
            if (annotations.ValueOf(Annotations.Ec2NodeClassHashVersion) == NodeClassHash.Version)
            {
                continue;
            }
            var changes = new Dictionary<string, string> { [Annotations.Ec2NodeClassHashVersion] = NodeClassHash.Version };
            // A NodeClaim already judged drifted stays so: the old hash cannot be compared with the new one.
            if (claim.GetCondition(ConditionTypes.Drifted) is null)
            {
                changes[Annotations.Ec2NodeClassHash] = hash;
            }
            try
            {
                await client.PatchAsync<NodeClaim>(claim.Metadata.Name, null, KubePatch.Merge(new { metadata = new { annotations = changes } }), cancellationToken);
            }
            catch (KubeNotFoundException)
            {
                // Gone meanwhile.
            }
        }
    }
}

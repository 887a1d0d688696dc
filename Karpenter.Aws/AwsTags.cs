using System.Text.RegularExpressions;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Aws;

/// <summary>The tags Karpenter puts on what it creates (upstream <c>utils.GetTags</c>, aws-provider.md §2).</summary>
public static partial class AwsTags
{
    public const string EksClusterName = "eks:eks-cluster-name";
    public const string NodeClaim = "karpenter.sh/nodeclaim";
    public const string Name = "Name";

    [GeneratedRegex("^kubernetes\\.io/cluster/[0-9A-Za-z][A-Za-z0-9\\-_]*$")]
    private static partial Regex ClusterTag();

    /// <summary>The key of the tag that marks a resource as owned by the cluster.</summary>
    public static string ClusterOwned(string clusterName) => $"kubernetes.io/cluster/{clusterName}";

    /// <summary>A user tag Karpenter reserves for itself (upstream <c>RestrictedTagPatterns</c>), or null.</summary>
    public static string? FindRestricted(IReadOnlyDictionary<string, string>? tags) =>
        tags?.Keys.Where(k => ClusterTag().IsMatch(k) || k is Labels.NodePool or EksClusterName or Labels.Ec2NodeClass or NodeClaim)
            .Order(StringComparer.Ordinal).FirstOrDefault();

    /// <summary>
    /// The creation tags of an instance (and its volumes, fleet and launch templates): the NodeClass's tags plus the cluster's
    /// ownership, the NodePool, the cluster name and the NodeClass. Throws when a user tag uses a reserved key.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ForLaunch(EC2NodeClass nodeClass, string? nodePool, string clusterName)
    {
        ArgumentNullException.ThrowIfNull(nodeClass);
        if (FindRestricted(nodeClass.Spec.Tags) is { } restricted)
        {
            throw new ArgumentException($"\"{restricted}\" tag does not pass tag validation requirements: the key is reserved for Karpenter");
        }
        var tags = new SortedDictionary<string, string>(nodeClass.Spec.Tags ?? [], StringComparer.Ordinal)
        {
            [ClusterOwned(clusterName)] = "owned",
            [Labels.NodePool] = nodePool ?? "",
            [EksClusterName] = clusterName,
            [Labels.Ec2NodeClass] = nodeClass.Metadata.Name ?? "",
        };
        return tags;
    }
}

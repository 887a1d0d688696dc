namespace Karpenter.Entities.WellKnown;

/// <summary>Annotation keys, exactly as upstream Karpenter v1 spells them.</summary>
public static class Annotations
{
    /// <summary>On a Pod, Node or NodeClaim: <c>"true"</c> blocks voluntary disruption; on a Pod a duration protects it for that long after it starts.</summary>
    public const string DoNotDisrupt = "karpenter.sh/do-not-disrupt";
    public const string NodePoolHash = "karpenter.sh/nodepool-hash";
    public const string NodePoolHashVersion = "karpenter.sh/nodepool-hash-version";
    public const string NodeClaimTerminationTimestamp = "karpenter.sh/nodeclaim-termination-timestamp";
    public const string NodeClaimMinValuesRelaxed = "karpenter.sh/nodeclaim-min-values-relaxed";
    public const string RequestedDraDrivers = "karpenter.sh/requested-dra-drivers";
    public const string ProviderCompatibility = "compatibility.karpenter.sh/provider";
    public const string PriceOverlayApplied = "karpenter.sh/price-overlay-applied";
    public const string CapacityOverlayApplied = "karpenter.sh/capacity-overlay-applied";

    /// <summary>
    /// Not upstream's: on a disruption candidate's NodeClaim, the names of the replacement NodeClaims its command launched
    /// (comma-separated), so a restarted operator can resume the command (replacements initialized) or abandon it.
    /// </summary>
    public const string DisruptionReplacements = "dotnet.karpenter.sh/disruption-replacements";

    public const string Ec2NodeClassHash = "karpenter.k8s.aws/ec2nodeclass-hash";
    public const string Ec2NodeClassHashVersion = "karpenter.k8s.aws/ec2nodeclass-hash-version";
    public const string InstanceTagged = "karpenter.k8s.aws/tagged";
    public const string InstanceProfileName = "karpenter.k8s.aws/instance-profile-name";

    /// <summary>
    /// On a <c>karpenter.sh/v1</c> NodePool converted from v1beta1: the v1beta1 spec as written, so that reading it
    /// back as v1beta1 returns the shorthands the user applied (consumed by the conversion that restores it).
    /// </summary>
    public const string V1Beta1NodePoolSpec = "compatibility.karpenter.sh/v1beta1-spec";

    /// <summary>On a v1beta1 NodePool converted from v1: the v1 spec that v1beta1 cannot express.</summary>
    public const string V1NodePoolSpec = "compatibility.karpenter.sh/v1-spec";

    /// <summary>As <see cref="V1Beta1NodePoolSpec"/>, for EC2NodeClasses.</summary>
    public const string V1Beta1Ec2NodeClassSpec = "compatibility.karpenter.k8s.aws/v1beta1-spec";

    /// <summary>As <see cref="V1NodePoolSpec"/>, for EC2NodeClasses.</summary>
    public const string V1Ec2NodeClassSpec = "compatibility.karpenter.k8s.aws/v1-spec";

    /// <summary>
    /// The value of <see cref="NodePoolHashVersion"/> this implementation writes. Upstream v1 writes <c>v3</c> with a
    /// different hash function; a distinct version makes the hash controller re-stamp NodeClaims made by the other
    /// implementation instead of reporting them drifted, so switching either way replaces no nodes.
    /// </summary>
    public const string NodePoolHashVersionValue = "v3-dotnet1";

    /// <summary>As <see cref="NodePoolHashVersionValue"/>, for <see cref="Ec2NodeClassHashVersion"/> (upstream v1: <c>v6</c>).</summary>
    public const string Ec2NodeClassHashVersionValue = "v6-dotnet1";
}

using System.Text.Json.Serialization;
using Karpenter.Kube.Entities;
using YamlDotNet.Serialization;

namespace Karpenter.Entities.Aws.V1;

/// <summary>CEL rules shared by both versions of EC2NodeClass: tag maps, the node identity and block devices.</summary>
internal static class TagRules
{
    public const string NoEmptyKeysOrValues = "self.all(k, k != '' && self[k] != '')";
    public const string NoEmptyKeysOrValuesMessage = "empty tag keys or values aren't supported";

    public const string NoEmptyKeys = "self.all(k, k != '')";
    public const string NoEmptyKeysMessage = "empty tag keys aren't supported";
    public const string NoEksClusterName = "self.all(k, k !='eks:eks-cluster-name')";
    public const string NoEksClusterNameMessage = "tag contains a restricted tag matching eks:eks-cluster-name";
    public const string NoKubernetesCluster = "self.all(k, !k.startsWith('kubernetes.io/cluster') )";
    public const string NoKubernetesClusterMessage = "tag contains a restricted tag matching kubernetes.io/cluster/";
    public const string NoNodePool = "self.all(k, k != 'karpenter.sh/nodepool')";
    public const string NoNodePoolMessage = "tag contains a restricted tag matching karpenter.sh/nodepool";
    public const string NoNodeClaim = "self.all(k, k !='karpenter.sh/nodeclaim')";
    public const string NoNodeClaimMessage = "tag contains a restricted tag matching karpenter.sh/nodeclaim";
    public const string NoEc2NodeClass = "self.all(k, k !='karpenter.k8s.aws/ec2nodeclass')";
    public const string NoEc2NodeClassMessage = "tag contains a restricted tag matching karpenter.k8s.aws/ec2nodeclass";

    public const string RoleOrInstanceProfile = "(has(self.role) && !has(self.instanceProfile)) || (!has(self.role) && has(self.instanceProfile))";
    public const string RoleOrInstanceProfileMessage = "must specify exactly one of ['role', 'instanceProfile']";
    public const string OneRootVolume = "self.filter(x, has(x.rootVolume)?x.rootVolume==true:false).size() <= 1";
    public const string OneRootVolumeMessage = "must have only one blockDeviceMappings with rootVolume";
}

/// <summary>
/// SubnetSelectorTerm defines selection logic for a subnet used by Karpenter to launch nodes. If multiple fields are
/// used for selection, the requirements are ANDed.
/// </summary>
public sealed class SubnetSelectorTerm
{
    /// <summary>Tags is a map of key/value tags used to select subnets. Specifying '*' for a value selects all values for a given tag key.</summary>
    [Properties(Max = 20)]
    [ValidationRule(TagRules.NoEmptyKeysOrValues, Message = TagRules.NoEmptyKeysOrValuesMessage)]
    [JsonPropertyName("tags")]
    public Dictionary<string, string>? Tags { get; set; }

    /// <summary>ID is the subnet id in EC2</summary>
    [Pattern("subnet-[0-9a-z]+")]
    [JsonPropertyName("id")]
    public string? Id { get; set; }
}

/// <summary>
/// SecurityGroupSelectorTerm defines selection logic for a security group used by Karpenter to launch nodes. If
/// multiple fields are used for selection, the requirements are ANDed.
/// </summary>
public sealed class SecurityGroupSelectorTerm
{
    /// <summary>Tags is a map of key/value tags used to select security groups. Specifying '*' for a value selects all values for a given tag key.</summary>
    [Properties(Max = 20)]
    [ValidationRule(TagRules.NoEmptyKeysOrValues, Message = TagRules.NoEmptyKeysOrValuesMessage)]
    [JsonPropertyName("tags")]
    public Dictionary<string, string>? Tags { get; set; }

    /// <summary>ID is the security group id in EC2</summary>
    [Pattern("sg-[0-9a-z]+")]
    [JsonPropertyName("id")]
    public string? Id { get; set; }

    /// <summary>Name is the security group name in EC2. This value is the name field, which is different from the name tag.</summary>
    [JsonPropertyName("name")]
    public string? Name { get; set; }
}

/// <summary>CapacityReservationSelectorTerm selects capacity reservations (ODCRs and capacity blocks).</summary>
public sealed class CapacityReservationSelectorTerm
{
    /// <summary>Tags is a map of key/value tags used to select capacity reservations. Specifying '*' for a value selects all values for a given tag key.</summary>
    [Properties(Max = 20)]
    [ValidationRule(TagRules.NoEmptyKeysOrValues, Message = TagRules.NoEmptyKeysOrValuesMessage)]
    [JsonPropertyName("tags")]
    public Dictionary<string, string>? Tags { get; set; }

    /// <summary>ID is the capacity reservation id in EC2</summary>
    [Pattern("^cr-[0-9a-z]+$")]
    [JsonPropertyName("id")]
    public string? Id { get; set; }

    /// <summary>Owner is the owner id for the ami.</summary>
    [Pattern("^[0-9]{12}$")]
    [JsonPropertyName("ownerID")]
    [YamlMember(Alias = "ownerID")]
    public string? OwnerId { get; set; }

    /// <summary>
    /// InstanceMatchCriteria specifies how instances are matched to capacity reservations. Open reservations accept any
    /// matching instance; targeted ones only launches that name them.
    /// </summary>
    [JsonPropertyName("instanceMatchCriteria")]
    public InstanceMatchCriteria? InstanceMatchCriteria { get; set; }
}

/// <summary>
/// AMISelectorTerm defines selection logic for an ami used by Karpenter to launch nodes. If multiple fields are used for
/// selection, the requirements are ANDed.
/// </summary>
public sealed class AmiSelectorTerm
{
    /// <summary>
    /// Alias specifies which EKS optimized AMI to select. Each alias consists of a family and an AMI version, specified
    /// as "family@version". Valid families include: al2, al2023, bottlerocket, windows2019, windows2022 and windows2025.
    /// The version can either be pinned to a specific AMI release, with that AMIs version format (ex: "al2023@v20240625"
    /// or "bottlerocket@v1.10.0"). The version can also be set to "latest" for any family. Setting the version to latest
    /// will result in drift when a new AMI is released. This is **not** recommended for production environments. Note:
    /// The Windows families do **not** support version pinning, and only latest may be used.
    /// </summary>
    [Length(Max = 30)]
    [ValidationRule("self.matches('^[a-zA-Z0-9]+@.+$')", Message = "'alias' is improperly formatted, must match the format 'family@version'")]
    [ValidationRule("self.split('@')[0] in ['al2','al2023','bottlerocket','windows2019','windows2022','windows2025']", Message = "family is not supported, must be one of the following: 'al2', 'al2023', 'bottlerocket', 'windows2019', 'windows2022', 'windows2025'")]
    [ValidationRule("self.split('@')[0] in ['windows2019','windows2022','windows2025'] ? self.split('@')[1] == 'latest' : true", Message = "windows families may only specify version 'latest'")]
    [JsonPropertyName("alias")]
    public string? Alias { get; set; }

    /// <summary>Tags is a map of key/value tags used to select amis. Specifying '*' for a value selects all values for a given tag key.</summary>
    [Properties(Max = 20)]
    [ValidationRule(TagRules.NoEmptyKeysOrValues, Message = TagRules.NoEmptyKeysOrValuesMessage)]
    [JsonPropertyName("tags")]
    public Dictionary<string, string>? Tags { get; set; }

    /// <summary>ID is the ami id in EC2</summary>
    [Pattern("ami-[0-9a-z]+")]
    [JsonPropertyName("id")]
    public string? Id { get; set; }

    /// <summary>Name is the ami name in EC2. This value is the name field, which is different from the name tag.</summary>
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    /// <summary>Owner is the owner for the ami. You can specify a combination of AWS account IDs, "self", "amazon", and "aws-marketplace"</summary>
    [JsonPropertyName("owner")]
    public string? Owner { get; set; }

    /// <summary>SSMParameter is the name (or ARN) of the SSM parameter containing the Image ID.</summary>
    [JsonPropertyName("ssmParameter")]
    public string? SsmParameter { get; set; }

    /// <summary>The family part of <see cref="Alias"/> (<c>al2023</c> of <c>al2023@latest</c>), or null.</summary>
    [JsonIgnore]
    [YamlIgnore]
    public string? AliasFamily => Alias is null ? null : Alias.Split('@', 2)[0];

    /// <summary>The version part of <see cref="Alias"/> (<c>latest</c> of <c>al2023@latest</c>), or null.</summary>
    [JsonIgnore]
    [YamlIgnore]
    public string? AliasVersion => Alias?.Split('@', 2) is [_, var version] ? version : null;
}

/// <summary>PlacementGroupSelector defines the name or the id of the placement group to resolve with the nodeclass.</summary>
[ValidationRule("has(self.name) || has(self.id)", Message = "expected at least one, got none, ['name', 'id']")]
[ValidationRule("!(has(self.name) && has(self.id))", Message = "'name' and 'id' are mutually exclusive")]
public sealed class PlacementGroupSelector
{
    /// <summary>Name is the placement group name in EC2</summary>
    [Length(Min = 1)]
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    /// <summary>ID is the placement group id in EC2</summary>
    [Pattern("^pg-[0-9a-z]+$")]
    [JsonPropertyName("id")]
    public string? Id { get; set; }
}

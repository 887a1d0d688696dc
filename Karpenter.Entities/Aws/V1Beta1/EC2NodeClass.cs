using System.Text.Json.Serialization;
using k8s.Models;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Entities;
using YamlDotNet.Serialization;

namespace Karpenter.Entities.Aws.V1Beta1;

/// <summary>
/// EC2NodeClass is the Schema for the EC2NodeClass API. This is the pre-v1 API with the legacy tag-map shorthands,
/// still served so that existing manifests keep working; objects are stored as <c>karpenter.k8s.aws/v1</c>.
/// </summary>
[KubernetesEntity(Group = Labels.AwsGroup, ApiVersion = "v1beta1", Kind = "EC2NodeClass", PluralName = "ec2nodeclasses")]
[EntityScope(EntityScope.Cluster)]
[PrinterColumn("Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status")]
[PrinterColumn("Age", "date", ".metadata.creationTimestamp")]
[PrinterColumn("Role", "string", ".spec.role", Priority = 1)]
public sealed class EC2NodeClass : CustomKubernetesEntity<EC2NodeClassSpec, EC2NodeClassStatus>;

/// <summary>
/// EC2NodeClassSpec is the top level specification for the AWS Karpenter Provider. Subnets and security groups are
/// chosen either by selector terms or, in the legacy shorthand, by a plain tag map.
/// </summary>
[ValidationRule(TagRules.RoleOrInstanceProfile, Message = TagRules.RoleOrInstanceProfileMessage)]
[ValidationRule("has(self.subnetSelectorTerms) != has(self.subnetSelector)", Message = "must specify exactly one of ['subnetSelector', 'subnetSelectorTerms']")]
[ValidationRule("has(self.securityGroupSelectorTerms) != has(self.securityGroupSelector)", Message = "must specify exactly one of ['securityGroupSelector', 'securityGroupSelectorTerms']")]
[ValidationRule("self.amiFamily == 'Custom' ? has(self.amiSelectorTerms) : true", Message = "amiSelectorTerms is required when amiFamily == 'Custom'")]
public sealed class EC2NodeClassSpec
{
    /// <summary>SubnetSelectorTerms is a list of or subnet selector terms. The terms are ORed.</summary>
    [Items(Max = 30)]
    [ValidationRule("self.size() != 0", Message = "subnetSelectorTerms cannot be empty")]
    [ValidationRule("self.all(x, has(x.tags) || has(x.id))", Message = "expected at least one, got none, ['tags', 'id']")]
    [ValidationRule("!self.all(x, has(x.id) && has(x.tags))", Message = "'id' is mutually exclusive, cannot be set with a combination of other fields in subnetSelectorTerms")]
    [JsonPropertyName("subnetSelectorTerms")]
    public List<SubnetSelectorTerm>? SubnetSelectorTerms { get; set; }

    /// <summary>SubnetSelector is the legacy shorthand for one subnet selector term with these tags.</summary>
    [Properties(Min = 1, Max = 20)]
    [ValidationRule(TagRules.NoEmptyKeysOrValues, Message = TagRules.NoEmptyKeysOrValuesMessage)]
    [JsonPropertyName("subnetSelector")]
    public Dictionary<string, string>? SubnetSelector { get; set; }

    /// <summary>SecurityGroupSelectorTerms is a list of or security group selector terms. The terms are ORed.</summary>
    [Items(Max = 30)]
    [ValidationRule("self.size() != 0", Message = "securityGroupSelectorTerms cannot be empty")]
    [ValidationRule("self.all(x, has(x.tags) || has(x.id) || has(x.name))", Message = "expected at least one, got none, ['tags', 'id', 'name']")]
    [ValidationRule("!self.all(x, has(x.id) && (has(x.tags) || has(x.name)))", Message = "'id' is mutually exclusive, cannot be set with a combination of other fields in securityGroupSelectorTerms")]
    [ValidationRule("!self.all(x, has(x.name) && (has(x.tags) || has(x.id)))", Message = "'name' is mutually exclusive, cannot be set with a combination of other fields in securityGroupSelectorTerms")]
    [JsonPropertyName("securityGroupSelectorTerms")]
    public List<SecurityGroupSelectorTerm>? SecurityGroupSelectorTerms { get; set; }

    /// <summary>SecurityGroupSelector is the legacy shorthand for one security group selector term with these tags.</summary>
    [Properties(Min = 1, Max = 20)]
    [ValidationRule(TagRules.NoEmptyKeysOrValues, Message = TagRules.NoEmptyKeysOrValuesMessage)]
    [JsonPropertyName("securityGroupSelector")]
    public Dictionary<string, string>? SecurityGroupSelector { get; set; }

    /// <summary>AMISelectorTerms is a list of or ami selector terms. The terms are ORed.</summary>
    [Items(Max = 30)]
    [ValidationRule("self.all(x, has(x.tags) || has(x.id) || has(x.name))", Message = "expected at least one, got none, ['tags', 'id', 'name']")]
    [ValidationRule("!self.all(x, has(x.id) && (has(x.tags) || has(x.name) || has(x.owner)))", Message = "'id' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms")]
    [JsonPropertyName("amiSelectorTerms")]
    public List<AmiSelectorTerm>? AmiSelectorTerms { get; set; }

    /// <summary>AMIFamily is the AMI family that instances use.</summary>
    [Required]
    [JsonPropertyName("amiFamily")]
    public AmiFamily? AmiFamily { get; set; }

    /// <summary>
    /// UserData to be applied to the provisioned nodes. It must be in the appropriate format based on the AMIFamily in
    /// use.
    /// </summary>
    [JsonPropertyName("userData")]
    public string? UserData { get; set; }

    /// <summary>Role is the AWS identity that nodes use. This field is mutually exclusive from instanceProfile.</summary>
    [ValidationRule("self != ''", Message = "role cannot be empty")]
    [JsonPropertyName("role")]
    public string? Role { get; set; }

    /// <summary>InstanceProfile is the AWS entity that instances use. This field is mutually exclusive from role.</summary>
    [ValidationRule("self != ''", Message = "instanceProfile cannot be empty")]
    [JsonPropertyName("instanceProfile")]
    public string? InstanceProfile { get; set; }

    /// <summary>Tags to be applied on ec2 resources like instances and launch templates.</summary>
    [ValidationRule(TagRules.NoEmptyKeys, Message = TagRules.NoEmptyKeysMessage)]
    [ValidationRule(TagRules.NoEksClusterName, Message = TagRules.NoEksClusterNameMessage)]
    [ValidationRule(TagRules.NoKubernetesCluster, Message = TagRules.NoKubernetesClusterMessage)]
    [ValidationRule(TagRules.NoNodePool, Message = TagRules.NoNodePoolMessage)]
    [ValidationRule(TagRules.NoNodeClaim, Message = TagRules.NoNodeClaimMessage)]
    [ValidationRule(TagRules.NoEc2NodeClass, Message = TagRules.NoEc2NodeClassMessage)]
    [JsonPropertyName("tags")]
    public Dictionary<string, string>? Tags { get; set; }

    /// <summary>BlockDeviceMappings to be applied to provisioned nodes.</summary>
    [Items(Max = 50)]
    [ValidationRule(TagRules.OneRootVolume, Message = TagRules.OneRootVolumeMessage)]
    [JsonPropertyName("blockDeviceMappings")]
    public List<BlockDeviceMapping>? BlockDeviceMappings { get; set; }

    /// <summary>InstanceStorePolicy specifies how to handle instance-store disks.</summary>
    [JsonPropertyName("instanceStorePolicy")]
    public InstanceStorePolicy? InstanceStorePolicy { get; set; }

    /// <summary>DetailedMonitoring controls if detailed monitoring is enabled for instances that are launched</summary>
    [JsonPropertyName("detailedMonitoring")]
    public bool? DetailedMonitoring { get; set; }

    /// <summary>AssociatePublicIPAddress controls if public IP addresses are assigned to instances that are launched with the nodeclass.</summary>
    [JsonPropertyName("associatePublicIPAddress")]
    [YamlMember(Alias = "associatePublicIPAddress")]
    public bool? AssociatePublicIpAddress { get; set; }

    /// <summary>MetadataOptions for the generated launch template of provisioned nodes.</summary>
    [DefaultJson("""{"httpEndpoint": "enabled", "httpProtocolIPv6": "disabled", "httpPutResponseHopLimit": 2, "httpTokens": "required"}""")]
    [JsonPropertyName("metadataOptions")]
    public MetadataOptions? MetadataOptions { get; set; }

    /// <summary>Context is a Reserved field in EC2 APIs</summary>
    [JsonPropertyName("context")]
    public string? Context { get; set; }
}

/// <summary>AMISelectorTerm (v1beta1) selects AMIs by tags, id, name and owner.</summary>
public sealed class AmiSelectorTerm
{
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
}

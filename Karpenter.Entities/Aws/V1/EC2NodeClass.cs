using System.Text.Json.Serialization;
using k8s.Models;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Entities;
using YamlDotNet.Serialization;

namespace Karpenter.Entities.Aws.V1;

/// <summary>EC2NodeClass is the Schema for the EC2NodeClass API</summary>
[KubernetesEntity(Group = Labels.AwsGroup, ApiVersion = "v1", Kind = "EC2NodeClass", PluralName = "ec2nodeclasses")]
[EntityScope(EntityScope.Cluster)]
[Categories("karpenter")]
[ShortNames("ec2nc", "ec2ncs")]
[StorageVersion]
[PrinterColumn("Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status")]
[PrinterColumn("Age", "date", ".metadata.creationTimestamp")]
[PrinterColumn("Role", "string", ".spec.role", Priority = 1)]
public sealed class EC2NodeClass : CustomKubernetesEntity<EC2NodeClassSpec, EC2NodeClassStatus>
{
    /// <summary>The condition of the given type, or null.</summary>
    public V1Condition? GetCondition(string type) => Status.Conditions?.FirstOrDefault(c => c.Type == type);

    /// <summary>True when the root <c>Ready</c> condition is True.</summary>
    public bool IsReady() => GetCondition(ConditionTypes.Ready)?.Status == "True";
}

/// <summary>
/// EC2NodeClassSpec is the top level specification for the AWS Karpenter Provider. This will contain configuration
/// necessary to launch instances in AWS.
/// </summary>
[ValidationRule(TagRules.RoleOrInstanceProfile, Message = TagRules.RoleOrInstanceProfileMessage)]
[ValidationRule("!has(self.amiFamily) || (self.amiSelectorTerms.exists(x, has(x.alias) && x.alias.find('^[^@]+') == 'al2') ? (self.amiFamily == 'Custom' || self.amiFamily == 'AL2') : true)", Message = "if set, amiFamily must be 'AL2' or 'Custom' when using an AL2 alias")]
[ValidationRule("!has(self.amiFamily) || (self.amiSelectorTerms.exists(x, has(x.alias) && x.alias.find('^[^@]+') == 'al2023') ? (self.amiFamily == 'Custom' || self.amiFamily == 'AL2023') : true)", Message = "if set, amiFamily must be 'AL2023' or 'Custom' when using an AL2023 alias")]
[ValidationRule("!has(self.amiFamily) || (self.amiSelectorTerms.exists(x, has(x.alias) && x.alias.find('^[^@]+') == 'bottlerocket') ? (self.amiFamily == 'Custom' || self.amiFamily == 'Bottlerocket') : true)", Message = "if set, amiFamily must be 'Bottlerocket' or 'Custom' when using a Bottlerocket alias")]
[ValidationRule("!has(self.amiFamily) || (self.amiSelectorTerms.exists(x, has(x.alias) && x.alias.find('^[^@]+') == 'windows2019') ? (self.amiFamily == 'Custom' || self.amiFamily == 'Windows2019') : true)", Message = "if set, amiFamily must be 'Windows2019' or 'Custom' when using a Windows2019 alias")]
[ValidationRule("!has(self.amiFamily) || (self.amiSelectorTerms.exists(x, has(x.alias) && x.alias.find('^[^@]+') == 'windows2022') ? (self.amiFamily == 'Custom' || self.amiFamily == 'Windows2022') : true)", Message = "if set, amiFamily must be 'Windows2022' or 'Custom' when using a Windows2022 alias")]
[ValidationRule("!has(self.amiFamily) || (self.amiSelectorTerms.exists(x, has(x.alias) && x.alias.find('^[^@]+') == 'windows2025') ? (self.amiFamily == 'Custom' || self.amiFamily == 'Windows2025') : true)", Message = "if set, amiFamily must be 'Windows2025' or 'Custom' when using a Windows2025 alias")]
[ValidationRule("self.amiSelectorTerms.exists(x, has(x.alias)) ? true : has(self.amiFamily)", Message = "must specify amiFamily if amiSelectorTerms does not contain an alias")]
public sealed class EC2NodeClassSpec
{
    /// <summary>SubnetSelectorTerms is a list of subnet selector terms. The terms are ORed.</summary>
    [Required]
    [Items(Max = 30)]
    [ValidationRule("self.size() != 0", Message = "subnetSelectorTerms cannot be empty")]
    [ValidationRule("self.all(x, has(x.tags) || has(x.id))", Message = "expected at least one, got none, ['tags', 'id']")]
    [ValidationRule("!self.all(x, has(x.id) && has(x.tags))", Message = "'id' is mutually exclusive, cannot be set with a combination of other fields in a subnet selector term")]
    [JsonPropertyName("subnetSelectorTerms")]
    public List<SubnetSelectorTerm> SubnetSelectorTerms { get; set; } = [];

    /// <summary>SecurityGroupSelectorTerms is a list of security group selector terms. The terms are ORed.</summary>
    [Required]
    [Items(Max = 30)]
    [ValidationRule("self.size() != 0", Message = "securityGroupSelectorTerms cannot be empty")]
    [ValidationRule("self.all(x, has(x.tags) || has(x.id) || has(x.name))", Message = "expected at least one, got none, ['tags', 'id', 'name']")]
    [ValidationRule("!self.all(x, has(x.id) && (has(x.tags) || has(x.name)))", Message = "'id' is mutually exclusive, cannot be set with a combination of other fields in a security group selector term")]
    [ValidationRule("!self.all(x, has(x.name) && (has(x.tags) || has(x.id)))", Message = "'name' is mutually exclusive, cannot be set with a combination of other fields in a security group selector term")]
    [JsonPropertyName("securityGroupSelectorTerms")]
    public List<SecurityGroupSelectorTerm> SecurityGroupSelectorTerms { get; set; } = [];

    /// <summary>
    /// CapacityReservationSelectorTerms is a list of capacity reservation selector terms. Each term is ORed together to
    /// determine the set of eligible capacity reservations.
    /// </summary>
    [Items(Max = 30)]
    [ValidationRule("self.all(x, has(x.tags) || has(x.id) || has(x.instanceMatchCriteria))", Message = "expected at least one, got none, ['tags', 'id', 'instanceMatchCriteria']")]
    [ValidationRule("!self.all(x, has(x.id) && (has(x.tags) || has(x.ownerID) || has(x.instanceMatchCriteria)))", Message = "'id' is mutually exclusive, cannot be set along with other fields in a capacity reservation selector term")]
    [JsonPropertyName("capacityReservationSelectorTerms")]
    public List<CapacityReservationSelectorTerm>? CapacityReservationSelectorTerms { get; set; }

    /// <summary>AssociatePublicIPAddress controls if public IP addresses are assigned to instances that are launched with the nodeclass.</summary>
    [JsonPropertyName("associatePublicIPAddress")]
    [YamlMember(Alias = "associatePublicIPAddress")]
    public bool? AssociatePublicIpAddress { get; set; }

    /// <summary>IPPrefixCount sets the number of IPv4 prefixes to be automatically assigned to the network interface.</summary>
    [Minimum(0)]
    [JsonPropertyName("ipPrefixCount")]
    public int? IpPrefixCount { get; set; }

    /// <summary>AMISelectorTerms is a list of or ami selector terms. The terms are ORed.</summary>
    [Required]
    [Items(Min = 1, Max = 30)]
    [ValidationRule("self.all(x, has(x.tags) || has(x.id) || has(x.name) || has(x.alias) || has(x.ssmParameter))", Message = "expected at least one, got none, ['tags', 'id', 'name', 'alias', 'ssmParameter']")]
    [ValidationRule("!self.exists(x, has(x.id) && (has(x.alias) || has(x.tags) || has(x.name) || has(x.owner)))", Message = "'id' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms")]
    [ValidationRule("!self.exists(x, has(x.alias) && (has(x.id) || has(x.tags) || has(x.name) || has(x.owner)))", Message = "'alias' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms")]
    [ValidationRule("!(self.exists(x, has(x.alias)) && self.size() != 1)", Message = "'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms")]
    [JsonPropertyName("amiSelectorTerms")]
    public List<AmiSelectorTerm> AmiSelectorTerms { get; set; } = [];

    /// <summary>
    /// AMIFamily dictates the UserData format and default BlockDeviceMappings used when generating launch templates.
    /// This field is optional when using an alias amiSelectorTerm, and the value will be inferred from the alias'
    /// family. When an alias is specified, this field may only be set to its corresponding family or 'Custom'. If no
    /// alias is specified, this field is required.
    /// </summary>
    [JsonPropertyName("amiFamily")]
    public AmiFamily? AmiFamily { get; set; }

    /// <summary>
    /// UserData to be applied to the provisioned nodes. It must be in the appropriate format based on the AMIFamily in
    /// use. Karpenter will merge certain fields into this UserData to ensure nodes are being provisioned with the
    /// correct configuration.
    /// </summary>
    [JsonPropertyName("userData")]
    public string? UserData { get; set; }

    /// <summary>Role is the AWS identity that nodes use. This field is mutually exclusive from instanceProfile.</summary>
    [ValidationRule("self != ''", Message = "role cannot be empty")]
    [JsonPropertyName("role")]
    public string? Role { get; set; }

    /// <summary>
    /// InstanceProfile is the AWS entity that instances use. This field is mutually exclusive from role. The instance
    /// profile should already have a role assigned to it that Karpenter has PassRole permission on for instance launch
    /// using this instanceProfile to succeed.
    /// </summary>
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

    /// <summary>
    /// Kubelet defines args to be used when configuring kubelet on provisioned nodes. They are a subset of the upstream
    /// types, recognizing not all options may be supported. Wherever possible, the types and names should reflect the
    /// upstream kubelet types.
    /// </summary>
    [JsonPropertyName("kubelet")]
    public KubeletConfiguration? Kubelet { get; set; }

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

    /// <summary>
    /// MetadataOptions for the generated launch template of provisioned nodes. This specifies the exposure of the
    /// Instance Metadata Service to provisioned EC2 nodes. If omitted, defaults to httpEndpoint enabled, with
    /// httpProtocolIPv6 disabled, with httpPutResponseLimit of 1, and with httpTokens required.
    /// </summary>
    [DefaultJson("""{"httpEndpoint": "enabled", "httpProtocolIPv6": "disabled", "httpPutResponseHopLimit": 1, "httpTokens": "required"}""")]
    [JsonPropertyName("metadataOptions")]
    public MetadataOptions? MetadataOptions { get; set; }

    /// <summary>Context is a Reserved field in EC2 APIs https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateFleet.html</summary>
    [JsonPropertyName("context")]
    public string? Context { get; set; }

    /// <summary>NetworkInterfaces specifies the network interface configurations to be attached to provisioned instances.</summary>
    [Items(Max = 150)]
    [ValidationRule("self.size() == 0 || self.exists(x, x.deviceIndex == 0 && x.networkCardIndex == 0 && x.interfaceType == 'interface')", Message = "networkInterfaces must include a primary interface with interfaceType='interface'")]
    [ValidationRule("self.all(x, self.filter(y, x.networkCardIndex == y.networkCardIndex && x.deviceIndex == y.deviceIndex).size() == 1 && (x.interfaceType != 'efa-only' || self.filter(y, x.networkCardIndex == y.networkCardIndex && y.interfaceType == 'efa-only').size() == 1))", Message = "networkInterfaces must not have duplicate networkCardIndex and deviceIndex pairs, and can have at most one efa device per network card")]
    [JsonPropertyName("networkInterfaces")]
    public List<NetworkInterface>? NetworkInterfaces { get; set; }

    /// <summary>PlacementGroupSelector defines the name or the id of the placement to resolve with the nodeclass.</summary>
    [JsonPropertyName("placementGroupSelector")]
    public PlacementGroupSelector? PlacementGroupSelector { get; set; }

    /// <summary>ConnectionTracking configures idle connection tracking timeouts for the network interfaces of provisioned instances.</summary>
    [JsonPropertyName("connectionTracking")]
    public ConnectionTracking? ConnectionTracking { get; set; }

    /// <summary>CPUOptions defines the CPU options for the instance.</summary>
    [JsonPropertyName("cpuOptions")]
    public CpuOptions? CpuOptions { get; set; }

    /// <summary>
    /// The AMI family in effect: <see cref="AmiFamily"/> when set, otherwise the family of the alias term (AL2 for
    /// <c>al2@…</c>, Bottlerocket for <c>bottlerocket@…</c>, …), otherwise null.
    /// </summary>
    public AmiFamily? ResolvedAmiFamily()
    {
        if (AmiFamily is { } family)
        {
            return family;
        }

        return AmiSelectorTerms.Select(t => t.AliasFamily).FirstOrDefault(f => f is not null) switch
        {
            "al2" => V1.AmiFamily.AL2,
            "al2023" => V1.AmiFamily.AL2023,
            "bottlerocket" => V1.AmiFamily.Bottlerocket,
            "windows2019" => V1.AmiFamily.Windows2019,
            "windows2022" => V1.AmiFamily.Windows2022,
            "windows2025" => V1.AmiFamily.Windows2025,
            _ => null,
        };
    }
}

/// <summary>EC2NodeClassStatus contains the resolved state of the EC2NodeClass</summary>
public sealed class EC2NodeClassStatus
{
    /// <summary>Subnets contains the current subnet values that are available to the cluster under the subnet selectors.</summary>
    [JsonPropertyName("subnets")]
    public List<SubnetStatus>? Subnets { get; set; }

    /// <summary>SecurityGroups contains the current security group values that are available to the cluster under the SecurityGroups selectors.</summary>
    [JsonPropertyName("securityGroups")]
    public List<SecurityGroupStatus>? SecurityGroups { get; set; }

    /// <summary>CapacityReservations contains the current capacity reservation values that are available to this NodeClass under the CapacityReservation selectors.</summary>
    [JsonPropertyName("capacityReservations")]
    public List<CapacityReservationStatus>? CapacityReservations { get; set; }

    /// <summary>AMI contains the current AMI values that are available to the cluster under the AMI selectors.</summary>
    [JsonPropertyName("amis")]
    public List<AmiStatus>? Amis { get; set; }

    /// <summary>InstanceProfile contains the resolved instance profile for the role</summary>
    [JsonPropertyName("instanceProfile")]
    public string? InstanceProfile { get; set; }

    /// <summary>Conditions contains signals for health and readiness</summary>
    [JsonPropertyName("conditions")]
    public List<V1Condition>? Conditions { get; set; }
}

/// <summary>Subnet contains resolved Subnet selector values utilized for node launch</summary>
public sealed class SubnetStatus
{
    /// <summary>ID of the subnet</summary>
    [Required]
    [JsonPropertyName("id")]
    public string Id { get; set; } = string.Empty;

    /// <summary>The associated availability zone</summary>
    [Required]
    [JsonPropertyName("zone")]
    public string Zone { get; set; } = string.Empty;

    /// <summary>The associated availability zone ID</summary>
    [JsonPropertyName("zoneID")]
    [YamlMember(Alias = "zoneID")]
    public string? ZoneId { get; set; }
}

/// <summary>SecurityGroup contains resolved SecurityGroup selector values utilized for node launch</summary>
public sealed class SecurityGroupStatus
{
    /// <summary>ID of the security group</summary>
    [Required]
    [JsonPropertyName("id")]
    public string Id { get; set; } = string.Empty;

    /// <summary>Name of the security group</summary>
    [JsonPropertyName("name")]
    public string? Name { get; set; }
}

/// <summary>A capacity reservation resolved from the selector terms.</summary>
public sealed class CapacityReservationStatus
{
    /// <summary>The availability zone the capacity reservation is available in.</summary>
    [Required]
    [JsonPropertyName("availabilityZone")]
    public string AvailabilityZone { get; set; } = string.Empty;

    /// <summary>The time at which the capacity reservation expires. Once expired, the reserved capacity is released and Karpenter will no longer be able to launch instances into that reservation.</summary>
    [JsonPropertyName("endTime")]
    public DateTime? EndTime { get; set; }

    /// <summary>The id for the capacity reservation.</summary>
    [Required]
    [Pattern("^cr-[0-9a-z]+$")]
    [JsonPropertyName("id")]
    public string Id { get; set; } = string.Empty;

    /// <summary>Indicates the type of instance launches the capacity reservation accepts.</summary>
    [Required]
    [JsonPropertyName("instanceMatchCriteria")]
    public InstanceMatchCriteria InstanceMatchCriteria { get; set; }

    /// <summary>The instance type for the capacity reservation.</summary>
    [Required]
    [JsonPropertyName("instanceType")]
    public string InstanceType { get; set; } = string.Empty;

    /// <summary>Indicates whether this capacity reservation is interruptible</summary>
    [JsonPropertyName("interruptible")]
    public bool? Interruptible { get; set; }

    /// <summary>The ID of the AWS account that owns the capacity reservation.</summary>
    [Required]
    [Pattern("^[0-9]{12}$")]
    [JsonPropertyName("ownerID")]
    [YamlMember(Alias = "ownerID")]
    public string OwnerId { get; set; } = string.Empty;

    /// <summary>The type of capacity reservation.</summary>
    [Default(CapacityReservationType.Default)]
    [JsonPropertyName("reservationType")]
    public CapacityReservationType? ReservationType { get; set; }

    /// <summary>
    /// The state of the capacity reservation. A capacity reservation is considered to be expiring if it is within the
    /// EC2 reclamation window. Only capacity blocks are in this state.
    /// </summary>
    [Default(CapacityReservationState.Active)]
    [JsonPropertyName("state")]
    public CapacityReservationState? State { get; set; }
}

/// <summary>AMI contains resolved AMI selector values utilized for node launch</summary>
public sealed class AmiStatus
{
    /// <summary>ID of the AMI</summary>
    [Required]
    [JsonPropertyName("id")]
    public string Id { get; set; } = string.Empty;

    /// <summary>Deprecation status of the AMI</summary>
    [JsonPropertyName("deprecated")]
    public bool? Deprecated { get; set; }

    /// <summary>Name of the AMI</summary>
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    /// <summary>Requirements of the AMI to be utilized on an instance type</summary>
    [Required]
    [JsonPropertyName("requirements")]
    public List<AmiRequirement> Requirements { get; set; } = [];
}

/// <summary>A node selector requirement is a selector that contains values, a key, and an operator that relates the key and values.</summary>
public sealed class AmiRequirement
{
    /// <summary>The label key that the selector applies to.</summary>
    [Required]
    [JsonPropertyName("key")]
    public string Key { get; set; } = string.Empty;

    /// <summary>Represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists, DoesNotExist. Gt, and Lt.</summary>
    [Required]
    [JsonPropertyName("operator")]
    public string Operator { get; set; } = string.Empty;

    /// <summary>
    /// An array of string values. If the operator is In or NotIn, the values array must be non-empty. If the operator is
    /// Exists or DoesNotExist, the values array must be empty. If the operator is Gt or Lt, the values array must have a
    /// single element, which will be interpreted as an integer. This array is replaced during a strategic merge patch.
    /// </summary>
    [ListType(ListType.Atomic)]
    [JsonPropertyName("values")]
    public List<string>? Values { get; set; }

    public V1NodeSelectorRequirement ToV1() => new() { Key = Key, OperatorProperty = Operator, Values = Values?.ToList() };
}

using System.Runtime.Serialization;
using System.Text.Json.Serialization;
using k8s.Models;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Entities;

namespace Karpenter.Entities.V1Beta1;

/// <summary>
/// NodePool is the Schema for the NodePools API. This is the pre-v1 API, still served so that existing manifests keep
/// working; objects are stored as <c>karpenter.sh/v1</c> and converted on the way in and out.
/// </summary>
[KubernetesEntity(Group = Labels.KarpenterGroup, ApiVersion = "v1beta1", Kind = "NodePool", PluralName = "nodepools")]
[EntityScope(EntityScope.Cluster)]
[PrinterColumn("NodeClass", "string", ".spec.template.spec.nodeClassRef.name")]
[PrinterColumn("Weight", "string", ".spec.weight", Priority = 1)]
[RequiredFields("spec")]
public sealed class NodePool : CustomKubernetesEntity<NodePoolSpec, NodePoolStatus>;

/// <summary>
/// NodePoolSpec is the top level nodepool specification. Nodepools launch nodes in response to pods that are
/// unschedulable. A single nodepool is capable of managing a diverse set of nodes. Node properties are determined from
/// a combination of nodepool and pod scheduling constraints.
/// </summary>
public sealed class NodePoolSpec
{
    /// <summary>
    /// Template contains the template of possibilities for the provisioning logic to launch a NodeClaim with. NodeClaims
    /// launched from this NodePool will often be further constrained than the template specifies.
    /// </summary>
    [Required]
    [JsonPropertyName("template")]
    public NodeClaimTemplate Template { get; set; } = new();

    /// <summary>Disruption contains the parameters that relate to Karpenter's disruption logic</summary>
    [DefaultJson("""{"consolidationPolicy": "WhenUnderutilized", "expireAfter": "720h"}""")]
    [JsonPropertyName("disruption")]
    public Disruption? Disruption { get; set; }

    /// <summary>Limits define a set of bounds for provisioning capacity.</summary>
    [JsonPropertyName("limits")]
    public Dictionary<string, ResourceQuantity>? Limits { get; set; }

    /// <summary>
    /// Weight is the priority given to the nodepool during scheduling. A higher numerical weight indicates that this
    /// nodepool will be ordered ahead of other nodepools with lower weights. A nodepool with no weight will be treated
    /// as if it is a nodepool with a weight of 0.
    /// </summary>
    [Minimum(1)]
    [Maximum(100)]
    [JsonPropertyName("weight")]
    public int? Weight { get; set; }
}

/// <summary>The template of the NodeClaims a NodePool launches.</summary>
public sealed class NodeClaimTemplate
{
    [JsonPropertyName("metadata")]
    public NodeClaimTemplateMetadata? Metadata { get; set; }

    [Required]
    [JsonPropertyName("spec")]
    public NodeClaimTemplateSpec Spec { get; set; } = new();
}

/// <summary>NodeClaimSpec describes the desired state of the NodeClaim</summary>
public sealed class NodeClaimTemplateSpec
{
    /// <summary>Taints will be applied to the NodeClaim's node.</summary>
    [JsonPropertyName("taints")]
    public List<Taint>? Taints { get; set; }

    /// <summary>
    /// StartupTaints are taints that are applied to nodes upon startup which are expected to be removed automatically
    /// within a short period of time, typically by a DaemonSet that tolerates the taint.
    /// </summary>
    [JsonPropertyName("startupTaints")]
    public List<Taint>? StartupTaints { get; set; }

    /// <summary>Requirements are layered with GetLabels and applied to every node.</summary>
    [Required]
    [Items(Max = 100)]
    [ValidationRule(CelRules.InNeedsValues, Message = CelRules.InNeedsValuesMessage)]
    [ValidationRule(CelRules.ComparisonNeedsOneInteger, Message = CelRules.ComparisonNeedsOneIntegerMessage)]
    [ValidationRule(CelRules.MinValuesWithinValues, Message = CelRules.MinValuesWithinValuesMessage)]
    [JsonPropertyName("requirements")]
    public List<NodePoolRequirement> Requirements { get; set; } = [];

    /// <summary>Resources models the resource requirements for the NodeClaim to launch. Users cannot set it on a NodePool.</summary>
    [Properties(Max = 0)]
    [JsonPropertyName("resources")]
    public NodeClaimResources? Resources { get; set; }

    /// <summary>
    /// Kubelet defines args to be used when configuring kubelet on provisioned nodes. In v1 these settings belong to
    /// the EC2NodeClass; a v1beta1 NodePool keeps them only so that they read back as written.
    /// </summary>
    [JsonPropertyName("kubelet")]
    public KubeletConfiguration? Kubelet { get; set; }

    /// <summary>NodeClassRef is a reference to an object that defines provider specific configuration</summary>
    [Required]
    [JsonPropertyName("nodeClassRef")]
    public NodeClassReference NodeClassRef { get; set; } = new();

    /// <summary>
    /// TerminationGracePeriod is the maximum duration the controller will wait before forcefully deleting the pods on a
    /// node, measured from when deletion is first initiated.
    /// </summary>
    [Pattern(SchemaPatterns.Duration)]
    [JsonPropertyName("terminationGracePeriod")]
    public string? TerminationGracePeriod { get; set; }
}

/// <summary>
/// NodeClassReference in its v1beta1 form: only the name is required; the API version and kind default to the
/// provider's EC2NodeClass.
/// </summary>
public sealed class NodeClassReference
{
    /// <summary>Kind of the referent; More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"</summary>
    [JsonPropertyName("kind")]
    public string? Kind { get; set; }

    /// <summary>Name of the referent; More info: http://kubernetes.io/docs/user-guide/identifiers#names</summary>
    [Required]
    [JsonPropertyName("name")]
    public string Name { get; set; } = string.Empty;

    /// <summary>API version of the referent</summary>
    [JsonPropertyName("apiVersion")]
    public string? ApiVersion { get; set; }
}

/// <summary>Disruption contains the parameters that relate to Karpenter's disruption logic</summary>
[ValidationRule("has(self.consolidateAfter) ? self.consolidationPolicy != 'WhenUnderutilized' || self.consolidateAfter == 'Never' : true", Message = "consolidateAfter cannot be combined with consolidationPolicy=WhenUnderutilized")]
[ValidationRule("self.consolidationPolicy == 'WhenEmpty' ? has(self.consolidateAfter) : true", Message = "consolidateAfter must be specified with consolidationPolicy=WhenEmpty")]
public sealed class Disruption
{
    /// <summary>
    /// ConsolidateAfter is the duration the controller will wait before attempting to terminate nodes that are
    /// underutilized. Refer to ConsolidationPolicy for how underutilization is considered.
    /// </summary>
    [Pattern(SchemaPatterns.V1Beta1NillableDuration)]
    [JsonPropertyName("consolidateAfter")]
    public string? ConsolidateAfter { get; set; }

    /// <summary>
    /// ConsolidationPolicy describes which nodes Karpenter can disrupt through its consolidation algorithm. This policy
    /// defaults to "WhenUnderutilized" if not specified
    /// </summary>
    [Default(V1Beta1.ConsolidationPolicy.WhenUnderutilized)]
    [JsonPropertyName("consolidationPolicy")]
    public ConsolidationPolicy? ConsolidationPolicy { get; set; }

    /// <summary>
    /// ExpireAfter is the duration the controller will wait before terminating a node, measured from when the node is
    /// created. This is useful to implement features like eventually consistent node upgrade, memory leak protection,
    /// and disruption testing.
    /// </summary>
    [Default("720h")]
    [Pattern(SchemaPatterns.V1Beta1NillableDuration)]
    [JsonPropertyName("expireAfter")]
    public string? ExpireAfter { get; set; }

    /// <summary>
    /// Budgets is a list of Budgets. If there are multiple active budgets, Karpenter uses the most restrictive value. If
    /// left undefined, this will default to one budget with a value to 10%.
    /// </summary>
    [DefaultJson("""[{"nodes": "10%"}]""")]
    [Items(Max = 50)]
    [ValidationRule(CelRules.ScheduleWithDuration, Message = CelRules.ScheduleWithDurationMessage)]
    [JsonPropertyName("budgets")]
    public List<Budget>? Budgets { get; set; }
}

/// <summary>ConsolidationPolicy describes which nodes Karpenter can disrupt through its consolidation algorithm (v1beta1 values).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ConsolidationPolicy>))]
public enum ConsolidationPolicy
{
    [EnumMember(Value = "WhenEmpty")]
    WhenEmpty,

    [EnumMember(Value = "WhenUnderutilized")]
    WhenUnderutilized,
}

using System.Text.Json.Serialization;
using k8s.Models;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Entities;
using YamlDotNet.Serialization;

namespace Karpenter.Entities.V1;

/// <summary>NodeClaim is the Schema for the NodeClaims API</summary>
[KubernetesEntity(Group = Labels.KarpenterGroup, ApiVersion = "v1", Kind = "NodeClaim", PluralName = "nodeclaims")]
[EntityScope(EntityScope.Cluster)]
[Categories("karpenter")]
[StorageVersion]
[PrinterColumn("Type", "string", ".metadata.labels.node\\.kubernetes\\.io/instance-type")]
[PrinterColumn("Capacity", "string", ".metadata.labels.karpenter\\.sh/capacity-type")]
[PrinterColumn("Zone", "string", ".metadata.labels.topology\\.kubernetes\\.io/zone")]
[PrinterColumn("Node", "string", ".status.nodeName")]
[PrinterColumn("Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status")]
[PrinterColumn("Age", "date", ".metadata.creationTimestamp")]
[PrinterColumn("ImageID", "string", ".status.imageID", Priority = 1)]
[PrinterColumn("ID", "string", ".status.providerID", Priority = 1)]
[PrinterColumn("NodePool", "string", ".metadata.labels.karpenter\\.sh/nodepool", Priority = 1)]
[PrinterColumn("NodeClass", "string", ".spec.nodeClassRef.name", Priority = 1)]
[PrinterColumn("Drifted", "string", ".status.conditions[?(@.type==\"Drifted\")].status", Priority = 1)]
[RequiredFields("spec")]
public sealed class NodeClaim : CustomKubernetesEntity<NodeClaimSpec, NodeClaimStatus>
{
    /// <summary>The condition of the given type, or null.</summary>
    public V1Condition? GetCondition(string type) => Status.Conditions?.FirstOrDefault(c => c.Type == type);

    /// <summary>True when the condition of the given type is True.</summary>
    public bool IsConditionTrue(string type) => GetCondition(type)?.Status == "True";

    /// <summary>True when the root <c>Ready</c> condition (Launched, Registered and Initialized) is True.</summary>
    public bool IsReady() => IsConditionTrue(ConditionTypes.Ready);

    /// <summary>The NodePool that owns this NodeClaim (its <c>karpenter.sh/nodepool</c> label), or null.</summary>
    [JsonIgnore]
    [YamlIgnore]
    public string? NodePoolName => Metadata.Labels?.TryGetValue(Labels.NodePool, out var name) == true ? name : null;
}

/// <summary>NodeClaimSpec describes the desired state of the NodeClaim</summary>
[ValidationRule("self == oldSelf", Message = "spec is immutable")]
public sealed class NodeClaimSpec
{
    /// <summary>Taints will be applied to the NodeClaim's node.</summary>
    [ListType(ListType.Atomic)]
    [JsonPropertyName("taints")]
    public List<Taint>? Taints { get; set; }

    /// <summary>
    /// StartupTaints are taints that are applied to nodes upon startup which are expected to be removed automatically
    /// within a short period of time, typically by a DaemonSet that tolerates the taint. These are commonly used by
    /// daemonsets to allow initialization and enforce startup ordering. StartupTaints are ignored for provisioning
    /// purposes in that pods are not required to tolerate a StartupTaint in order to have nodes provisioned for them.
    /// </summary>
    [ListType(ListType.Atomic)]
    [JsonPropertyName("startupTaints")]
    public List<Taint>? StartupTaints { get; set; }

    /// <summary>Requirements are layered with GetLabels and applied to every node.</summary>
    [Required]
    [Items(Max = 100)]
    [ListType(ListType.Atomic)]
    [ValidationRule(CelRules.InNeedsValues, Message = CelRules.InNeedsValuesMessage)]
    [ValidationRule(CelRules.ComparisonNeedsOneInteger, Message = CelRules.ComparisonNeedsOneIntegerMessage)]
    [ValidationRule(CelRules.MinValuesWithinValues, Message = CelRules.MinValuesWithinValuesMessage)]
    [JsonPropertyName("requirements")]
    public List<NodeClaimRequirement> Requirements { get; set; } = [];

    /// <summary>Resources models the resource requirements for the NodeClaim to launch</summary>
    [JsonPropertyName("resources")]
    public NodeClaimResources? Resources { get; set; }

    /// <summary>NodeClassRef is a reference to an object that defines provider specific configuration</summary>
    [Required]
    [JsonPropertyName("nodeClassRef")]
    public NodeClassReference NodeClassRef { get; set; } = new();

    /// <summary>
    /// TerminationGracePeriod is the maximum duration the controller will wait before forcefully deleting the pods on a
    /// node, measured from when deletion is first initiated. If left undefined, the controller will wait indefinitely
    /// for pods to be drained.
    /// </summary>
    [Pattern(SchemaPatterns.Duration)]
    [JsonPropertyName("terminationGracePeriod")]
    public string? TerminationGracePeriod { get; set; }

    /// <summary>
    /// ExpireAfter is the duration the controller will wait before terminating a node, measured from when the node is
    /// created. This is useful to implement features like eventually consistent node upgrade, memory leak protection,
    /// and disruption testing.
    /// </summary>
    [Default("720h")]
    [Pattern(SchemaPatterns.NillableDuration)]
    [JsonPropertyName("expireAfter")]
    public string? ExpireAfter { get; set; }
}

/// <summary>ResourceRequirements models the required resources for the NodeClaim to launch</summary>
public sealed class NodeClaimResources
{
    /// <summary>Requests describes the minimum required resources for the NodeClaim to launch</summary>
    [JsonPropertyName("requests")]
    public Dictionary<string, ResourceQuantity>? Requests { get; set; }
}

/// <summary>NodeClaimStatus defines the observed state of NodeClaim</summary>
public sealed class NodeClaimStatus
{
    /// <summary>NodeName is the name of the corresponding node object</summary>
    [JsonPropertyName("nodeName")]
    public string? NodeName { get; set; }

    /// <summary>ProviderID of the corresponding node object</summary>
    [JsonPropertyName("providerID")]
    [YamlMember(Alias = "providerID")]
    public string? ProviderId { get; set; }

    /// <summary>ImageID is an identifier for the image that runs on the node</summary>
    [JsonPropertyName("imageID")]
    [YamlMember(Alias = "imageID")]
    public string? ImageId { get; set; }

    /// <summary>Capacity is the estimated full capacity of the node</summary>
    [JsonPropertyName("capacity")]
    public Dictionary<string, ResourceQuantity>? Capacity { get; set; }

    /// <summary>Allocatable is the estimated allocatable capacity of the node</summary>
    [JsonPropertyName("allocatable")]
    public Dictionary<string, ResourceQuantity>? Allocatable { get; set; }

    /// <summary>Conditions contains signals for health and readiness</summary>
    [ListType(ListType.Map, "type")]
    [ConditionsSchema(ReasonAndMessageOptional = true)]
    [JsonPropertyName("conditions")]
    public List<V1Condition>? Conditions { get; set; }

    /// <summary>
    /// LastPodEventTime is updated with the last time a pod was scheduled or removed from the node. A pod going
    /// terminal or terminating is also considered as removed.
    /// </summary>
    [JsonPropertyName("lastPodEventTime")]
    public DateTime? LastPodEventTime { get; set; }
}

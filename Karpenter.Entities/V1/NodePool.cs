using System.Runtime.Serialization;
using System.Text.Json.Serialization;
using k8s.Models;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Entities;
using YamlDotNet.Serialization;

namespace Karpenter.Entities.V1;

/// <summary>NodePool is the Schema for the NodePools API</summary>
[KubernetesEntity(Group = Labels.KarpenterGroup, ApiVersion = "v1", Kind = "NodePool", PluralName = "nodepools")]
[EntityScope(EntityScope.Cluster)]
[Categories("karpenter")]
[StorageVersion]
[PrinterColumn("NodeClass", "string", ".spec.template.spec.nodeClassRef.name")]
[PrinterColumn("Nodes", "string", ".status.nodes")]
[PrinterColumn("Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status")]
[PrinterColumn("Age", "date", ".metadata.creationTimestamp")]
[PrinterColumn("Weight", "integer", ".spec.weight", Priority = 1)]
[PrinterColumn("CPU", "string", ".status.resources.cpu", Priority = 1)]
[PrinterColumn("Memory", "string", ".status.resources.memory", Priority = 1)]
[ScaleSubresource(".spec.replicas", ".status.nodes")]
[RequiredFields("spec")]
public sealed class NodePool : CustomKubernetesEntity<NodePoolSpec, NodePoolStatus>
{
    /// <summary>The condition of the given type, or null.</summary>
    public V1Condition? GetCondition(string type) => Status.Conditions?.FirstOrDefault(c => c.Type == type);

    /// <summary>True when the root <c>Ready</c> condition is True.</summary>
    public bool IsReady() => GetCondition(ConditionTypes.Ready)?.Status == "True";

    /// <summary>True for a static NodePool (<c>spec.replicas</c> set), which keeps a fixed number of nodes.</summary>
    [JsonIgnore]
    [YamlIgnore]
    public bool IsStatic => Spec.Replicas is not null;

    /// <summary>
    /// The fewest disruptions any active budget allows for <paramref name="reason"/>, with
    /// <paramref name="nodeCount"/> nodes in the NodePool. A misconfigured budget (an invalid schedule or count) allows
    /// none: it fails closed, as upstream does.
    /// </summary>
    public int GetAllowedDisruptions(DateTimeOffset now, int nodeCount, DisruptionReason reason)
    {
        var allowed = int.MaxValue;
        foreach (var budget in Spec.Disruption.Budgets ?? [])
        {
            var value = budget.GetAllowedDisruptions(now, nodeCount);
            if (budget.Reasons is null || budget.Reasons.Contains(reason))
            {
                allowed = Math.Min(allowed, value ?? 0);
            }
            else if (value is null)
            {
                // An invalid budget fails closed for every reason.
                allowed = 0;
            }
        }

        return allowed;
    }
}

/// <summary>
/// NodePoolSpec is the top level nodepool specification. Nodepools launch nodes in response to pods that are
/// unschedulable. A single nodepool is capable of managing a diverse set of nodes. Node properties are determined from
/// a combination of nodepool and pod scheduling constraints.
/// </summary>
[ValidationRule("has(self.replicas) == has(oldSelf.replicas)", Message = "Cannot transition NodePool between static (replicas set) and dynamic (replicas unset) provisioning modes")]
[ValidationRule("!has(self.replicas) || (!has(self.limits) || size(self.limits) == 0 || (size(self.limits) == 1 && 'nodes' in self.limits))", Message = "only 'limits.nodes' is supported on static NodePools")]
[ValidationRule("!has(self.replicas) || !has(self.weight)", Message = "'weight' is not supported on static NodePools")]
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
    [DefaultJson("""{"consolidateAfter": "0s"}""")]
    [JsonPropertyName("disruption")]
    public Disruption Disruption { get; set; } = new();

    /// <summary>
    /// Limits define a set of bounds for provisioning capacity. Limits other than limits.nodes is not supported when
    /// replicas is set.
    /// </summary>
    [JsonPropertyName("limits")]
    public Dictionary<string, ResourceQuantity>? Limits { get; set; }

    /// <summary>
    /// Weight is the priority given to the nodepool during scheduling. A higher numerical weight indicates that this
    /// nodepool will be ordered ahead of other nodepools with lower weights. A nodepool with no weight will be treated
    /// as if it is a nodepool with a weight of 0. Weight is not supported when replicas is set.
    /// </summary>
    [Minimum(1)]
    [Maximum(100)]
    [JsonPropertyName("weight")]
    public int? Weight { get; set; }

    /// <summary>
    /// Replicas is the desired number of nodes for the NodePool. When specified, the NodePool will maintain this fixed
    /// number of replicas rather than scaling based on pod demand. Note: This field is alpha.
    /// </summary>
    [Minimum(0)]
    [JsonPropertyName("replicas")]
    public long? Replicas { get; set; }
}

/// <summary>The metadata NodeClaims (and their Nodes) launched from a NodePool get.</summary>
public sealed class NodeClaimTemplateMetadata
{
    /// <summary>
    /// labels is a map of string keys and values that can be used to organize and categorize (scope and select)
    /// objects. May match selectors of replication controllers and services. More info:
    /// https://kubernetes.io/docs/concepts/overview/working-with-objects/labels
    /// </summary>
    [Length(Max = 63, Target = SchemaTarget.Items)]
    [Pattern(SchemaPatterns.LabelValue, Target = SchemaTarget.Items)]
    [MapType(MapType.Atomic)]
    [ValidationRule(CelRules.LabelsKarpenterDomain, Message = CelRules.KarpenterDomainMessage)]
    [ValidationRule(CelRules.LabelsNodePool, Message = CelRules.NodePoolMessage)]
    [ValidationRule(CelRules.LabelsHostname, Message = CelRules.HostnameMessage)]
    [ValidationRule(CelRules.LabelsAwsDomain, Message = CelRules.AwsDomainMessage)]
    [JsonPropertyName("labels")]
    public Dictionary<string, string>? Labels { get; set; }

    /// <summary>
    /// annotations is an unstructured key value map stored with a resource that may be set by external tools to store
    /// and retrieve arbitrary metadata. They are not queryable and should be preserved when modifying objects. More
    /// info: https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations
    /// </summary>
    [MapType(MapType.Granular)]
    [JsonPropertyName("annotations")]
    public Dictionary<string, string>? Annotations { get; set; }
}

/// <summary>The template of the NodeClaims a NodePool launches.</summary>
public sealed class NodeClaimTemplate
{
    [JsonPropertyName("metadata")]
    public NodeClaimTemplateMetadata? Metadata { get; set; }

    [Required]
    [JsonPropertyName("spec")]
    public NodeClaimTemplateSpec Spec { get; set; } = new();

    /// <summary>A NodeClaim spec with this template's taints, requirements, node class and durations (no resources).</summary>
    public NodeClaimSpec ToNodeClaimSpec() => new()
    {
        Taints = Spec.Taints?.Select(Clone).ToList(),
        StartupTaints = Spec.StartupTaints?.Select(Clone).ToList(),
        Requirements = Spec.Requirements.Select(r => r.ToNodeClaimRequirement()).ToList(),
        NodeClassRef = Spec.NodeClassRef.Clone(),
        TerminationGracePeriod = Spec.TerminationGracePeriod,
        ExpireAfter = Spec.ExpireAfter,
    };

    private static Taint Clone(Taint t) => new() { Key = t.Key, Value = t.Value, Effect = t.Effect, TimeAdded = t.TimeAdded };
}

/// <summary>
/// NodeClaimTemplateSpec describes the desired state of the NodeClaim in the Nodepool. NodeClaimTemplateSpec is used in
/// the NodePool's NodeClaimTemplate, with the resource requests omitted since users are not able to set resource
/// requests in the NodePool.
/// </summary>
public sealed class NodeClaimTemplateSpec
{
    /// <summary>taints will be applied to the NodeClaim's node.</summary>
    [ListType(ListType.Atomic)]
    [JsonPropertyName("taints")]
    public List<Taint>? Taints { get; set; }

    /// <summary>
    /// startupTaints are taints that are applied to nodes upon startup which are expected to be removed automatically
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
    public List<NodePoolRequirement> Requirements { get; set; } = [];

    /// <summary>NodeClassRef is a reference to an object that defines provider specific configuration</summary>
    [Required]
    [ValidationRule("self.group == oldSelf.group", Message = "nodeClassRef.group is immutable")]
    [ValidationRule("self.kind == oldSelf.kind", Message = "nodeClassRef.kind is immutable")]
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

/// <summary>Disruption contains the parameters that relate to Karpenter's disruption logic</summary>
public sealed class Disruption
{
    /// <summary>
    /// ConsolidateAfter is the duration the controller will wait before attempting to terminate nodes that are
    /// underutilized. Refer to ConsolidationPolicy for how underutilization is considered.
    /// </summary>
    [Required]
    [Pattern(SchemaPatterns.NillableDuration)]
    [JsonPropertyName("consolidateAfter")]
    public string ConsolidateAfter { get; set; } = "0s";

    /// <summary>
    /// ConsolidationPolicy describes which nodes Karpenter can disrupt through its consolidation algorithm. This policy
    /// defaults to "WhenEmptyOrUnderutilized" if not specified.
    /// </summary>
    [Default(V1.ConsolidationPolicy.WhenEmptyOrUnderutilized)]
    [JsonPropertyName("consolidationPolicy")]
    public ConsolidationPolicy? ConsolidationPolicy { get; set; }

    /// <summary>
    /// Budgets is a list of Budgets. If there are multiple active budgets, Karpenter uses the most restrictive value. If
    /// left undefined, this will default to one budget with a value to 10%.
    /// </summary>
    [DefaultJson("""[{"nodes": "10%"}]""")]
    [Items(Max = 50)]
    [ListType(ListType.Atomic)]
    [ValidationRule(CelRules.ScheduleWithDuration, Message = CelRules.ScheduleWithDurationMessage)]
    [JsonPropertyName("budgets")]
    public List<Budget>? Budgets { get; set; }
}

/// <summary>Budget defines when Karpenter will restrict the number of Node Claims that can be terminating simultaneously.</summary>
public sealed class Budget
{
    /// <summary>
    /// reasons is a list of disruption methods that this budget applies to. If Reasons is not set, this budget applies
    /// to all methods. Otherwise, this will apply to each reason defined. allowed reasons are Underutilized, Empty, and
    /// Drifted.
    /// </summary>
    [Items(Max = 50)]
    [ListType(ListType.Set)]
    [JsonPropertyName("reasons")]
    public List<DisruptionReason>? Reasons { get; set; }

    /// <summary>
    /// Nodes dictates the maximum number of NodeClaims owned by this NodePool that can be terminating at once. This is
    /// calculated by counting nodes that have a deletion timestamp set, or are actively being deleted by Karpenter. This
    /// field is required when specifying a budget.
    /// </summary>
    [Required]
    [Default("10%")]
    [Pattern(SchemaPatterns.BudgetNodes)]
    [JsonPropertyName("nodes")]
    public string Nodes { get; set; } = "10%";

    /// <summary>
    /// Schedule specifies when a budget begins being active, following the upstream cronjob syntax. If omitted, the
    /// budget is always active. Timezones are not supported. This field is required if Duration is set.
    /// </summary>
    [Pattern(SchemaPatterns.BudgetSchedule)]
    [JsonPropertyName("schedule")]
    public string? Schedule { get; set; }

    /// <summary>
    /// Duration determines how long a Budget is active since each Schedule hit. Only minutes and hours are accepted, as
    /// cron does not work in seconds. If omitted, the budget is always active. This is required if Schedule is set.
    /// This regex has an optional 0s at the end since the duration.String() always adds a 0s at the end.
    /// </summary>
    [Pattern(SchemaPatterns.BudgetDuration)]
    [JsonPropertyName("duration")]
    public string? Duration { get; set; }

    /// <summary>
    /// Whether the budget is active at <paramref name="now"/>: always without a schedule; otherwise when the schedule's
    /// next hit after <c>now - duration</c> is not after <c>now</c> (evaluated in UTC). Null when the schedule or duration
    /// does not parse.
    /// </summary>
    public bool? IsActive(DateTimeOffset now) => BudgetSchedules.IsActive(Schedule, Duration, now);

    /// <summary>
    /// How many nodes this budget lets be disrupted out of <paramref name="nodeCount"/>: unbounded while inactive,
    /// percentages rounded up. Null when the budget is misconfigured (callers fail closed).
    /// </summary>
    public int? GetAllowedDisruptions(DateTimeOffset now, int nodeCount)
    {
        var active = IsActive(now);
        if (active is null)
        {
            return null;
        }

        return active.Value ? BudgetSchedules.ScaledNodes(Nodes, nodeCount) : int.MaxValue;
    }
}

/// <summary>ConsolidationPolicy describes which nodes Karpenter can disrupt through its consolidation algorithm.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ConsolidationPolicy>))]
public enum ConsolidationPolicy
{
    [EnumMember(Value = "WhenEmpty")]
    WhenEmpty,

    [EnumMember(Value = "WhenEmptyOrUnderutilized")]
    WhenEmptyOrUnderutilized,

    [EnumMember(Value = "Balanced")]
    Balanced,
}

/// <summary>DisruptionReason defines valid reasons for disruption budgets.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DisruptionReason>))]
public enum DisruptionReason
{
    [EnumMember(Value = "Underutilized")]
    Underutilized,

    [EnumMember(Value = "Empty")]
    Empty,

    [EnumMember(Value = "Drifted")]
    Drifted,
}

/// <summary>NodePoolStatus defines the observed state of NodePool</summary>
public sealed class NodePoolStatus
{
    /// <summary>Resources is the list of resources that have been provisioned.</summary>
    [JsonPropertyName("resources")]
    public Dictionary<string, ResourceQuantity>? Resources { get; set; }

    /// <summary>Nodes is the count of nodes associated with this NodePool</summary>
    [Default(0)]
    [JsonPropertyName("nodes")]
    public long? Nodes { get; set; }

    /// <summary>
    /// NodeClassObservedGeneration represents the observed nodeClass generation for referenced nodeClass. If this does
    /// not match the actual NodeClass Generation, NodeRegistrationHealthy status condition on the NodePool will be
    /// reset.
    /// </summary>
    [JsonPropertyName("nodeClassObservedGeneration")]
    public long? NodeClassObservedGeneration { get; set; }

    /// <summary>Conditions contains signals for health and readiness</summary>
    [ListType(ListType.Map, "type")]
    [JsonPropertyName("conditions")]
    public List<V1Condition>? Conditions { get; set; }
}

using System.Text.Json.Serialization;
using k8s.Models;
using Karpenter.Kube.Entities;

namespace Karpenter.Entities.V1;

/// <summary>
/// The node this Taint is attached to has the "effect" on any pod that does not tolerate the Taint.
/// </summary>
public sealed class Taint : IEquatable<Taint>
{
    /// <summary>Required. The taint key to be applied to a node.</summary>
    [Required]
    [Length(Min = 1)]
    [Pattern(SchemaPatterns.QualifiedName)]
    [JsonPropertyName("key")]
    public string Key { get; set; } = string.Empty;

    /// <summary>The taint value corresponding to the taint key.</summary>
    [Pattern(SchemaPatterns.QualifiedName)]
    [JsonPropertyName("value")]
    public string? Value { get; set; }

    /// <summary>Required. The effect of the taint on pods that do not tolerate the taint. Valid effects are NoSchedule, PreferNoSchedule and NoExecute.</summary>
    [Required]
    [EnumValues(WellKnown.Taints.EffectNoSchedule, WellKnown.Taints.EffectPreferNoSchedule, WellKnown.Taints.EffectNoExecute)]
    [JsonPropertyName("effect")]
    public string Effect { get; set; } = string.Empty;

    /// <summary>TimeAdded represents the time at which the taint was added. It is only written for NoExecute taints.</summary>
    [JsonPropertyName("timeAdded")]
    public DateTime? TimeAdded { get; set; }

    /// <summary>The Kubernetes core form, for a Node's <c>spec.taints</c>.</summary>
    public V1Taint ToV1Taint() => new() { Key = Key, Value = Value, Effect = Effect, TimeAdded = TimeAdded };

    public static Taint FromV1Taint(V1Taint taint)
    {
        ArgumentNullException.ThrowIfNull(taint);
        return new Taint { Key = taint.Key, Value = taint.Value, Effect = taint.Effect, TimeAdded = taint.TimeAdded };
    }

    /// <summary>Taints are the same when key, value and effect match (as Kubernetes compares them); the time is ignored.</summary>
    public bool MatchesTaint(Taint other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Key == other.Key && (Value ?? string.Empty) == (other.Value ?? string.Empty) && Effect == other.Effect;
    }

    public bool Equals(Taint? other) =>
        other is not null && Key == other.Key && Value == other.Value && Effect == other.Effect && TimeAdded == other.TimeAdded;

    public override bool Equals(object? obj) => Equals(obj as Taint);

    public override int GetHashCode() => HashCode.Combine(Key, Value, Effect, TimeAdded);

    public override string ToString() => Value is null ? $"{Key}:{Effect}" : $"{Key}={Value}:{Effect}";
}

/// <summary>NodeClassReference names the provider-specific configuration of a NodeClaim, e.g. an EC2NodeClass.</summary>
public sealed class NodeClassReference : IEquatable<NodeClassReference>
{
    /// <summary>Kind of the referent; More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"</summary>
    [Required]
    [ValidationRule("self != ''", Message = "kind may not be empty")]
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = string.Empty;

    /// <summary>Name of the referent; More info: http://kubernetes.io/docs/user-guide/identifiers#names</summary>
    [Required]
    [ValidationRule("self != ''", Message = "name may not be empty")]
    [JsonPropertyName("name")]
    public string Name { get; set; } = string.Empty;

    /// <summary>API version of the referent</summary>
    [Required]
    [Pattern(SchemaPatterns.Group)]
    [ValidationRule("self != ''", Message = "group may not be empty")]
    [JsonPropertyName("group")]
    public string Group { get; set; } = string.Empty;

    /// <summary>A reference to an EC2NodeClass, the only NodeClass kind this provider serves.</summary>
    public static NodeClassReference Ec2NodeClass(string name) => new() { Group = WellKnown.Labels.AwsGroup, Kind = "EC2NodeClass", Name = name };

    public NodeClassReference Clone() => new() { Group = Group, Kind = Kind, Name = Name };

    public bool Equals(NodeClassReference? other) => other is not null && Kind == other.Kind && Name == other.Name && Group == other.Group;

    public override bool Equals(object? obj) => Equals(obj as NodeClassReference);

    public override int GetHashCode() => HashCode.Combine(Kind, Name, Group);

    public override string ToString() => $"{Group}/{Kind}/{Name}";
}

/// <summary>
/// A node selector requirement with min values is a selector that contains values, a key, an operator that relates the
/// key and values and minValues that represent the requirement to have at least that many values.
/// </summary>
public abstract class NodeSelectorRequirementWithMinValues
{
    /// <summary>The label key that the selector applies to.</summary>
    [JsonPropertyName("key")]
    public abstract string Key { get; set; }

    /// <summary>
    /// Represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists, DoesNotExist, Gt, Lt,
    /// Gte and Lte.
    /// </summary>
    [Required]
    [EnumValues("Gte", "Lte", "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")]
    [JsonPropertyName("operator")]
    public string Operator { get; set; } = string.Empty;

    /// <summary>
    /// An array of string values. If the operator is In or NotIn, the values array must be non-empty. If the operator is
    /// Exists or DoesNotExist, the values array must be empty. If the operator is Gt, Lt, Gte or Lte, the values array
    /// must have a single element, which will be interpreted as an integer. This array is replaced during a strategic
    /// merge patch.
    /// </summary>
    [Length(Max = 63)]
    [Pattern(SchemaPatterns.LabelValue)]
    [ListType(ListType.Atomic)]
    [JsonPropertyName("values")]
    public List<string>? Values { get; set; }

    /// <summary>
    /// This field is ALPHA and can be dropped or replaced at any time. MinValues is the minimum number of unique values
    /// required to define the flexibility of the specific requirement.
    /// </summary>
    [Minimum(1)]
    [Maximum(50)]
    [Format("")]
    [JsonPropertyName("minValues")]
    public int? MinValues { get; set; }

    /// <summary>The Kubernetes core form (without minValues), as pod node affinity spells it.</summary>
    public V1NodeSelectorRequirement ToV1() => new() { Key = Key, OperatorProperty = Operator, Values = Values?.ToList() };

    public override string ToString() =>
        $"{Key} {Operator} [{string.Join(", ", Values ?? [])}]{(MinValues is { } min ? $" minValues={min}" : string.Empty)}";
}

/// <summary>A requirement of a NodePool's template: the NodePool label <c>karpenter.sh/nodepool</c> is Karpenter's to set.</summary>
public sealed class NodePoolRequirement : NodeSelectorRequirementWithMinValues
{
    /// <summary>The label key that the selector applies to.</summary>
    [Required]
    [Length(Max = 316)]
    [Pattern(SchemaPatterns.QualifiedName)]
    [ValidationRule(CelRules.KeyKarpenterDomain, Message = CelRules.KarpenterDomainMessage)]
    [ValidationRule(CelRules.KeyNodePool, Message = CelRules.NodePoolMessage)]
    [ValidationRule(CelRules.KeyHostname, Message = CelRules.HostnameMessage)]
    [ValidationRule(CelRules.KeyAwsDomain, Message = CelRules.AwsDomainMessage)]
    [JsonPropertyName("key")]
    public override string Key { get; set; } = string.Empty;

    /// <summary>The same requirement, as a NodeClaim carries it.</summary>
    public NodeClaimRequirement ToNodeClaimRequirement() =>
        new() { Key = Key, Operator = Operator, Values = Values?.ToList(), MinValues = MinValues };
}

/// <summary>A requirement of a NodeClaim: as a NodePool's, except that <c>karpenter.sh/nodepool</c> is allowed.</summary>
public sealed class NodeClaimRequirement : NodeSelectorRequirementWithMinValues
{
    /// <summary>The label key that the selector applies to.</summary>
    [Required]
    [Length(Max = 316)]
    [Pattern(SchemaPatterns.QualifiedName)]
    [ValidationRule(CelRules.KeyKarpenterDomain, Message = CelRules.KarpenterDomainMessage)]
    [ValidationRule(CelRules.KeyHostname, Message = CelRules.HostnameMessage)]
    [ValidationRule(CelRules.KeyAwsDomain, Message = CelRules.AwsDomainMessage)]
    [JsonPropertyName("key")]
    public override string Key { get; set; } = string.Empty;
}

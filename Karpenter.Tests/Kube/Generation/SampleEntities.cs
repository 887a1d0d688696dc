using System.Runtime.Serialization;
using System.Text.Json.Serialization;
using k8s.Models;
using Karpenter.Kube.Entities;

namespace Karpenter.Tests.Kube.Generation.Samples;

/// <summary>Widget is a sample kind that exercises every schema attribute.</summary>
[KubernetesEntity(Group = "example.com", ApiVersion = "v1", Kind = "Widget", PluralName = "widgets")]
[EntityScope(EntityScope.Cluster)]
[ShortNames("wd")]
[Categories("samples", "all")]
[StorageVersion]
[PrinterColumn("Size", "integer", ".spec.size")]
[PrinterColumn("Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status")]
[PrinterColumn("Age", "date", ".metadata.creationTimestamp")]
[PrinterColumn("Colour", "string", ".spec.colour", Priority = 1, Description = "the colour")]
[ScaleSubresource(".spec.replicas", ".status.replicas", LabelSelectorPath = ".status.selector")]
[RequiredFields("spec")]
public sealed class V1Widget : CustomKubernetesEntity<V1WidgetSpec, V1WidgetStatus>;

/// <summary>
/// WidgetSpec is the desired state of a Widget.
/// <para>It spans two paragraphs, with <c>inline code</c> and a <see cref="V1Widget"/> reference.</para>
/// </summary>
[ValidationRule("!has(self.replicas) || !has(self.weight)", Message = "'weight' is not supported with replicas")]
public sealed class V1WidgetSpec
{
    /// <summary>Size of the widget.</summary>
    [Required]
    [Minimum(1)]
    [Maximum(100, Exclusive = true)]
    [JsonPropertyName("size")]
    public int Size { get; set; }

    /// <summary>Colour of the widget.</summary>
    [Default(WidgetColour.DeepBlue)]
    public WidgetColour? Colour { get; set; }

    [Description("An explicit description wins over the XML summary.")]
    [Default("720h")]
    [Pattern("^(([0-9]+(s|m|h))+|Never)$")]
    public string? ExpireAfter { get; set; }

    [Minimum(0)]
    public long? Replicas { get; set; }

    [Minimum(0, Exclusive = true)]
    [MultipleOf(0.5)]
    public double? Weight { get; set; }

    [Length(Min = 1, Max = 63)]
    [ValidationRule("self != ''", Message = "name may not be empty", Reason = "FieldValueRequired", FieldPath = ".name")]
    [ValidationRule("self == oldSelf", MessageExpression = "'name is immutable, was ' + oldSelf", OptionalOldSelf = true)]
    public string? Name { get; set; }

    /// <summary>Labels of the widget.</summary>
    [Properties(Max = 20)]
    [Length(Max = 63, Target = SchemaTarget.Items)]
    [Pattern("^[a-z]*$", Target = SchemaTarget.Items)]
    [MapType(MapType.Atomic)]
    public Dictionary<string, string>? Labels { get; set; }

    /// <summary>Parts, in order.</summary>
    [Items(Min = 1, Max = 10)]
    [ListType(ListType.Map, "name")]
    [DefaultJson("""[{"name": "base", "count": 1}]""")]
    public List<WidgetPart>? Parts { get; set; }

    [ListType(ListType.Set)]
    public List<WidgetColour>? Accents { get; set; }

    public Dictionary<string, ResourceQuantity>? Limits { get; set; }

    [IntOrString]
    public IntOrString? MaxUnavailable { get; set; }

    [SchemaType("string")]
    [Pattern("^[0-9]+Gi$")]
    public ResourceQuantity? VolumeSize { get; set; }

    [PreserveUnknownFields]
    [SchemaType("object")]
    public Dictionary<string, object>? Extra { get; set; }

    [Nullable]
    [Format("date-time")]
    public string? Deadline { get; set; }

    [JsonIgnore]
    public string Computed => Name ?? "not in the schema";

    [Ignore]
    [JsonIgnore]
    public string? Hidden { get; set; }
}

/// <summary>WidgetPart is one part of a widget.</summary>
[MapType(MapType.Atomic)]
public sealed class WidgetPart
{
    [Required]
    public string Name { get; set; } = string.Empty;

    [Default(1)]
    public int? Count { get; set; }

    public bool? Optional { get; set; }

    public DateTime? Added { get; set; }
}

/// <summary>WidgetColour is a colour a widget may have.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<WidgetColour>))]
public enum WidgetColour
{
    [JsonStringEnumMemberName("red")]
    [EnumMember(Value = "red")]
    Red,

    [JsonStringEnumMemberName("deep-blue")]
    [EnumMember(Value = "deep-blue")]
    DeepBlue,
}

/// <summary>WidgetStatus is the observed state of a Widget.</summary>
public sealed class V1WidgetStatus
{
    /// <summary>Conditions of the widget.</summary>
    [ListType(ListType.Map, "type")]
    public List<V1Condition>? Conditions { get; set; }

    [ConditionsSchema(ReasonAndMessageOptional = true)]
    public List<V1Condition>? LooseConditions { get; set; }

    public long? Replicas { get; set; }

    public string? Selector { get; set; }
}

/// <summary>The old Widget, still served.</summary>
[KubernetesEntity(Group = "example.com", ApiVersion = "v1beta1", Kind = "Widget", PluralName = "widgets")]
[EntityScope(EntityScope.Cluster)]
[DeprecatedVersion(Warning = "example.com/v1beta1 Widget is deprecated; use example.com/v1")]
public sealed class V1Beta1Widget : CustomKubernetesEntity<V1Beta1WidgetSpec>;

public sealed class V1Beta1WidgetSpec
{
    [Required]
    public int Size { get; set; }

    public string? Colour { get; set; }
}

/// <summary>A namespaced kind with neither status nor other versions.</summary>
[KubernetesEntity(Group = "example.com", ApiVersion = "v1alpha1", Kind = "Gadget", PluralName = "gadgets")]
[Served(false)]
public sealed class V1Alpha1Gadget : CustomKubernetesEntity<GadgetSpec>;

public sealed class GadgetSpec
{
    public string? Mode { get; set; }
}

/// <summary>A type that contains itself, which a structural schema cannot express.</summary>
[KubernetesEntity(Group = "example.com", ApiVersion = "v1", Kind = "Tree", PluralName = "trees")]
public sealed class V1Tree : CustomKubernetesEntity<TreeNode>;

public sealed class TreeNode
{
    public List<TreeNode>? Children { get; set; }
}

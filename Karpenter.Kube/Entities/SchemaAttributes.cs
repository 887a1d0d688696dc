namespace Karpenter.Kube.Entities;

/// <summary>Which schema node a value attribute applies to.</summary>
public enum SchemaTarget
{
    /// <summary>The property's own node.</summary>
    Self,

    /// <summary>The node of each array item or map value (<c>items</c> or <c>additionalProperties</c>).</summary>
    Items,
}

/// <summary>Common base of the attributes that shape a schema node.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public abstract class SchemaAttribute : Attribute
{
    /// <summary>Apply to the property's node (the default) or to its items or map values.</summary>
    public SchemaTarget Target { get; init; }
}

/// <summary>The node's <c>description</c>; without it, the XML doc summary of the property or type is used.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Enum)]
public sealed class DescriptionAttribute(string text) : Attribute
{
    public string Text { get; } = text;
}

/// <summary>The property is listed in its parent object's <c>required</c>.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RequiredAttribute : Attribute;

/// <summary>The property is not part of the schema (and should carry <c>[JsonIgnore]</c> too).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class IgnoreAttribute : Attribute;

/// <summary>
/// <c>nullable: true</c>: an explicit JSON <c>null</c> is kept rather than pruned. Opt-in, because upstream Kubernetes
/// APIs omit unset fields and CEL <c>has()</c> treats a kept null as set.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class NullableAttribute : SchemaAttribute;

/// <summary>The node's <c>default</c>, given as a scalar (string, integer, boolean or number).</summary>
public sealed class DefaultAttribute(object value) : SchemaAttribute
{
    public object Value { get; } = value;
}

/// <summary>The node's <c>default</c>, given as JSON (for objects and arrays).</summary>
public sealed class DefaultJsonAttribute(string json) : SchemaAttribute
{
    public string Json { get; } = json;
}

/// <summary><c>minimum</c>, or <c>minimum</c> with <c>exclusiveMinimum: true</c>.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = true)]
public sealed class MinimumAttribute(double value) : SchemaAttribute
{
    public double Value { get; } = value;

    public bool Exclusive { get; init; }
}

/// <summary><c>maximum</c>, or <c>maximum</c> with <c>exclusiveMaximum: true</c>.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = true)]
public sealed class MaximumAttribute(double value) : SchemaAttribute
{
    public double Value { get; } = value;

    public bool Exclusive { get; init; }
}

/// <summary><c>multipleOf</c>.</summary>
public sealed class MultipleOfAttribute(double value) : SchemaAttribute
{
    public double Value { get; } = value;
}

/// <summary><c>minLength</c>/<c>maxLength</c> of a string; -1 leaves a bound unset.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = true)]
public sealed class LengthAttribute : SchemaAttribute
{
    public long Min { get; init; } = -1;

    public long Max { get; init; } = -1;
}

/// <summary><c>minItems</c>/<c>maxItems</c> of an array; -1 leaves a bound unset.</summary>
public sealed class ItemsAttribute : SchemaAttribute
{
    public long Min { get; init; } = -1;

    public long Max { get; init; } = -1;
}

/// <summary><c>minProperties</c>/<c>maxProperties</c> of a map; -1 leaves a bound unset.</summary>
public sealed class PropertiesAttribute : SchemaAttribute
{
    public long Min { get; init; } = -1;

    public long Max { get; init; } = -1;
}

/// <summary><c>pattern</c> (an ECMA-262 regular expression, as the API server evaluates it).</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = true)]
public sealed class PatternAttribute(string regex) : SchemaAttribute
{
    public string Regex { get; } = regex;
}

/// <summary>
/// <c>format</c> (e.g. <c>date-time</c>, <c>int64</c>). An empty format removes the one the .NET type implies, as for
/// Go's platform-sized <c>int</c>, which controller-gen leaves without a format.
/// </summary>
public sealed class FormatAttribute(string format) : SchemaAttribute
{
    public string Format { get; } = format;
}

/// <summary>Overrides the JSON type the generator would derive, like kubebuilder's <c>Type=</c> with <c>Schemaless</c>.</summary>
public sealed class SchemaTypeAttribute(string type) : SchemaAttribute
{
    public string Type { get; } = type;
}

/// <summary>Explicit <c>enum</c> values, for string properties (enum-typed properties get theirs from the enum).</summary>
public sealed class EnumValuesAttribute(params string[] values) : SchemaAttribute
{
    public IReadOnlyList<string> Values { get; } = values;
}

/// <summary><c>x-kubernetes-int-or-string: true</c> with <c>anyOf: [integer, string]</c>.</summary>
public sealed class IntOrStringAttribute : SchemaAttribute;

/// <summary><c>x-kubernetes-preserve-unknown-fields: true</c>.</summary>
public sealed class PreserveUnknownFieldsAttribute : SchemaAttribute;

/// <summary><c>x-kubernetes-embedded-resource: true</c> (an embedded object with apiVersion, kind and metadata).</summary>
public sealed class EmbeddedResourceAttribute : SchemaAttribute;

/// <summary>The list's merge semantics for server-side apply.</summary>
public enum ListType
{
    Atomic,
    Set,
    Map,
}

/// <summary><c>x-kubernetes-list-type</c>, with <c>x-kubernetes-list-map-keys</c> for <see cref="ListType.Map"/>.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ListTypeAttribute(ListType type, params string[] mapKeys) : Attribute
{
    public ListType Type { get; } = type;

    public IReadOnlyList<string> MapKeys { get; } = mapKeys;
}

/// <summary>The map's (or struct's) merge semantics for server-side apply.</summary>
public enum MapType
{
    Atomic,
    Granular,
}

/// <summary><c>x-kubernetes-map-type</c>.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Class)]
public sealed class MapTypeAttribute(MapType type) : Attribute
{
    public MapType Type { get; } = type;
}

/// <summary>
/// A CEL rule (<c>x-kubernetes-validations</c>). On a property it applies to that property's node; on a class, to every
/// node of that type. The API server evaluates <see cref="Rule"/> with <c>self</c> bound to the node (and <c>oldSelf</c> on updates).
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Class, AllowMultiple = true)]
public sealed class ValidationRuleAttribute(string rule) : Attribute
{
    public string Rule { get; } = rule;

    /// <summary>The message a user sees when the rule is false.</summary>
    public string? Message { get; init; }

    /// <summary>A CEL expression that evaluates to the message (overrides <see cref="Message"/> when it evaluates).</summary>
    public string? MessageExpression { get; init; }

    /// <summary>The machine-readable reason: <c>FieldValueInvalid</c> (default), <c>FieldValueForbidden</c>, <c>FieldValueRequired</c>, <c>FieldValueDuplicate</c>.</summary>
    public string? Reason { get; init; }

    /// <summary>A path relative to the node, naming the field the error is reported on (e.g. <c>.spec.role</c>).</summary>
    public string? FieldPath { get; init; }

    /// <summary>Evaluate the transition rule on create too, with <c>oldSelf</c> an absent optional.</summary>
    public bool OptionalOldSelf { get; init; }
}

/// <summary>
/// The schema of a list of <c>metav1.Condition</c>. By default the generator emits the strict upstream schema (message and
/// reason required); some upstream APIs relax it so that reason and message may be empty.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ConditionsSchemaAttribute : Attribute
{
    /// <summary>Reason and message are optional, and reason may be empty (Karpenter's NodeClaim conditions).</summary>
    public bool ReasonAndMessageOptional { get; init; }
}

/// <summary>
/// Names properties of this type that are required in its JSON form, for properties it inherits and so cannot
/// annotate (for example an entity's <c>spec</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class RequiredFieldsAttribute(params string[] names) : Attribute
{
    public IReadOnlyList<string> Names { get; } = names;
}

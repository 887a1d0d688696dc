using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s.Models;
using Karpenter.Kube.Entities;

namespace Karpenter.Kube.Generation;

/// <summary>
/// Reflects .NET types into structural OpenAPI v3 schemas as the API server requires them for CRDs: every node has a
/// type (or is int-or-string or preserve-unknown-fields), there is no <c>$ref</c>, and recursion is refused.
/// </summary>
public sealed class SchemaBuilder(XmlDocumentation documentation)
{
    /// <summary>The pattern Kubernetes and controller-gen put on every <c>resource.Quantity</c>.</summary>
    public const string QuantityPattern = @"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$";

    private const string ApiVersionDescription =
        "APIVersion defines the versioned schema of this representation of an object.\nServers should convert recognized schemas to the latest internal value, and\nmay reject unrecognized values.\nMore info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";

    private const string KindDescription =
        "Kind is a string value representing the REST resource this object represents.\nServers may infer this from the endpoint the client submits requests to.\nCannot be updated.\nIn CamelCase.\nMore info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";

    /// <summary>The <c>openAPIV3Schema</c> of an entity type: apiVersion, kind, metadata, and its own properties.</summary>
    public V1JSONSchemaProps ForEntity(Type entityType)
    {
        ArgumentNullException.ThrowIfNull(entityType);
        var schema = ForObject(entityType, [], new Stack<Type>());
        schema.Properties!["apiVersion"] = new V1JSONSchemaProps { Type = "string", Description = ApiVersionDescription };
        schema.Properties["kind"] = new V1JSONSchemaProps { Type = "string", Description = KindDescription };
        schema.Properties["metadata"] = new V1JSONSchemaProps { Type = "object" };
        schema.Properties = Sorted(schema.Properties);
        return schema;
    }

    /// <summary>The schema of any supported .NET type.</summary>
    public V1JSONSchemaProps ForType(Type type) => Map(type, null, new Stack<Type>());

    /// <summary>The JSON name a property serializes under.</summary>
    public static string JsonName(PropertyInfo property)
    {
        ArgumentNullException.ThrowIfNull(property);
        var name = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name;
        return name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);
    }

    /// <summary>The JSON names of an enum's members, in declaration order.</summary>
    public static IReadOnlyList<string> EnumNames(Type enumType)
    {
        ArgumentNullException.ThrowIfNull(enumType);
        return enumType.GetFields(BindingFlags.Public | BindingFlags.Static)
            .OrderBy(f => f.MetadataToken)
            .Select(f => f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? f.Name)
            .ToArray();
    }

    /// <summary>The properties of a type that are part of its JSON form, in declaration order (base class members last).</summary>
    public static IEnumerable<PropertyInfo> SchemaProperties(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.GetMethod is { IsPublic: true })
            .Where(p => p.GetCustomAttribute<IgnoreAttribute>() is null)
            .Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is not { Condition: JsonIgnoreCondition.Always });
    }

    private V1JSONSchemaProps Map(Type type, PropertyInfo? property, Stack<Type> path)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;

        if (underlying == typeof(string))
        {
            return new V1JSONSchemaProps { Type = "string" };
        }

        if (underlying == typeof(bool))
        {
            return new V1JSONSchemaProps { Type = "boolean" };
        }

        if (underlying == typeof(int) || underlying == typeof(short) || underlying == typeof(byte)
            || underlying == typeof(uint) || underlying == typeof(ushort) || underlying == typeof(sbyte))
        {
            return new V1JSONSchemaProps { Type = "integer", Format = "int32" };
        }

        if (underlying == typeof(long) || underlying == typeof(ulong))
        {
            return new V1JSONSchemaProps { Type = "integer", Format = "int64" };
        }

        if (underlying == typeof(double) || underlying == typeof(float) || underlying == typeof(decimal))
        {
            return new V1JSONSchemaProps { Type = "number" };
        }

        if (underlying == typeof(DateTime) || underlying == typeof(DateTimeOffset))
        {
            return new V1JSONSchemaProps { Type = "string", Format = "date-time" };
        }

        if (underlying == typeof(TimeSpan))
        {
            return new V1JSONSchemaProps { Type = "string" };
        }

        if (underlying.IsEnum)
        {
            return new V1JSONSchemaProps
            {
                Type = "string",
                EnumProperty = EnumNames(underlying).Cast<object>().ToList(),
                Description = Describe(underlying),
            };
        }

        if (underlying == typeof(ResourceQuantity))
        {
            return new V1JSONSchemaProps
            {
                AnyOf = IntegerOrString(),
                Pattern = QuantityPattern,
                XKubernetesIntOrString = true,
            };
        }

        if (underlying == typeof(IntOrString))
        {
            return new V1JSONSchemaProps { AnyOf = IntegerOrString(), XKubernetesIntOrString = true };
        }

        if (underlying == typeof(V1Condition))
        {
            var relaxed = property?.GetCustomAttribute<ConditionsSchemaAttribute>()?.ReasonAndMessageOptional ?? false;
            return ConditionSchema(relaxed);
        }

        if (underlying == typeof(V1ObjectMeta))
        {
            return new V1JSONSchemaProps { Type = "object" };
        }

        if (underlying == typeof(object) || underlying == typeof(JsonElement) || underlying == typeof(JsonNode))
        {
            return new V1JSONSchemaProps { XKubernetesPreserveUnknownFields = true };
        }

        if (underlying == typeof(JsonObject))
        {
            return new V1JSONSchemaProps { Type = "object", XKubernetesPreserveUnknownFields = true };
        }

        if (DictionaryValueType(underlying) is { } valueType)
        {
            return new V1JSONSchemaProps { Type = "object", AdditionalProperties = Map(valueType, property, path) };
        }

        if (EnumerableItemType(underlying) is { } itemType)
        {
            return new V1JSONSchemaProps { Type = "array", Items = Map(itemType, property, path) };
        }

        if (underlying.IsPrimitive)
        {
            throw new NotSupportedException($"The primitive type {underlying} has no schema mapping.");
        }

        return ForObject(underlying, [], path);
    }

    private V1JSONSchemaProps ForObject(Type type, List<string> required, Stack<Type> path)
    {
        if (path.Contains(type))
        {
            throw new NotSupportedException(
                $"{type.FullName} contains itself ({string.Join(" -> ", path.Reverse().Select(t => t.Name))} -> {type.Name}); structural CRD schemas cannot be recursive.");
        }

        path.Push(type);
        var properties = new Dictionary<string, V1JSONSchemaProps>(StringComparer.Ordinal);
        foreach (var property in SchemaProperties(type))
        {
            var name = JsonName(property);
            if (properties.ContainsKey(name))
            {
                throw new NotSupportedException($"{type.FullName} has two properties named '{name}' in JSON.");
            }

            var node = Map(property.PropertyType, property, path);
            Apply(node, property);
            properties[name] = node;
            if (property.GetCustomAttribute<RequiredAttribute>() is not null)
            {
                required.Add(name);
            }
        }

        path.Pop();

        foreach (var name in type.GetCustomAttributes<RequiredFieldsAttribute>().SelectMany(a => a.Names))
        {
            if (!properties.ContainsKey(name))
            {
                throw new NotSupportedException($"{type.FullName} lists '{name}' as required but has no such property.");
            }

            if (!required.Contains(name))
            {
                required.Add(name);
            }
        }

        var schema = new V1JSONSchemaProps
        {
            Type = "object",
            Description = Describe(type),
            Properties = Sorted(properties),
            Required = required.Count > 0 ? required : null,
        };

        var rules = type.GetCustomAttributes<ValidationRuleAttribute>(inherit: false).ToList();
        if (rules.Count > 0)
        {
            schema.XKubernetesValidations = rules.Select(ToRule).ToList();
        }

        if (type.GetCustomAttribute<MapTypeAttribute>() is { } mapType)
        {
            schema.XKubernetesMapType = mapType.Type.ToString().ToLowerInvariant();
        }

        return schema;
    }

    /// <summary>Applies the property's own attributes to its node (and to its items where an attribute says so).</summary>
    private void Apply(V1JSONSchemaProps node, PropertyInfo property)
    {
        var description = property.GetCustomAttribute<DescriptionAttribute>()?.Text ?? documentation.Summary(property);
        if (description is not null)
        {
            node.Description = description;
        }

        foreach (var attribute in property.GetCustomAttributes<SchemaAttribute>())
        {
            var target = attribute.Target == SchemaTarget.Self
                ? node
                : ItemsOf(node) ?? throw new NotSupportedException(
                    $"{property.DeclaringType?.Name}.{property.Name}: [{attribute.GetType().Name}] targets items, but the property is neither an array nor a map.");
            ApplyValue(target, attribute, property);
        }

        if (property.GetCustomAttribute<ListTypeAttribute>() is { } listType)
        {
            if (node.Type != "array")
            {
                throw new NotSupportedException($"{property.DeclaringType?.Name}.{property.Name}: [ListType] needs an array.");
            }

            node.XKubernetesListType = listType.Type.ToString().ToLowerInvariant();
            if (listType.Type == ListType.Map)
            {
                if (listType.MapKeys.Count == 0)
                {
                    throw new NotSupportedException($"{property.DeclaringType?.Name}.{property.Name}: a map list needs its keys.");
                }

                node.XKubernetesListMapKeys = listType.MapKeys.ToList();
            }
        }

        if (property.GetCustomAttribute<MapTypeAttribute>() is { } mapType)
        {
            node.XKubernetesMapType = mapType.Type.ToString().ToLowerInvariant();
        }

        var rules = property.GetCustomAttributes<ValidationRuleAttribute>().Select(ToRule).ToList();
        if (rules.Count > 0)
        {
            node.XKubernetesValidations = (node.XKubernetesValidations ?? []).Concat(rules).ToList();
        }
    }

    private static void ApplyValue(V1JSONSchemaProps node, SchemaAttribute attribute, PropertyInfo property)
    {
        switch (attribute)
        {
            case NullableAttribute:
                node.Nullable = true;
                break;
            case DefaultAttribute d:
                node.DefaultProperty = Scalar(d.Value, property);
                break;
            case DefaultJsonAttribute d:
                node.DefaultProperty = ToPlain(JsonNode.Parse(d.Json));
                break;
            case MinimumAttribute m:
                node.Minimum = m.Value;
                node.ExclusiveMinimum = m.Exclusive ? true : null;
                break;
            case MaximumAttribute m:
                node.Maximum = m.Value;
                node.ExclusiveMaximum = m.Exclusive ? true : null;
                break;
            case MultipleOfAttribute m:
                node.MultipleOf = m.Value;
                break;
            case LengthAttribute l:
                node.MinLength = l.Min >= 0 ? l.Min : node.MinLength;
                node.MaxLength = l.Max >= 0 ? l.Max : node.MaxLength;
                break;
            case ItemsAttribute i:
                node.MinItems = i.Min >= 0 ? i.Min : node.MinItems;
                node.MaxItems = i.Max >= 0 ? i.Max : node.MaxItems;
                break;
            case PropertiesAttribute p:
                node.MinProperties = p.Min >= 0 ? p.Min : node.MinProperties;
                node.MaxProperties = p.Max >= 0 ? p.Max : node.MaxProperties;
                break;
            case PatternAttribute p:
                node.Pattern = p.Regex;
                break;
            case FormatAttribute f:
                node.Format = f.Format.Length == 0 ? null : f.Format;
                break;
            case SchemaTypeAttribute t:
                node.Type = t.Type;
                node.AnyOf = null;
                node.XKubernetesIntOrString = null;
                node.Format = null;
                node.Pattern = null;
                break;
            case EnumValuesAttribute e:
                node.EnumProperty = e.Values.Cast<object>().ToList();
                break;
            case IntOrStringAttribute:
                node.Type = null;
                node.AnyOf = IntegerOrString();
                node.XKubernetesIntOrString = true;
                break;
            case PreserveUnknownFieldsAttribute:
                node.XKubernetesPreserveUnknownFields = true;
                break;
            case EmbeddedResourceAttribute:
                node.Type = "object";
                node.XKubernetesEmbeddedResource = true;
                node.XKubernetesPreserveUnknownFields = true;
                break;
            default:
                throw new NotSupportedException($"Unknown schema attribute {attribute.GetType().Name}.");
        }
    }

    private static V1JSONSchemaProps? ItemsOf(V1JSONSchemaProps node) =>
        node.Type switch
        {
            "array" => node.Items as V1JSONSchemaProps,
            "object" => node.AdditionalProperties as V1JSONSchemaProps,
            _ => null,
        };

    private static V1ValidationRule ToRule(ValidationRuleAttribute a) => new()
    {
        Rule = a.Rule,
        Message = a.Message,
        MessageExpression = a.MessageExpression,
        Reason = a.Reason,
        FieldPath = a.FieldPath,
        OptionalOldSelf = a.OptionalOldSelf ? true : null,
    };

    private string? Describe(Type type) =>
        type.GetCustomAttribute<DescriptionAttribute>()?.Text ?? documentation.Summary(type);

    private static object Scalar(object value, PropertyInfo property) => value switch
    {
        string or bool => value,
        int or long or short or byte => Convert.ToInt64(value, CultureInfo.InvariantCulture),
        float or double => Convert.ToDouble(value, CultureInfo.InvariantCulture),
        Enum e => EnumNames(e.GetType())[Array.IndexOf(Enum.GetValues(e.GetType()), e)],
        _ => throw new NotSupportedException($"{property.DeclaringType?.Name}.{property.Name}: [Default] takes a string, integer, boolean, number or enum; use [DefaultJson] for objects."),
    };

    /// <summary>Turns parsed JSON into plain dictionaries, lists and scalars that both JSON and YAML serializers write faithfully.</summary>
    public static object? ToPlain(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(p => p.Key, p => ToPlain(p.Value), StringComparer.Ordinal),
        JsonArray a => a.Select(ToPlain).ToList(),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && long.TryParse(v.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
        JsonValue v => v.GetValue<double>(),
        _ => throw new NotSupportedException($"Unexpected JSON node {node.GetType().Name}."),
    };

    private static List<V1JSONSchemaProps> IntegerOrString() =>
        [new V1JSONSchemaProps { Type = "integer" }, new V1JSONSchemaProps { Type = "string" }];

    private static Dictionary<string, V1JSONSchemaProps> Sorted(IDictionary<string, V1JSONSchemaProps> properties) =>
        properties.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    private static Type? DictionaryValueType(Type type)
    {
        foreach (var candidate in new[] { type }.Concat(type.GetInterfaces()))
        {
            if (candidate.IsGenericType
                && (candidate.GetGenericTypeDefinition() == typeof(IDictionary<,>) || candidate.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)))
            {
                var arguments = candidate.GetGenericArguments();
                if (arguments[0] != typeof(string))
                {
                    throw new NotSupportedException($"{type}: CRD maps must have string keys.");
                }

                return arguments[1];
            }
        }

        return null;
    }

    private static Type? EnumerableItemType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        foreach (var candidate in new[] { type }.Concat(type.GetInterfaces()))
        {
            if (candidate.IsGenericType && candidate.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            {
                return candidate.GetGenericArguments()[0];
            }
        }

        return typeof(IEnumerable).IsAssignableFrom(type) ? typeof(object) : null;
    }

    /// <summary>metav1.Condition, as controller-gen emits it; <paramref name="relaxed"/> is operatorpkg's looser variant.</summary>
    private static V1JSONSchemaProps ConditionSchema(bool relaxed)
    {
        var reason = relaxed
            ? new V1JSONSchemaProps { Type = "string", MaxLength = 1024, Pattern = "^([A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?|)$" }
            : new V1JSONSchemaProps { Type = "string", MaxLength = 1024, MinLength = 1, Pattern = "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$" };
        reason.Description = "reason contains a programmatic identifier indicating the reason for the condition's last transition.";
        return new V1JSONSchemaProps
        {
            Type = "object",
            Description = "Condition aliases the upstream type and adds additional helper methods",
            Properties = new Dictionary<string, V1JSONSchemaProps>(StringComparer.Ordinal)
            {
                ["lastTransitionTime"] = new()
                {
                    Type = "string",
                    Format = "date-time",
                    Description = "lastTransitionTime is the last time the condition transitioned from one status to another.",
                },
                ["message"] = new()
                {
                    Type = "string",
                    MaxLength = 32768,
                    Description = "message is a human readable message indicating details about the transition.",
                },
                ["observedGeneration"] = new()
                {
                    Type = "integer",
                    Format = "int64",
                    Minimum = 0,
                    Description = "observedGeneration represents the .metadata.generation that the condition was set based upon.",
                },
                ["reason"] = reason,
                ["status"] = new()
                {
                    Type = "string",
                    EnumProperty = ["True", "False", "Unknown"],
                    Description = "status of the condition, one of True, False, Unknown.",
                },
                ["type"] = new()
                {
                    Type = "string",
                    MaxLength = 316,
                    Pattern = @"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
                    Description = "type of condition in CamelCase or in foo.example.com/CamelCase.",
                },
            },
            Required = relaxed
                ? ["lastTransitionTime", "status", "type"]
                : ["lastTransitionTime", "message", "reason", "status", "type"],
        };
    }
}

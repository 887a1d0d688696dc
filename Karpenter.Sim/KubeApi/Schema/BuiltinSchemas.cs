using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using k8s.Models;

namespace Karpenter.Sim.KubeApi.Schema;

/// <summary>
/// Builds <see cref="SchemaNode"/> trees for built-in kinds from the KubernetesClient model types, then
/// decorates them with what the models do not carry: MicroTime fields and strategic-merge-patch tags
/// (read from <c>k8s.io/api</c> <c>types.go</c> struct tags).
/// </summary>
internal static partial class BuiltinSchemas
{
    private static readonly ConcurrentDictionary<Type, SchemaNode> Cache = new();

    /// <summary>(model type, json field) pairs that are <c>metav1.MicroTime</c> rather than <c>metav1.Time</c>.</summary>
    private static readonly HashSet<(Type, string)> MicroTimeFields =
    [
        (typeof(V1LeaseSpec), "acquireTime"),
        (typeof(V1LeaseSpec), "renewTime"),
        (typeof(Eventsv1Event), "eventTime"),
        (typeof(Corev1Event), "eventTime"),
        (typeof(Eventsv1EventSeries), "lastObservedTime"),
        (typeof(Corev1EventSeries), "lastObservedTime"),
    ];

    /// <summary><c>patchStrategy</c>/<c>patchMergeKey</c> struct tags of the list fields the emulator's types contain.</summary>
    private static readonly Dictionary<(Type, string), (string Strategy, string? Key)> PatchTags = new()
    {
        [(typeof(V1ObjectMeta), "finalizers")] = ("merge", null),
        [(typeof(V1ObjectMeta), "ownerReferences")] = ("merge", "uid"),
        [(typeof(V1PodSpec), "volumes")] = ("merge,retainKeys", "name"),
        [(typeof(V1PodSpec), "initContainers")] = ("merge", "name"),
        [(typeof(V1PodSpec), "containers")] = ("merge", "name"),
        [(typeof(V1PodSpec), "ephemeralContainers")] = ("merge", "name"),
        [(typeof(V1PodSpec), "imagePullSecrets")] = ("merge", "name"),
        [(typeof(V1PodSpec), "hostAliases")] = ("merge", "ip"),
        [(typeof(V1PodSpec), "topologySpreadConstraints")] = ("merge", "topologyKey"),
        [(typeof(V1PodSpec), "resourceClaims")] = ("merge,retainKeys", "name"),
        [(typeof(V1PodSpec), "schedulingGates")] = ("merge", "name"),
        [(typeof(V1Container), "ports")] = ("merge", "containerPort"),
        [(typeof(V1Container), "env")] = ("merge", "name"),
        [(typeof(V1Container), "volumeMounts")] = ("merge", "mountPath"),
        [(typeof(V1Container), "volumeDevices")] = ("merge", "devicePath"),
        [(typeof(V1EphemeralContainer), "ports")] = ("merge", "containerPort"),
        [(typeof(V1EphemeralContainer), "env")] = ("merge", "name"),
        [(typeof(V1EphemeralContainer), "volumeMounts")] = ("merge", "mountPath"),
        [(typeof(V1EphemeralContainer), "volumeDevices")] = ("merge", "devicePath"),
        [(typeof(V1PodStatus), "conditions")] = ("merge", "type"),
        [(typeof(V1PodStatus), "podIPs")] = ("merge", "ip"),
        [(typeof(V1PodStatus), "hostIPs")] = ("merge", "ip"),
        [(typeof(V1PodStatus), "resourceClaimStatuses")] = ("merge,retainKeys", "name"),
        [(typeof(V1NodeSpec), "podCIDRs")] = ("merge", null),
        [(typeof(V1NodeStatus), "conditions")] = ("merge", "type"),
        [(typeof(V1NodeStatus), "addresses")] = ("merge", "type"),
        [(typeof(V1NamespaceStatus), "conditions")] = ("merge", "type"),
        [(typeof(V1PersistentVolumeClaimStatus), "conditions")] = ("merge", "type"),
        [(typeof(V1DeploymentStatus), "conditions")] = ("merge", "type"),
        [(typeof(V1ReplicaSetStatus), "conditions")] = ("merge", "type"),
        [(typeof(V1DaemonSetStatus), "conditions")] = ("merge", "type"),
        [(typeof(V1PodDisruptionBudgetStatus), "conditions")] = ("merge", "type"),
        [(typeof(V1DeploymentSpec), "strategy")] = ("retainKeys", null),
        [(typeof(V1CustomResourceDefinitionStatus), "conditions")] = ("merge", "type"),
    };

    public static SchemaNode For(Type modelType) => Cache.GetOrAdd(modelType, Build);

    private static SchemaNode Build(Type type)
    {
        // Recursive types (JSONSchemaProps) are handled by registering the node before filling it.
        var node = new SchemaNode(SchemaKind.Object, "v1." + GoName(type)) { GoStruct = GoName(type) };
        Cache.TryAdd(type, node);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var jsonName = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name;
            if (jsonName is null)
            {
                continue;
            }

            var child = ForProperty(type, jsonName, property.PropertyType);
            if (PatchTags.TryGetValue((type, jsonName), out var tag))
            {
                child = WithPatchTag(child, tag.Strategy, tag.Key);
            }

            node.Properties[jsonName] = child;
        }

        return node;
    }

    private static SchemaNode WithPatchTag(SchemaNode node, string strategy, string? key)
    {
        // Field-level tags belong to the field, not to the shared type node: copy the wrapper.
        var copy = new SchemaNode(node.Kind, node.GoType) { GoStruct = node.GoStruct, Items = node.Items };
        foreach (var (name, child) in node.Properties)
        {
            copy.Properties[name] = child;
        }

        copy.PatchStrategy = strategy;
        copy.PatchMergeKey = key;
        return copy;
    }

    private static SchemaNode ForProperty(Type owner, string jsonName, Type propertyType)
    {
        var type = Nullable.GetUnderlyingType(propertyType) ?? propertyType;
        if (type == typeof(DateTime) || type == typeof(DateTimeOffset))
        {
            return MicroTimeFields.Contains((owner, jsonName))
                ? new SchemaNode(SchemaKind.MicroTime, "v1.MicroTime")
                : new SchemaNode(SchemaKind.Time, "v1.Time");
        }

        return ForType(type);
    }

    private static SchemaNode ForType(Type type)
    {
        if (type == typeof(string))
        {
            return new SchemaNode(SchemaKind.String, "string");
        }

        if (type == typeof(int))
        {
            return new SchemaNode(SchemaKind.Integer, "int32");
        }

        if (type == typeof(long))
        {
            return new SchemaNode(SchemaKind.Integer, "int64");
        }

        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
        {
            return new SchemaNode(SchemaKind.Number, "float64");
        }

        if (type == typeof(bool))
        {
            return new SchemaNode(SchemaKind.Boolean, "bool");
        }

        if (type == typeof(byte[]))
        {
            return new SchemaNode(SchemaKind.Bytes, "[]uint8");
        }

        if (type == typeof(ResourceQuantity))
        {
            return new SchemaNode(SchemaKind.Quantity, "resource.Quantity");
        }

        if (type == typeof(IntOrString))
        {
            return new SchemaNode(SchemaKind.IntOrString, "intstr.IntOrString");
        }

        if (type == typeof(DateTime) || type == typeof(DateTimeOffset))
        {
            return new SchemaNode(SchemaKind.Time, "v1.Time");
        }

        if (type == typeof(object) || type == typeof(System.Text.Json.JsonElement))
        {
            return new SchemaNode(SchemaKind.Any, "interface {}");
        }

        if (type.IsGenericType)
        {
            var definition = type.GetGenericTypeDefinition();
            var args = type.GetGenericArguments();
            if (definition == typeof(IDictionary<,>) || definition == typeof(Dictionary<,>))
            {
                var value = ForType(Nullable.GetUnderlyingType(args[1]) ?? args[1]);
                return new SchemaNode(SchemaKind.Map, "map[string]" + value.GoType) { Items = value };
            }

            if (definition == typeof(IList<>) || definition == typeof(List<>) || definition == typeof(IEnumerable<>))
            {
                var item = ForType(Nullable.GetUnderlyingType(args[0]) ?? args[0]);
                return new SchemaNode(SchemaKind.Array, "[]" + item.GoType) { Items = item };
            }
        }

        if (type.IsClass && type.Namespace == "k8s.Models")
        {
            return For(type);
        }

        return new SchemaNode(SchemaKind.Any, "interface {}");
    }

    /// <summary><c>V1PodSpec</c> → <c>PodSpec</c>, <c>Corev1Event</c> → <c>Event</c>.</summary>
    public static string GoName(Type type) => ModelPrefix().Replace(type.Name, "");

    [GeneratedRegex("^(?:[A-Z][a-z]+)?[Vv][0-9]+(?:alpha[0-9]+|beta[0-9]+)?")]
    private static partial Regex ModelPrefix();
}

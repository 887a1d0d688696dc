using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Karpenter.Kube.Entities;

namespace Karpenter.Entities.Conversion;

/// <summary>
/// Makes conversion between two API versions lossless where the versions cannot express each other's specs: when a
/// spec does not survive the plain mapping there and back, the original is kept in an annotation of the converted
/// object, and restored when the object comes back unchanged. An annotation is consumed (removed) by the conversion
/// that reads it, so an object read in the version it was written in shows no trace of it.
/// </summary>
internal sealed class CompatibilityAnnotations<TSpoke, THub>(
    string spokeAnnotation,
    string hubAnnotation,
    Func<TSpoke, THub> up,
    Func<THub, TSpoke> down,
    SchemaDefaulter hubDefaults,
    SchemaDefaulter spokeDefaults)
    where TSpoke : class
    where THub : class
{
    /// <summary>The hub spec for <paramref name="spoke"/>, and the annotations the hub object should carry.</summary>
    public THub Up(TSpoke spoke, IDictionary<string, string>? annotations, out Dictionary<string, string>? hubAnnotations)
    {
        hubAnnotations = Without(annotations, hubAnnotation);
        if (annotations?.TryGetValue(hubAnnotation, out var saved) == true && TryRead<THub>(saved) is { } original
            && Same(spokeDefaults, down(original), spoke))
        {
            hubAnnotations.Remove(spokeAnnotation);
            return original;
        }

        var hub = up(spoke);
        hubAnnotations.Remove(spokeAnnotation);
        if (!Same(spokeDefaults, down(hub), spoke))
        {
            hubAnnotations[spokeAnnotation] = KubernetesJson.Serialize(spoke);
        }

        return hub;
    }

    /// <summary>The spoke spec for <paramref name="hub"/>, and the annotations the spoke object should carry.</summary>
    public TSpoke Down(THub hub, IDictionary<string, string>? annotations, out Dictionary<string, string>? spokeAnnotations)
    {
        spokeAnnotations = Without(annotations, spokeAnnotation);
        if (annotations?.TryGetValue(spokeAnnotation, out var saved) == true && TryRead<TSpoke>(saved) is { } original
            && Same(hubDefaults, up(original), hub))
        {
            spokeAnnotations.Remove(hubAnnotation);
            return original;
        }

        var spoke = down(hub);
        spokeAnnotations.Remove(hubAnnotation);
        if (!Same(hubDefaults, up(spoke), hub))
        {
            spokeAnnotations[hubAnnotation] = KubernetesJson.Serialize(hub);
        }

        return spoke;
    }

    /// <summary>Equal as JSON once the schema's defaults are applied to both (the API server defaults on every read).</summary>
    private static bool Same<T>(SchemaDefaulter defaults, T left, T right) =>
        JsonNode.DeepEquals(defaults.Apply(JsonNode.Parse(KubernetesJson.Serialize(left))), defaults.Apply(JsonNode.Parse(KubernetesJson.Serialize(right))));

    private static T? TryRead<T>(string json)
        where T : class
    {
        try
        {
            return KubernetesJson.Deserialize<T>(json);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException or InvalidOperationException or ArgumentException)
        {
            // A damaged annotation is ignored: the object converts as if it had none.
            return null;
        }
    }

    private static Dictionary<string, string> Without(IDictionary<string, string>? annotations, string key)
    {
        var copy = annotations is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(annotations, StringComparer.Ordinal);
        copy.Remove(key);
        return copy;
    }
}

/// <summary>Applies a structural schema's <c>default</c>s to a JSON value, as the API server does when it reads an object.</summary>
public sealed class SchemaDefaulter(V1JSONSchemaProps schema)
{
    /// <summary>The schema of an entity type's spec (the version's <c>openAPIV3Schema.properties.spec</c>).</summary>
    public static SchemaDefaulter ForSpecOf(Type entityType) =>
        new(new Kube.Generation.CrdGenerator().Generate(entityType).Spec.Versions.Single().Schema.OpenAPIV3Schema.Properties["spec"]);

    /// <summary>A defaulted copy of <paramref name="value"/>.</summary>
    public JsonNode? Apply(JsonNode? value)
    {
        var copy = value?.DeepClone();
        Default(copy, schema);
        return copy;
    }

    private static void Default(JsonNode? value, V1JSONSchemaProps node)
    {
        switch (value)
        {
            case JsonObject obj:
                foreach (var (name, property) in node.Properties ?? new Dictionary<string, V1JSONSchemaProps>())
                {
                    if (!obj.ContainsKey(name) && property.DefaultProperty is { } fallback)
                    {
                        obj[name] = JsonNode.Parse(KubernetesJson.Serialize(fallback));
                    }

                    if (obj[name] is { } child)
                    {
                        Default(child, property);
                    }
                }

                if (node.AdditionalProperties is V1JSONSchemaProps values)
                {
                    foreach (var (_, child) in obj.ToList())
                    {
                        Default(child, values);
                    }
                }

                break;
            case JsonArray array when node.Items is V1JSONSchemaProps items:
                foreach (var item in array)
                {
                    Default(item, items);
                }

                break;
        }
    }
}

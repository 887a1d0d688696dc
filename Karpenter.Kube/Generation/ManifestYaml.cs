using System.Text;
using System.Text.Json.Nodes;
using k8s;

namespace Karpenter.Kube.Generation;

/// <summary>
/// Writes Kubernetes objects as YAML the way <c>kubectl</c> and controller-gen do: fields in the JSON order of the
/// models, nulls omitted, integers without a fraction. Goes through KubernetesClient's JSON so that every
/// <c>JsonPropertyName</c>, converter and enum name applies.
/// </summary>
public static class ManifestYaml
{
    /// <summary>One object as one YAML document (without a leading <c>---</c>).</summary>
    public static string Serialize(object manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var node = JsonNode.Parse(KubernetesJson.Serialize(manifest));
        var yaml = KubernetesYaml.Serialize(SchemaBuilder.ToPlain(node)!);
        return yaml.EndsWith('\n') ? yaml : yaml + "\n";
    }

    /// <summary>Several objects as a multi-document YAML stream, each preceded by <c>---</c>.</summary>
    public static string SerializeAll(IEnumerable<object> manifests)
    {
        ArgumentNullException.ThrowIfNull(manifests);
        var builder = new StringBuilder();
        foreach (var manifest in manifests)
        {
            builder.Append("---\n").Append(Serialize(manifest));
        }

        return builder.ToString();
    }
}

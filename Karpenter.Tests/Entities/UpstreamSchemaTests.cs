using System.Text.Json.Nodes;
using k8s.Models;
using Karpenter.Kube.Generation;
using Xunit.Abstractions;

namespace Karpenter.Tests.Entities;

/// <summary>
/// The generated CRD schemas equal upstream v1.14.0's, path by path: every field, type, default, enum, pattern, bound,
/// format, list type, required marker and CEL rule (with its message) in <c>shared/data/karpenter/*-schema.md</c>.
/// </summary>
public sealed class UpstreamSchemaTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Kinds => new()
    {
        { "aws_karpenter.sh_nodepools-schema.md", typeof(Karpenter.Entities.V1.NodePool).FullName! },
        { "aws_karpenter.sh_nodeclaims-schema.md", typeof(Karpenter.Entities.V1.NodeClaim).FullName! },
        { "aws_ec2nodeclass_v1.14.0-schema.md", typeof(Karpenter.Entities.Aws.V1.EC2NodeClass).FullName! },
    };

    private static readonly string[] ComparedKeywords =
        ["type", "default", "enum", "pattern", "format", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "x-kubernetes-list-type"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void The_schema_matches_upstream_field_for_field(string file, string typeName)
    {
        var path = UpstreamSchema.File(file);
        if (path is null)
        {
            output.WriteLine($"SKIPPED: ../shared/data/karpenter/{file} is absent; the comparison with upstream needs it.");
            return;
        }

        var type = typeof(Karpenter.Entities.KarpenterApi).Assembly.GetType(typeName)!;
        var schema = new CrdGenerator().Generate(type).Spec.Versions[0].Schema.OpenAPIV3Schema;
        var ours = Flatten(schema);
        var upstream = UpstreamSchema.Load(path);
        var differences = new List<string>();

        foreach (var field in upstream)
        {
            if (!ours.TryGetValue(field.Path, out var node))
            {
                differences.Add($"{field.Path}: missing");
                continue;
            }

            var actual = Keywords(node.Node);
            foreach (var keyword in ComparedKeywords)
            {
                field.Attributes.TryGetValue(keyword, out var expected);
                actual.TryGetValue(keyword, out var got);
                if (!JsonNode.DeepEquals(expected, got))
                {
                    differences.Add($"{field.Path}: {keyword} is {got?.ToJsonString() ?? "unset"}, upstream {expected?.ToJsonString() ?? "unset"}");
                }
            }

            if (node.Required != field.Required)
            {
                differences.Add($"{field.Path}: required is {node.Required}, upstream {field.Required}");
            }

            var rules = (node.Node.XKubernetesValidations ?? []).Select(r => (r.Rule, r.Message ?? string.Empty)).ToList();
            if (!rules.SequenceEqual(field.Rules))
            {
                differences.Add($"{field.Path}: CEL rules differ:\n  ours:     {string.Join("\n            ", rules)}\n  upstream: {string.Join("\n            ", field.Rules)}");
            }
        }

        var known = upstream.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        differences.AddRange(ours.Keys.Where(p => !known.Contains(p)).Select(p => $"{p}: not in upstream"));

        Assert.True(differences.Count == 0, $"{differences.Count} differences from upstream:\n" + string.Join("\n", differences));
    }

    private static Dictionary<string, JsonNode?> Keywords(V1JSONSchemaProps node)
    {
        var json = JsonNode.Parse(k8s.KubernetesJson.Serialize(node))!.AsObject();
        return ComparedKeywords.ToDictionary(k => k, k => json[k]?.DeepClone(), StringComparer.Ordinal);
    }

    private static Dictionary<string, (V1JSONSchemaProps Node, bool Required)> Flatten(V1JSONSchemaProps root)
    {
        var result = new Dictionary<string, (V1JSONSchemaProps, bool)>(StringComparer.Ordinal);

        void Walk(V1JSONSchemaProps node, string path)
        {
            foreach (var (name, child) in node.Properties ?? new Dictionary<string, V1JSONSchemaProps>())
            {
                if (path.Length == 0 && name is "apiVersion" or "kind" or "metadata")
                {
                    continue;
                }

                var childPath = $"{path}.{name}";
                result[childPath] = (child, node.Required?.Contains(name) == true);
                Walk(child, childPath);
            }

            if (node.Items is V1JSONSchemaProps items)
            {
                result[path + "[]"] = (items, false);
                Walk(items, path + "[]");
            }

            if (node.AdditionalProperties is V1JSONSchemaProps values)
            {
                result[path + "{}"] = (values, false);
                Walk(values, path + "{}");
            }
        }

        Walk(root, string.Empty);
        return result;
    }
}

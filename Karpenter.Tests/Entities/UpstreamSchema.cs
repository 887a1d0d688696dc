using System.Text.Json.Nodes;
using Karpenter.Tests.Aws;

namespace Karpenter.Tests.Entities;

/// <summary>One schema path of an upstream CRD as <c>shared/data/karpenter/*-schema.md</c> lists it.</summary>
internal sealed record UpstreamField(string Path, bool Required, IReadOnlyDictionary<string, JsonNode?> Attributes, IReadOnlyList<(string Rule, string Message)> Rules);

/// <summary>
/// Reads the schema dumps of upstream Karpenter's CRDs. A line is <c>- `.spec*.a[].b{}` key=value, … — description</c>,
/// where <c>*</c> marks a required field, <c>[]</c> array items and <c>{}</c> map values; CEL rules follow as
/// <c>    - CEL: `rule` → "message"</c>.
/// </summary>
internal static class UpstreamSchema
{
    public static string? File(string name)
    {
        var data = AwsTestPaths.SharedData;
        var path = data is null ? null : Path.Combine(data, "karpenter", name);
        return path is not null && System.IO.File.Exists(path) ? path : null;
    }

    /// <summary>The fields of the first document (one CRD version) in the file.</summary>
    public static IReadOnlyList<UpstreamField> Load(string path)
    {
        var fields = new List<UpstreamField>();
        var headers = 0;
        foreach (var line in System.IO.File.ReadLines(path))
        {
            if (line.StartsWith("# ", StringComparison.Ordinal) && ++headers > 1)
            {
                break;
            }

            if (line.StartsWith("- `", StringComparison.Ordinal))
            {
                fields.Add(ParseField(line));
            }
            else if (line.StartsWith("    - CEL: `", StringComparison.Ordinal))
            {
                var rule = line[12..line.IndexOf("` → \"", StringComparison.Ordinal)];
                var start = line.IndexOf("` → \"", StringComparison.Ordinal) + 5;
                var message = line[start..line.LastIndexOf('"')];
                var last = fields[^1];
                fields[^1] = last with { Rules = [.. last.Rules, (rule, message)] };
            }
        }

        return fields;
    }

    private static UpstreamField ParseField(string line)
    {
        var end = line.IndexOf('`', 3);
        var rawPath = line[3..end];
        var rest = line[(end + 1)..];
        var dash = rest.IndexOf(" — ", StringComparison.Ordinal);
        if (dash >= 0)
        {
            rest = rest[..dash];
        }

        var attributes = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        var i = 0;
        while (i < rest.Length)
        {
            while (i < rest.Length && (rest[i] == ' ' || rest[i] == ','))
            {
                i++;
            }

            if (i >= rest.Length)
            {
                break;
            }

            var eq = rest.IndexOf('=', i);
            var key = rest[i..eq];
            i = eq + 1;
            var valueStart = i;
            var depth = 0;
            var inString = false;
            for (; i < rest.Length; i++)
            {
                var c = rest[i];
                if (inString)
                {
                    if (c == '\\')
                    {
                        i++;
                    }
                    else if (c == '"')
                    {
                        inString = false;
                        if (depth == 0)
                        {
                            i++;
                            break;
                        }
                    }

                    continue;
                }

                if (c == '"')
                {
                    inString = true;
                }
                else if (c is '[' or '{')
                {
                    depth++;
                }
                else if (c is ']' or '}')
                {
                    depth--;
                    if (depth == 0)
                    {
                        i++;
                        break;
                    }
                }
                else if (c == ',' && depth == 0)
                {
                    break;
                }
            }

            attributes[key] = JsonNode.Parse(rest[valueStart..i].Trim());
        }

        // A '*' after the last segment marks that field required; on an item path ("a*[]") it describes the parent.
        var path = rawPath.Replace("*", string.Empty, StringComparison.Ordinal);
        return new UpstreamField(path, rawPath.EndsWith('*'), attributes, []);
    }
}

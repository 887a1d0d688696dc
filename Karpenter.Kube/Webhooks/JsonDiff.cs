using System.Text.Json.Nodes;
using Karpenter.Kube.Client;

namespace Karpenter.Kube.Webhooks;

/// <summary>Builds the RFC 6902 patch that turns one JSON document into another (objects by key, arrays whole).</summary>
public static class JsonDiff
{
    public static JsonPatchBuilder CreatePatch(JsonNode? original, JsonNode? modified)
    {
        var patch = new JsonPatchBuilder();
        Diff(original, modified, string.Empty, patch);
        return patch;
    }

    private static void Diff(JsonNode? a, JsonNode? b, string path, JsonPatchBuilder patch)
    {
        if (JsonNode.DeepEquals(a, b))
        {
            return;
        }

        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (var (key, value) in oa)
            {
                var child = $"{path}/{JsonPatchBuilder.EscapeSegment(key)}";
                if (!ob.TryGetPropertyValue(key, out var other))
                {
                    patch.Remove(child);
                }
                else
                {
                    Diff(value, other, child, patch);
                }
            }

            foreach (var (key, value) in ob)
            {
                if (!oa.ContainsKey(key))
                {
                    patch.Add($"{path}/{JsonPatchBuilder.EscapeSegment(key)}", value ?? JsonValue.Create((string?)null));
                }
            }

            return;
        }

        if (path.Length == 0)
        {
            throw new InvalidOperationException("The documents differ at the root; a patch cannot replace the whole object.");
        }

        patch.Replace(path, b);
    }
}

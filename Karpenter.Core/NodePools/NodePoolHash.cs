using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.NodePools;

/// <summary>
/// The static-drift hash of a NodePool (<c>karpenter.sh/nodepool-hash</c>): the NodeClaim template (labels,
/// annotations, taints, startup taints, NodeClass reference, expireAfter, terminationGracePeriod) without its
/// requirements, which drift separately. Like upstream's hashstructure options, list order and empty values do not
/// change it. NodeClaims carry the hash of the template they were made from; a different hash means drift.
/// </summary>
/// <remarks>
/// The value is this implementation's own (FNV-1a over a canonical JSON form), not upstream's hashstructure walk, so it
/// is stamped with its own version <see cref="Annotations.NodePoolHashVersionValue"/>: on a version change the
/// <c>nodepool.hash</c> controller re-stamps NodeClaims that have not drifted instead of reporting drift, so switching
/// to or from upstream Karpenter replaces no nodes.
/// </remarks>
public static class NodePoolHash
{
    public static string Compute(NodePool nodePool)
    {
        ArgumentNullException.ThrowIfNull(nodePool);
        var template = JsonNode.Parse(KubernetesJson.Serialize(nodePool.Spec.Template))!.AsObject();
        if (template["spec"] is JsonObject spec)
        {
            spec.Remove("requirements");
        }

        var canonical = Canonical(template)?.ToJsonString() ?? "{}";
        return Fnv1a(canonical).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Sorted object keys, lists as sets (sorted), and null, empty strings, lists and objects dropped.</summary>
    private static JsonNode? Canonical(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var sorted = new JsonObject();
                foreach (var (key, value) in obj.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    if (Canonical(value) is { } canonical)
                    {
                        sorted[key] = canonical;
                    }
                }

                return sorted.Count == 0 ? null : sorted;
            case JsonArray array:
                var items = array.Select(Canonical).Where(i => i is not null).Select(i => i!.ToJsonString()).Order(StringComparer.Ordinal).ToList();
                return items.Count == 0 ? null : new JsonArray([.. items.Select(i => JsonNode.Parse(i))]);
            case JsonValue value when value.TryGetValue<string>(out var s) && s.Length == 0:
                return null;
            case null:
                return null;
            default:
                return node.DeepClone();
        }
    }

    private static ulong Fnv1a(string text)
    {
        const ulong offset = 14695981039346656037UL;
        const ulong prime = 1099511628211UL;
        var hash = offset;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= prime;
        }

        return hash;
    }
}

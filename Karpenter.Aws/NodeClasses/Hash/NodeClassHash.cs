using System.Globalization;
using System.Text.Json.Nodes;
using Karpenter.Aws.InstanceProfiles;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Aws.NodeClasses.Hash;

/// <summary>
/// The static-drift hash of an EC2NodeClass (upstream <c>EC2NodeClass.Hash()</c>): every spec field except the selector
/// terms (checked dynamically as AMI, subnet and security-group drift), <c>amiFamily</c> (the resolved family is hashed
/// instead) and <c>ipPrefixCount</c>; zero values count as absent and lists as sets, so reordering or spelling out a default
/// does not drift. The value is FNV-1a over a canonical JSON text, so it differs from the Go implementation's: its version
/// (<see cref="Version"/>) differs too, and NodeClaims stamped by another version are re-stamped, not drifted.
/// </summary>
public static class NodeClassHash
{
    /// <summary>The <c>karpenter.k8s.aws/ec2nodeclass-hash-version</c> this implementation writes.</summary>
    public const string Version = Annotations.Ec2NodeClassHashVersionValue;

    private static readonly string[] Ignored =
    [
        "subnetSelectorTerms", "securityGroupSelectorTerms", "capacityReservationSelectorTerms", "amiSelectorTerms", "amiFamily", "ipPrefixCount",
    ];

    public static string Compute(EC2NodeClass nodeClass)
    {
        ArgumentNullException.ThrowIfNull(nodeClass);
        var spec = JsonNode.Parse(k8s.KubernetesJson.Serialize(nodeClass.Spec))!.AsObject();
        foreach (var name in Ignored)
        {
            spec.Remove(name);
        }
        var canonical = Canonical(spec) ?? "{}";
        var text = canonical + "|family=" + NodeClassInputs.Family(nodeClass).Name;
        return InstanceProfileProvider.Fnv64(text).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Sorted keys, arrays as sorted sets, zero values dropped; null when the node is zero.</summary>
    private static string? Canonical(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject o:
                var fields = o.Select(p => (p.Key, Value: Canonical(p.Value))).Where(p => p.Value is not null)
                    .OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => JsonValue.Create(p.Key).ToJsonString() + ":" + p.Value).ToList();
                return fields.Count == 0 ? null : "{" + string.Join(",", fields) + "}";
            case JsonArray a:
                var items = a.Select(Canonical).Where(i => i is not null).Order(StringComparer.Ordinal).ToList();
                return items.Count == 0 ? null : "[" + string.Join(",", items) + "]";
            default:
                var text = node.ToJsonString();
                return text is "false" or "0" or "\"\"" ? null : text;
        }
    }
}

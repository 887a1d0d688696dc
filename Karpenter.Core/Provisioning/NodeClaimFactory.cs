using System.Globalization;
using k8s.Models;
using Karpenter.Core.NodePools;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.Provisioning;

/// <summary>
/// Writes a <see cref="PlannedNodeClaim"/> as the NodeClaim resource upstream creates
/// (<c>scheduling/nodeclaimtemplate.go</c>): <c>generateName: &lt;nodepool&gt;-</c>, an owner reference to the NodePool
/// that blocks its deletion, the template's labels plus <c>karpenter.sh/nodepool</c> and
/// <c>&lt;nodeclass-group&gt;/&lt;kind&gt;</c>, the template's annotations plus the NodePool hash, its version and
/// <c>karpenter.sh/nodeclaim-min-values-relaxed</c>; the template's spec with the planned requirements (instance types
/// in price order, cheapest first) and the planned requests.
/// </summary>
public static class NodeClaimFactory
{
    /// <summary>The NodeClaim to create for <paramref name="planned"/>, launched from <paramref name="nodePool"/>.</summary>
    public static NodeClaim ToNodeClaim(PlannedNodeClaim planned, NodePool nodePool)
    {
        ArgumentNullException.ThrowIfNull(planned);
        ArgumentNullException.ThrowIfNull(nodePool);
        var template = nodePool.Spec.Template;
        var nodeClassRef = template.Spec.NodeClassRef;
        var labels = new Dictionary<string, string>(template.Metadata?.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [Labels.NodePool] = nodePool.Metadata.Name,
        };
        if (!string.IsNullOrEmpty(nodeClassRef.Group) && !string.IsNullOrEmpty(nodeClassRef.Kind))
        {
            labels[$"{nodeClassRef.Group}/{nodeClassRef.Kind.ToLowerInvariant()}"] = nodeClassRef.Name;
        }

        var annotations = new Dictionary<string, string>(template.Metadata?.Annotations ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [Annotations.NodePoolHash] = NodePoolHash.Compute(nodePool),
            [Annotations.NodePoolHashVersion] = Annotations.NodePoolHashVersionValue,
            [Annotations.NodeClaimMinValuesRelaxed] = planned.MinValuesRelaxed ? "true" : "false",
        };

        var spec = template.ToNodeClaimSpec();
        spec.Requirements = Requirements(planned);
        spec.Resources = new NodeClaimResources { Requests = planned.Requests.ToList() };
        return new NodeClaim
        {
            ApiVersion = $"{Labels.KarpenterGroup}/v1",
            Kind = "NodeClaim",
            Metadata = new V1ObjectMeta
            {
                GenerateName = $"{nodePool.Metadata.Name}-",
                Labels = labels,
                Annotations = annotations,
                OwnerReferences =
                [
                    new V1OwnerReference
                    {
                        ApiVersion = $"{Labels.KarpenterGroup}/v1",
                        Kind = "NodePool",
                        Name = nodePool.Metadata.Name,
                        Uid = nodePool.Metadata.Uid,
                        BlockOwnerDeletion = true,
                    },
                ],
            },
            Spec = spec,
        };
    }

    /// <summary>
    /// The planned requirements as NodeClaim requirements, sorted by key: the instance types in the planned (price) order,
    /// minValues on the first entry of their key (lowered to what an <c>In</c> list can satisfy when it was relaxed),
    /// without the hostname (a NodeClaim may not require one).
    /// </summary>
    public static List<NodeClaimRequirement> Requirements(PlannedNodeClaim planned)
    {
        ArgumentNullException.ThrowIfNull(planned);
        var result = new List<NodeClaimRequirement>();
        foreach (var requirement in planned.Requirements.Values.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (requirement.Key == Labels.Hostname)
            {
                continue;
            }

            var first = true;
            foreach (var selector in requirement.ToNodeSelectorRequirements())
            {
                var values = selector.Values?.ToList();
                if (requirement.Key == Labels.InstanceType && selector.OperatorProperty == Operators.In)
                {
                    values = [.. planned.InstanceTypes.Select(t => t.Name).Where(requirement.Has)];
                }

                var op = selector.OperatorProperty;
                if (op == Operators.Gt && values is [var bound] && long.TryParse(bound, NumberStyles.Integer, CultureInfo.InvariantCulture, out var gt) && gt < 0)
                {
                    // "Greater than a negative number" is any integer label (the CRD accepts only non-negative bounds).
                    op = Operators.Exists;
                    values = null;
                }

                int? minValues = first ? requirement.MinValues : null;
                if (minValues is { } min && op == Operators.In && values is not null && values.Count < min)
                {
                    minValues = values.Count;
                }

                result.Add(new NodeClaimRequirement { Key = requirement.Key, Operator = op, Values = values, MinValues = minValues });
                first = false;
            }
        }

        return result;
    }
}

using k8s.Models;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.Disruption;

/// <summary>Turns a planned replacement into the NodeClaim to create (the seam provisioning's NodeClaim factory plugs into).</summary>
public interface IReplacementFactory
{
    NodeClaim Create(PlannedNodeClaim planned, NodePool nodePool);
}

/// <summary>
/// The NodeClaim upstream creates for a plan: <c>generateName: &lt;nodepool&gt;-</c>, an owner reference to the NodePool,
/// the template's labels and annotations plus <c>karpenter.sh/nodepool</c> and the NodePool hash, and the template's
/// spec with the planned requirements (instance types cheapest first) and requests.
/// </summary>
public sealed class ReplacementFactory : IReplacementFactory
{
    public NodeClaim Create(PlannedNodeClaim planned, NodePool nodePool)
    {
        ArgumentNullException.ThrowIfNull(planned);
        ArgumentNullException.ThrowIfNull(nodePool);
        var template = nodePool.Spec.Template;
        var labels = new Dictionary<string, string>(template.Metadata?.Labels ?? [], StringComparer.Ordinal) { [Labels.NodePool] = nodePool.Metadata.Name };
        var annotations = new Dictionary<string, string>(template.Metadata?.Annotations ?? [], StringComparer.Ordinal)
        {
            [Annotations.NodeClaimMinValuesRelaxed] = planned.MinValuesRelaxed ? "true" : "false",
        };
        foreach (var key in new[] { Annotations.NodePoolHash, Annotations.NodePoolHashVersion })
        {
            if (nodePool.Metadata.Annotations?.TryGetValue(key, out var value) == true)
            {
                annotations[key] = value;
            }
        }

        var spec = template.ToNodeClaimSpec();
        var instanceTypes = planned.InstanceTypes.Select(t => t.Name).ToList();
        spec.Requirements = [.. planned.Requirements.Clone().Remove(Labels.Hostname).Remove(Labels.InstanceType).ToNodeSelectorRequirements()
            .Select(v => new NodeClaimRequirement { Key = v.Key, Operator = v.OperatorProperty, Values = v.Values?.ToList(), MinValues = planned.Requirements.Get(v.Key).MinValues })
            .Append(new NodeClaimRequirement { Key = Labels.InstanceType, Operator = Operators.In, Values = instanceTypes, MinValues = planned.Requirements.Get(Labels.InstanceType).MinValues })
            .OrderBy(r => r.Key, StringComparer.Ordinal)];
        spec.Resources = new NodeClaimResources { Requests = planned.Requests.ToList() };
        return new NodeClaim
        {
            Metadata = new V1ObjectMeta
            {
                GenerateName = $"{nodePool.Metadata.Name}-",
                Labels = labels,
                Annotations = annotations,
                OwnerReferences =
                [
                    new V1OwnerReference { ApiVersion = "karpenter.sh/v1", Kind = "NodePool", Name = nodePool.Metadata.Name, Uid = nodePool.Metadata.Uid, BlockOwnerDeletion = true },
                ],
            },
            Spec = spec,
        };
    }
}

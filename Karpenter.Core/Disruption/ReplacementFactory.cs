using Karpenter.Core.Provisioning;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;

namespace Karpenter.Core.Disruption;

/// <summary>Turns a planned replacement into the NodeClaim to create (a seam tests can replace).</summary>
public interface IReplacementFactory
{
    NodeClaim Create(PlannedNodeClaim planned, NodePool nodePool);
}

/// <summary>Replacements are made exactly as the provisioner makes NodeClaims (<see cref="NodeClaimFactory"/>).</summary>
public sealed class ReplacementFactory : IReplacementFactory
{
    public NodeClaim Create(PlannedNodeClaim planned, NodePool nodePool) => NodeClaimFactory.ToNodeClaim(planned, nodePool);
}

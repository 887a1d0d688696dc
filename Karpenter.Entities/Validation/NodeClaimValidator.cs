using FluentValidation;
using k8s;
using Karpenter.Entities.V1;

namespace Karpenter.Entities.Validation;

/// <summary>
/// Validates <c>karpenter.sh/v1</c> NodeClaims: the CRD's schema and CEL rules (the spec is immutable; requirements as
/// for NodePools, except that <c>karpenter.sh/nodepool</c> is allowed), the NodeClass reference, durations and taints.
/// </summary>
public sealed class NodeClaimValidator : ApiValidator<NodeClaim>
{
    public NodeClaimValidator()
    {
        RuleFor(claim => claim.Spec).Custom((spec, context) =>
        {
            if (Old(context) is { } old && KubernetesJson.Serialize(old.Spec) != KubernetesJson.Serialize(spec))
            {
                Rule(context, "spec", "object", "spec is immutable");
            }

            RequirementRules.Validate(context, "spec.requirements", spec.Requirements, nodePoolKeyAllowed: true);
            NodeClassReferenceRules.Validate(context, "spec.nodeClassRef", spec.NodeClassRef, old: null, immutable: false);
            TaintRules.Validate(context, "spec.taints", spec.Taints);
            TaintRules.Validate(context, "spec.startupTaints", spec.StartupTaints);
            DurationRules.Nillable(context, "spec.expireAfter", spec.ExpireAfter);
            DurationRules.Required(context, "spec.terminationGracePeriod", spec.TerminationGracePeriod);
        });
    }
}

using FluentValidation;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Entities;

namespace Karpenter.Entities.Validation;

/// <summary>
/// Validates <c>karpenter.sh/v1</c> NodePools: the CRD's schema and CEL rules, and what CEL cannot check (budget
/// schedules parse as cron, durations parse, requirement and label keys are not restricted, the NodeClass is one this
/// provider serves, taints are not repeated).
/// </summary>
public sealed class NodePoolValidator : ApiValidator<NodePool>
{
    public NodePoolValidator()
    {
        RuleFor(pool => pool.Spec).Custom((spec, context) =>
        {
            ValidateStaticMode(context, spec, Old(context)?.Spec);
            ValidateDisruption(context, spec.Disruption);
            ValidateTemplate(context, spec.Template, Old(context)?.Spec.Template);
        });
    }

    private static void ValidateStaticMode(ValidationContext<NodePool> context, NodePoolSpec spec, NodePoolSpec? old)
    {
        if (old is not null && (spec.Replicas is null) != (old.Replicas is null))
        {
            Rule(context, "spec", "object", "Cannot transition NodePool between static (replicas set) and dynamic (replicas unset) provisioning modes");
        }

        if (spec.Replicas is not null && spec.Limits is { Count: > 0 } limits && !(limits.Count == 1 && limits.ContainsKey("nodes")))
        {
            Rule(context, "spec", "object", "only 'limits.nodes' is supported on static NodePools");
        }

        if (spec.Replicas is not null && spec.Weight is not null)
        {
            Rule(context, "spec", "object", "'weight' is not supported on static NodePools");
        }
    }

    private static void ValidateDisruption(ValidationContext<NodePool> context, Disruption? disruption)
    {
        if (disruption is null)
        {
            return;
        }

        DurationRules.Nillable(context, "spec.disruption.consolidateAfter", disruption.ConsolidateAfter);
        BudgetRules.Validate(context, "spec.disruption.budgets", disruption.Budgets);
    }

    private static void ValidateTemplate(ValidationContext<NodePool> context, NodeClaimTemplate template, NodeClaimTemplate? old)
    {
        if (template.Metadata?.Labels is { } labels)
        {
            LabelRules.Validate(context, "spec.template.metadata.labels", labels);
        }

        var spec = template.Spec;
        const string path = "spec.template.spec";
        RequirementRules.Validate(context, $"{path}.requirements", spec.Requirements, nodePoolKeyAllowed: false);
        NodeClassReferenceRules.Validate(context, $"{path}.nodeClassRef", spec.NodeClassRef, old?.Spec.NodeClassRef, immutable: true);
        TaintRules.Validate(context, $"{path}.taints", spec.Taints);
        TaintRules.Validate(context, $"{path}.startupTaints", spec.StartupTaints);
        DurationRules.Nillable(context, $"{path}.expireAfter", spec.ExpireAfter);
        DurationRules.Required(context, $"{path}.terminationGracePeriod", spec.TerminationGracePeriod);
    }
}

/// <summary>Template label rules: the CRD's CEL rules on the map, then the runtime restriction of each key.</summary>
internal static class LabelRules
{
    public static void Validate<T>(ValidationContext<T> context, string path, IReadOnlyDictionary<string, string> labels)
    {
        var keys = labels.Keys.ToList();
        if (keys.Any(k => !(k is Labels.CapacityType or Labels.NodePool) && RequirementRules.Domain(k).EndsWith(Labels.KarpenterGroup, StringComparison.Ordinal)))
        {
            Failures.Add(context, FieldError.Rule(path, "object", CelRules.KarpenterDomainMessage));
        }

        if (keys.Contains(Labels.NodePool))
        {
            Failures.Add(context, FieldError.Rule(path, "object", CelRules.NodePoolMessage));
        }

        if (keys.Contains(Labels.Hostname))
        {
            Failures.Add(context, FieldError.Rule(path, "object", CelRules.HostnameMessage));
        }

        if (keys.Any(k => RequirementRules.Domain(k).EndsWith(Labels.AwsGroup, StringComparison.Ordinal) && !RequirementRules.AwsDomainAllowed.Contains(k)))
        {
            Failures.Add(context, FieldError.Rule(path, "object", CelRules.AwsDomainMessage));
        }

        foreach (var key in keys.Order(StringComparer.Ordinal))
        {
            if (key != Labels.NodePool && RestrictedLabels.Check(key) is { } restricted)
            {
                Failures.Add(context, FieldError.Invalid($"{path}[{key}]", key, restricted));
            }
        }
    }

}

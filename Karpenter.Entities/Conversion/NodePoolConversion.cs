using k8s;
using Karpenter.Entities.WellKnown;
using V1 = Karpenter.Entities.V1;
using V1Beta1 = Karpenter.Entities.V1Beta1;

namespace Karpenter.Entities.Conversion;

/// <summary>
/// Converts NodePools between <c>karpenter.sh/v1beta1</c> and <c>karpenter.sh/v1</c>. The plain mapping expands the
/// v1beta1 shorthands (a name-only <c>nodeClassRef</c> becomes a full EC2NodeClass reference,
/// <c>WhenUnderutilized</c> becomes <c>WhenEmptyOrUnderutilized</c>, <c>disruption.expireAfter</c> moves to the
/// template); what one version cannot express is carried in a compatibility annotation so that both directions are
/// lossless.
/// </summary>
public sealed class NodePoolConversion
{
    private readonly CompatibilityAnnotations<V1Beta1.NodePoolSpec, V1.NodePoolSpec> _annotations = new(
        Annotations.V1Beta1NodePoolSpec,
        Annotations.V1NodePoolSpec,
        Up,
        Down,
        SchemaDefaulter.ForSpecOf(typeof(V1.NodePool)),
        SchemaDefaulter.ForSpecOf(typeof(V1Beta1.NodePool)));

    public V1.NodePool ToV1(V1Beta1.NodePool nodePool)
    {
        ArgumentNullException.ThrowIfNull(nodePool);
        var result = new V1.NodePool { Metadata = Copy(nodePool.Metadata), Status = Copy(nodePool.Status) };
        result.Spec = _annotations.Up(nodePool.Spec, nodePool.Metadata.Annotations, out var annotations);
        result.Metadata.Annotations = annotations is { Count: > 0 } ? annotations : null;
        return result;
    }

    public V1Beta1.NodePool ToV1Beta1(V1.NodePool nodePool)
    {
        ArgumentNullException.ThrowIfNull(nodePool);
        var result = new V1Beta1.NodePool { Metadata = Copy(nodePool.Metadata), Status = Copy(nodePool.Status) };
        result.Spec = _annotations.Down(nodePool.Spec, nodePool.Metadata.Annotations, out var annotations);
        result.Metadata.Annotations = annotations is { Count: > 0 } ? annotations : null;
        return result;
    }

    /// <summary>The plain v1beta1 → v1 mapping, with the shorthands expanded.</summary>
    public static V1.NodePoolSpec Up(V1Beta1.NodePoolSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var template = spec.Template;
        return new V1.NodePoolSpec
        {
            Template = new V1.NodeClaimTemplate
            {
                Metadata = Clone(template.Metadata),
                Spec = new V1.NodeClaimTemplateSpec
                {
                    Taints = Clone(template.Spec.Taints),
                    StartupTaints = Clone(template.Spec.StartupTaints),
                    Requirements = Clone(template.Spec.Requirements) ?? [],
                    NodeClassRef = Up(template.Spec.NodeClassRef),
                    TerminationGracePeriod = template.Spec.TerminationGracePeriod,
                    ExpireAfter = spec.Disruption?.ExpireAfter,
                },
            },
            Disruption = new V1.Disruption
            {
                ConsolidationPolicy = spec.Disruption?.ConsolidationPolicy switch
                {
                    V1Beta1.ConsolidationPolicy.WhenEmpty => V1.ConsolidationPolicy.WhenEmpty,
                    V1Beta1.ConsolidationPolicy.WhenUnderutilized => V1.ConsolidationPolicy.WhenEmptyOrUnderutilized,
                    _ => null,
                },
                ConsolidateAfter = spec.Disruption?.ConsolidateAfter ?? "0s",
                Budgets = Clone(spec.Disruption?.Budgets),
            },
            Limits = Clone(spec.Limits),
            Weight = spec.Weight,
        };
    }

    /// <summary>The plain v1 → v1beta1 mapping.</summary>
    public static V1Beta1.NodePoolSpec Down(V1.NodePoolSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var template = spec.Template;
        var policy = spec.Disruption.ConsolidationPolicy switch
        {
            V1.ConsolidationPolicy.WhenEmpty => V1Beta1.ConsolidationPolicy.WhenEmpty,
            null => (V1Beta1.ConsolidationPolicy?)null,
            _ => V1Beta1.ConsolidationPolicy.WhenUnderutilized,
        };
        return new V1Beta1.NodePoolSpec
        {
            Template = new V1Beta1.NodeClaimTemplate
            {
                Metadata = Clone(template.Metadata),
                Spec = new V1Beta1.NodeClaimTemplateSpec
                {
                    Taints = Clone(template.Spec.Taints),
                    StartupTaints = Clone(template.Spec.StartupTaints),
                    Requirements = Clone(template.Spec.Requirements) ?? [],
                    NodeClassRef = new V1Beta1.NodeClassReference
                    {
                        ApiVersion = string.IsNullOrEmpty(template.Spec.NodeClassRef.Group) ? null : $"{template.Spec.NodeClassRef.Group}/v1beta1",
                        Kind = template.Spec.NodeClassRef.Kind,
                        Name = template.Spec.NodeClassRef.Name,
                    },
                    TerminationGracePeriod = template.Spec.TerminationGracePeriod,
                },
            },
            Disruption = new V1Beta1.Disruption
            {
                ConsolidationPolicy = policy,

                // v1beta1 refuses consolidateAfter with WhenUnderutilized unless it is Never.
                ConsolidateAfter = policy == V1Beta1.ConsolidationPolicy.WhenUnderutilized && spec.Disruption.ConsolidateAfter != GoDuration.Never
                    ? null
                    : spec.Disruption.ConsolidateAfter,
                ExpireAfter = template.Spec.ExpireAfter,
                Budgets = Clone(spec.Disruption.Budgets),
            },
            Limits = Clone(spec.Limits),
            Weight = spec.Weight,
        };
    }

    private static V1.NodeClassReference Up(V1Beta1.NodeClassReference? reference)
    {
        var group = reference?.ApiVersion is { Length: > 0 } apiVersion
            ? (apiVersion.Contains('/', StringComparison.Ordinal) ? apiVersion[..apiVersion.IndexOf('/', StringComparison.Ordinal)] : string.Empty)
            : Labels.AwsGroup;
        return new V1.NodeClassReference
        {
            Group = group,
            Kind = string.IsNullOrEmpty(reference?.Kind) ? "EC2NodeClass" : reference.Kind,
            Name = reference?.Name ?? string.Empty,
        };
    }

    /// <summary>A deep copy through JSON.</summary>
    internal static T Copy<T>(T value)
        where T : class => KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(value))!;

    /// <summary>A deep copy through JSON (null stays null).</summary>
    internal static T? Clone<T>(T? value)
        where T : class => value is null ? null : KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(value));
}

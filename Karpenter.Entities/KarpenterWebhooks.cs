using Karpenter.Entities.Conversion;
using Karpenter.Entities.Validation;
using Karpenter.Kube.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Karpenter.Entities;

/// <summary>Registers Karpenter's admission and conversion webhooks with the operator host.</summary>
public static class KarpenterWebhooks
{
    /// <summary>
    /// Validation of <c>karpenter.sh/v1</c> NodePools and NodeClaims and <c>karpenter.k8s.aws/v1</c> EC2NodeClasses
    /// (served at the paths <see cref="KarpenterApi.AdmissionWebhooks"/> configures), and conversion of NodePools and
    /// EC2NodeClasses between v1beta1 and v1.
    /// </summary>
    public static KubeOperatorBuilder AddKarpenterWebhooks(this KubeOperatorBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<ApiValidator<V1.NodePool>, NodePoolValidator>();
        builder.Services.TryAddSingleton<ApiValidator<V1.NodeClaim>, NodeClaimValidator>();
        builder.Services.TryAddSingleton<ApiValidator<Aws.V1.EC2NodeClass>, EC2NodeClassValidator>();
        builder.Services.TryAddSingleton<NodePoolConversion>();
        builder.Services.TryAddSingleton<EC2NodeClassConversion>();
        return builder
            .AddValidator<V1.NodePool, ValidatingAdmission<V1.NodePool>>()
            .AddValidator<V1.NodeClaim, ValidatingAdmission<V1.NodeClaim>>()
            .AddValidator<Aws.V1.EC2NodeClass, ValidatingAdmission<Aws.V1.EC2NodeClass>>()
            .AddConversion<NodePoolConversionHandler>(WellKnown.Labels.KarpenterGroup, "NodePool")
            .AddConversion<EC2NodeClassConversionHandler>(WellKnown.Labels.AwsGroup, "EC2NodeClass");
    }
}

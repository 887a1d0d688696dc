using Karpenter.Entities.WellKnown;
using AwsV1 = Karpenter.Entities.Aws.V1;
using AwsV1Beta1 = Karpenter.Entities.Aws.V1Beta1;

namespace Karpenter.Entities.Conversion;

/// <summary>
/// Converts EC2NodeClasses between <c>karpenter.k8s.aws/v1beta1</c> and <c>karpenter.k8s.aws/v1</c>. The plain
/// mapping expands the v1beta1 shorthands (<c>subnetSelector</c> and <c>securityGroupSelector</c> tag maps become one
/// selector term each; an <c>amiFamily</c> without AMI selector terms becomes the family's <c>@latest</c> alias); what
/// one version cannot express is carried in a compatibility annotation so that both directions are lossless.
/// </summary>
public sealed class EC2NodeClassConversion
{
    private static readonly (AwsV1.AmiFamily Family, string Alias)[] Aliases =
    [
        (AwsV1.AmiFamily.AL2, "al2"), (AwsV1.AmiFamily.AL2023, "al2023"), (AwsV1.AmiFamily.Bottlerocket, "bottlerocket"),
        (AwsV1.AmiFamily.Windows2019, "windows2019"), (AwsV1.AmiFamily.Windows2022, "windows2022"), (AwsV1.AmiFamily.Windows2025, "windows2025"),
    ];

    private readonly CompatibilityAnnotations<AwsV1Beta1.EC2NodeClassSpec, AwsV1.EC2NodeClassSpec> _annotations = new(
        Annotations.V1Beta1Ec2NodeClassSpec,
        Annotations.V1Ec2NodeClassSpec,
        Up,
        Down,
        SchemaDefaulter.ForSpecOf(typeof(AwsV1.EC2NodeClass)),
        SchemaDefaulter.ForSpecOf(typeof(AwsV1Beta1.EC2NodeClass)));

    public AwsV1.EC2NodeClass ToV1(AwsV1Beta1.EC2NodeClass nodeClass)
    {
        ArgumentNullException.ThrowIfNull(nodeClass);
        var result = new AwsV1.EC2NodeClass { Metadata = NodePoolConversion.Copy(nodeClass.Metadata), Status = NodePoolConversion.Copy(nodeClass.Status) };
        result.Spec = _annotations.Up(nodeClass.Spec, nodeClass.Metadata.Annotations, out var annotations);
        result.Metadata.Annotations = annotations is { Count: > 0 } ? annotations : null;
        return result;
    }

    public AwsV1Beta1.EC2NodeClass ToV1Beta1(AwsV1.EC2NodeClass nodeClass)
    {
        ArgumentNullException.ThrowIfNull(nodeClass);
        var result = new AwsV1Beta1.EC2NodeClass { Metadata = NodePoolConversion.Copy(nodeClass.Metadata), Status = NodePoolConversion.Copy(nodeClass.Status) };
        result.Spec = _annotations.Down(nodeClass.Spec, nodeClass.Metadata.Annotations, out var annotations);
        result.Metadata.Annotations = annotations is { Count: > 0 } ? annotations : null;
        return result;
    }

    /// <summary>The plain v1beta1 → v1 mapping, with the shorthands expanded.</summary>
    public static AwsV1.EC2NodeClassSpec Up(AwsV1Beta1.EC2NodeClassSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var result = new AwsV1.EC2NodeClassSpec
        {
            SubnetSelectorTerms = NodePoolConversion.Clone(spec.SubnetSelectorTerms)
                ?? (spec.SubnetSelector is null ? [] : [new AwsV1.SubnetSelectorTerm { Tags = new(spec.SubnetSelector, StringComparer.Ordinal) }]),
            SecurityGroupSelectorTerms = NodePoolConversion.Clone(spec.SecurityGroupSelectorTerms)
                ?? (spec.SecurityGroupSelector is null ? [] : [new AwsV1.SecurityGroupSelectorTerm { Tags = new(spec.SecurityGroupSelector, StringComparer.Ordinal) }]),
            UserData = spec.UserData,
            Role = spec.Role,
            InstanceProfile = spec.InstanceProfile,
            Tags = spec.Tags is null ? null : new(spec.Tags, StringComparer.Ordinal),
            BlockDeviceMappings = NodePoolConversion.Clone(spec.BlockDeviceMappings),
            InstanceStorePolicy = spec.InstanceStorePolicy,
            DetailedMonitoring = spec.DetailedMonitoring,
            AssociatePublicIpAddress = spec.AssociatePublicIpAddress,
            MetadataOptions = NodePoolConversion.Clone(spec.MetadataOptions),
            Context = spec.Context,
        };

        if (spec.AmiSelectorTerms is { } terms)
        {
            result.AmiSelectorTerms = terms.Select(t => new AwsV1.AmiSelectorTerm
            {
                Tags = t.Tags is null ? null : new(t.Tags, StringComparer.Ordinal),
                Id = t.Id,
                Name = t.Name,
                Owner = t.Owner,
            }).ToList();
            result.AmiFamily = spec.AmiFamily;
        }
        else if (Aliases.FirstOrDefault(a => a.Family == spec.AmiFamily) is { Alias: { } alias })
        {
            result.AmiSelectorTerms = [new AwsV1.AmiSelectorTerm { Alias = $"{alias}@latest" }];
        }
        else
        {
            result.AmiFamily = spec.AmiFamily;
        }

        return result;
    }

    /// <summary>The plain v1 → v1beta1 mapping.</summary>
    public static AwsV1Beta1.EC2NodeClassSpec Down(AwsV1.EC2NodeClassSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var result = new AwsV1Beta1.EC2NodeClassSpec
        {
            SubnetSelectorTerms = NodePoolConversion.Clone(spec.SubnetSelectorTerms),
            SecurityGroupSelectorTerms = NodePoolConversion.Clone(spec.SecurityGroupSelectorTerms),
            UserData = spec.UserData,
            Role = spec.Role,
            InstanceProfile = spec.InstanceProfile,
            Tags = spec.Tags is null ? null : new(spec.Tags, StringComparer.Ordinal),
            BlockDeviceMappings = NodePoolConversion.Clone(spec.BlockDeviceMappings),
            InstanceStorePolicy = spec.InstanceStorePolicy,
            DetailedMonitoring = spec.DetailedMonitoring,
            AssociatePublicIpAddress = spec.AssociatePublicIpAddress,
            MetadataOptions = NodePoolConversion.Clone(spec.MetadataOptions),
            Context = spec.Context,
        };

        var terms = spec.AmiSelectorTerms ?? [];
        if (terms is [{ Alias: { } alias }])
        {
            var family = alias.Split('@')[0];
            result.AmiFamily = spec.AmiFamily ?? Aliases.Where(a => a.Alias == family).Select(a => (AwsV1.AmiFamily?)a.Family).FirstOrDefault();
        }
        else
        {
            result.AmiSelectorTerms = terms.Count == 0
                ? null
                : terms.Select(t => new AwsV1Beta1.AmiSelectorTerm
                {
                    Tags = t.Tags is null ? null : new(t.Tags, StringComparer.Ordinal),
                    Id = t.Id,
                    Name = t.Name,
                    Owner = t.Owner,
                }).ToList();
            result.AmiFamily = spec.AmiFamily;
        }

        return result;
    }
}

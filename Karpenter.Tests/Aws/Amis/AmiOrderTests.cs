using Karpenter.Aws.Amis;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Tests.Aws.Amis;

/// <summary>Which AMI wins: non-deprecated first, then the newest, then by name; and the SSM paths of every alias family.</summary>
public sealed class AmiOrderTests
{
    private static ResolvedAmi Ami(string id, string name, int day, bool deprecated = false) =>
        new(id, name, new DateTimeOffset(2026, 1, day, 0, 0, 0, TimeSpan.Zero), deprecated, new Requirements(Requirement.In(Labels.Arch, "amd64")));

    [Fact]
    public void Non_deprecated_beats_newer_deprecated_and_newer_beats_older()
    {
        var amis = new[] { Ami("a", "n", 1), Ami("b", "n", 3, deprecated: true), Ami("c", "n", 2), Ami("d", "m", 2) };
        var ordered = amis.Order(Comparer<ResolvedAmi>.Create(AmiProvider.Compare)).Select(a => a.Id);
        Assert.Equal(["d", "c", "a", "b"], ordered);
    }

    [Fact]
    public void Each_instance_type_gets_the_first_compatible_AMI()
    {
        var gpu = new ResolvedAmi("gpu", "g", DateTimeOffset.UnixEpoch, false, AmiVariant.Nvidia.Requirements("amd64"));
        var standard = new ResolvedAmi("std", "s", DateTimeOffset.UnixEpoch, false, AmiVariant.Standard.Requirements("amd64"));
        var arm = new ResolvedAmi("arm", "a", DateTimeOffset.UnixEpoch, false, AmiVariant.Standard.Requirements("arm64"));
        var types = new Dictionary<string, Requirements>
        {
            ["g5.xlarge"] = new(Requirement.In(Labels.Arch, "amd64"), Requirement.In(Labels.InstanceGpuCount, "1")),
            ["m5.large"] = new(Requirement.In(Labels.Arch, "amd64"), Requirement.DoesNotExist(Labels.InstanceGpuCount)),
            ["m7g.large"] = new(Requirement.In(Labels.Arch, "arm64"), Requirement.DoesNotExist(Labels.InstanceGpuCount)),
        };
        var mapped = AmiProvider.MapToInstanceTypes([gpu, standard, arm], types.Keys, k => types[k]);
        Assert.Equal(["g5.xlarge"], mapped["gpu"]);
        Assert.Equal(["m5.large"], mapped["std"]);
        Assert.Equal(["m7g.large"], mapped["arm"]);
    }

    [Fact]
    public void Alias_SSM_paths_follow_each_familys_layout()
    {
        Assert.Contains(AmiProvider.SsmPaths(AmiFamily.AL2023, "1.33", "latest"),
            p => p.Path == "/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/arm64/nvidia/recommended/image_id" && p.Variant == AmiVariant.Nvidia);
        Assert.Contains(AmiProvider.SsmPaths(AmiFamily.AL2023, "1.33", "v20260101"),
            p => p.Path == "/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/neuron/amazon-eks-node-al2023-x86_64-neuron-1.33-v20260101/image_id");
        Assert.Equal(5, AmiProvider.SsmPaths(AmiFamily.AL2023, "1.33", "latest").Count());
        Assert.Contains(AmiProvider.SsmPaths(AmiFamily.AL2, "1.32", "latest"),
            p => p.Path == "/aws/service/eks/optimized-ami/1.32/amazon-linux-2-gpu/recommended/image_id" && p.Variant == AmiVariant.Neuron);
        Assert.Contains(AmiProvider.SsmPaths(AmiFamily.Bottlerocket, "1.33", "v1.40.0"),
            p => p.Path == "/aws/service/bottlerocket/aws-k8s-1.33-nvidia/arm64/1.40.0/image_id");
        Assert.Equal(["/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.33/image_id"],
            AmiProvider.SsmPaths(AmiFamily.Windows2022, "1.33", "latest").Select(p => p.Path));
    }
}

using Amazon.EC2.Model;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;

namespace Karpenter.Tests.Sim.Aws;

/// <summary>The public AMI parameters Karpenter resolves aliases through (aws-provider.md §1.4), via the real SSM client.</summary>
public sealed class SsmTests
{
    public static TheoryData<string, string> AliasPaths => new()
    {
        { "/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/recommended/image_id", "amazon-eks-node-al2023-x86_64-standard-1.33-v20251120" },
        { "/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/arm64/nvidia/recommended/image_id", "amazon-eks-node-al2023-arm64-nvidia-1.33-v20251120" },
        { "/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/neuron/recommended/image_id", "amazon-eks-node-al2023-x86_64-neuron-1.33-v20251120" },
        { "/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/amazon-eks-node-al2023-x86_64-standard-1.33-v20251015/image_id", "amazon-eks-node-al2023-x86_64-standard-1.33-v20251015" },
        { "/aws/service/eks/optimized-ami/1.32/amazon-linux-2/recommended/image_id", "amazon-eks-node-1.32-v20251120" },
        { "/aws/service/eks/optimized-ami/1.32/amazon-linux-2-arm64/recommended/image_id", "amazon-eks-arm64-node-1.32-v20251120" },
        { "/aws/service/eks/optimized-ami/1.32/amazon-linux-2-gpu/amazon-eks-gpu-node-1.32-v20251015/image_id", "amazon-eks-gpu-node-1.32-v20251015" },
        { "/aws/service/bottlerocket/aws-k8s-1.33/arm64/latest/image_id", "bottlerocket-aws-k8s-1.33-arm64-v1.50.0-" },
        { "/aws/service/bottlerocket/aws-k8s-1.33-nvidia/x86_64/1.49.0/image_id", "bottlerocket-aws-k8s-1.33-nvidia-x86_64-v1.49.0-" },
        { "/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.33/image_id", "Windows_Server-2022-English-Core-EKS_Optimized-1.33-2025.11.12" },
    };

    [Theory]
    [MemberData(nameof(AliasPaths))]
    public async Task Alias_parameters_resolve_to_existing_images(string path, string imageNamePrefix)
    {
        await using var h = await EmulatorHarness.StartAsync();
        var parameter = (await h.Ssm.GetParameterAsync(new GetParameterRequest { Name = path })).Parameter;
        Assert.StartsWith("ami-", parameter.Value, StringComparison.Ordinal);
        Assert.Equal("aws:ec2:image", parameter.DataType);
        Assert.Equal($"arn:aws:ssm:us-east-1::parameter{path}", parameter.ARN);

        var image = Assert.Single((await h.Ec2.DescribeImagesAsync(new DescribeImagesRequest { ImageIds = [parameter.Value] })).Images);
        Assert.StartsWith(imageNamePrefix, image.Name, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AL2_parameters_stop_at_Kubernetes_1_33_and_unknown_paths_are_ParameterNotFound()
    {
        await using var h = await EmulatorHarness.StartAsync();
        await Assert.ThrowsAsync<ParameterNotFoundException>(() => h.Ssm.GetParameterAsync(new GetParameterRequest
        {
            Name = "/aws/service/eks/optimized-ami/1.33/amazon-linux-2/recommended/image_id",
        }));
        await Assert.ThrowsAsync<ParameterNotFoundException>(() => h.Ssm.GetParameterAsync(new GetParameterRequest { Name = "/no/such/parameter" }));
    }

    [Fact]
    public async Task Own_parameters_can_be_written_but_not_under_aws()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var image = (await h.Ssm.GetParameterAsync(new GetParameterRequest { Name = "/aws/service/bottlerocket/aws-k8s-1.34/x86_64/latest/image_id" })).Parameter.Value;
        await h.Ssm.PutParameterAsync(new PutParameterRequest { Name = "/my/ami", Value = image, Type = ParameterType.String, DataType = "aws:ec2:image" });
        Assert.Equal(image, (await h.Ssm.GetParameterAsync(new GetParameterRequest { Name = "/my/ami" })).Parameter.Value);

        var reserved = await Assert.ThrowsAsync<AmazonSimpleSystemsManagementException>(() =>
            h.Ssm.PutParameterAsync(new PutParameterRequest { Name = "/aws/service/mine", Value = "x", Type = ParameterType.String }));
        Assert.Equal("ValidationException", reserved.ErrorCode);
    }
}

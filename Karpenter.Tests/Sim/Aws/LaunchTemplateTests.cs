using System.Text;
using Amazon.EC2;
using Amazon.EC2.Model;

namespace Karpenter.Tests.Sim.Aws;

/// <summary>Launch templates as Karpenter's launch template provider uses them (aws-provider.md §1.5).</summary>
public sealed class LaunchTemplateTests
{
    [Fact]
    public async Task A_missing_template_name_is_InvalidLaunchTemplateName_NotFoundException_not_an_empty_list()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var error = await Assert.ThrowsAsync<AmazonEC2Exception>(() =>
            h.Ec2.DescribeLaunchTemplatesAsync(new DescribeLaunchTemplatesRequest { LaunchTemplateNames = ["karpenter.k8s.aws/123"] }));
        Assert.Equal("InvalidLaunchTemplateName.NotFoundException", error.ErrorCode);
    }

    [Fact]
    public async Task Templates_are_created_described_by_tag_and_deleted()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var userData = Convert.ToBase64String(Encoding.UTF8.GetBytes("MIME-Version: 1.0\n"));
        var created = (await h.Ec2.CreateLaunchTemplateAsync(new CreateLaunchTemplateRequest
        {
            LaunchTemplateName = "karpenter.k8s.aws/9876543210",
            LaunchTemplateData = new RequestLaunchTemplateData
            {
                ImageId = "ami-0123",
                UserData = userData,
                SecurityGroupIds = ["sg-1"],
                MetadataOptions = new LaunchTemplateInstanceMetadataOptionsRequest { HttpTokens = LaunchTemplateHttpTokensState.Required, HttpPutResponseHopLimit = 1 },
                BlockDeviceMappings = [new LaunchTemplateBlockDeviceMappingRequest { DeviceName = "/dev/xvda", Ebs = new LaunchTemplateEbsBlockDeviceRequest { VolumeSize = 20, VolumeType = VolumeType.Gp3, Encrypted = true } }],
            },
            TagSpecifications = [new TagSpecification { ResourceType = ResourceType.LaunchTemplate, Tags = [new Tag("eks:eks-cluster-name", "test-cluster"), new Tag("karpenter.k8s.aws/ec2nodeclass", "default")] }],
        })).LaunchTemplate;
        Assert.StartsWith("lt-", created.LaunchTemplateId, StringComparison.Ordinal);
        Assert.Equal(1, created.LatestVersionNumber);

        var duplicate = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.Ec2.CreateLaunchTemplateAsync(new CreateLaunchTemplateRequest
        {
            LaunchTemplateName = "karpenter.k8s.aws/9876543210",
            LaunchTemplateData = new RequestLaunchTemplateData { ImageId = "ami-0123" },
        }));
        Assert.Equal("InvalidLaunchTemplateName.AlreadyExistsException", duplicate.ErrorCode);

        var byTags = (await h.Ec2.DescribeLaunchTemplatesAsync(new DescribeLaunchTemplatesRequest
        {
            Filters = [new Filter("tag:eks:eks-cluster-name", ["test-cluster"]), new Filter("tag:karpenter.k8s.aws/ec2nodeclass", ["default"])],
            MaxResults = 200,
        })).LaunchTemplates;
        Assert.Equal(created.LaunchTemplateId, Assert.Single(byTags).LaunchTemplateId);

        var version = Assert.Single((await h.Ec2.DescribeLaunchTemplateVersionsAsync(new DescribeLaunchTemplateVersionsRequest
        {
            LaunchTemplateId = created.LaunchTemplateId,
            Versions = ["$Latest"],
        })).LaunchTemplateVersions);
        Assert.Equal(userData, version.LaunchTemplateData.UserData);
        Assert.Equal("required", version.LaunchTemplateData.MetadataOptions.HttpTokens.Value);
        Assert.Equal(20, Assert.Single(version.LaunchTemplateData.BlockDeviceMappings).Ebs.VolumeSize);

        await h.Ec2.DeleteLaunchTemplateAsync(new DeleteLaunchTemplateRequest { LaunchTemplateId = created.LaunchTemplateId });
        var gone = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.Ec2.DeleteLaunchTemplateAsync(new DeleteLaunchTemplateRequest { LaunchTemplateId = created.LaunchTemplateId }));
        Assert.Equal("InvalidLaunchTemplateId.NotFound", gone.ErrorCode);
    }

    [Fact]
    public async Task User_data_must_be_base64_and_at_most_16_KiB()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var notBase64 = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.Ec2.CreateLaunchTemplateAsync(new CreateLaunchTemplateRequest
        {
            LaunchTemplateName = "bad-user-data",
            LaunchTemplateData = new RequestLaunchTemplateData { UserData = "#!/bin/bash not base64" },
        }));
        Assert.Equal("InvalidUserData.Malformed", notBase64.ErrorCode);

        var tooBig = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.Ec2.CreateLaunchTemplateAsync(new CreateLaunchTemplateRequest
        {
            LaunchTemplateName = "big-user-data",
            LaunchTemplateData = new RequestLaunchTemplateData { UserData = Convert.ToBase64String(new byte[16385]) },
        }));
        Assert.Equal("InvalidUserData.Malformed", tooBig.ErrorCode);
    }
}

using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.SimpleSystemsManagement.Model;
using Karpenter.Sim.Aws;
using Karpenter.Sim.Aws.Catalog;

namespace Karpenter.Tests.Sim.Aws;

/// <summary>The simulator's levers on the world, seen through the SDK; options validation; the full catalog file.</summary>
public sealed class WorldApiTests
{
    private const string Recommended = "/aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/standard/recommended/image_id";

    [Fact]
    public async Task A_published_AMI_release_moves_the_recommended_parameter_and_deprecated_images_hide()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var before = (await h.Ssm.GetParameterAsync(new GetParameterRequest { Name = Recommended })).Parameter;

        var id = h.Emulator.World.PublishImage("amazon-eks-node-al2023-x86_64-standard-1.33-v20260101", "x86_64", Recommended);
        var after = (await h.Ssm.GetParameterAsync(new GetParameterRequest { Name = Recommended })).Parameter;
        Assert.Equal(id, after.Value);
        Assert.Equal(before.Version + 1, after.Version);

        h.Emulator.World.DeprecateImage(before.Value, h.Clock.GetUtcNow());
        var listed = (await h.Ec2.DescribeImagesAsync(new DescribeImagesRequest { Filters = [new Amazon.EC2.Model.Filter("name", ["amazon-eks-node-al2023-x86_64-standard-1.33-*"])] })).Images;
        Assert.DoesNotContain(listed, i => i.ImageId == before.Value);
        var withDeprecated = (await h.Ec2.DescribeImagesAsync(new DescribeImagesRequest { IncludeDeprecated = true, Filters = [new Amazon.EC2.Model.Filter("name", ["amazon-eks-node-al2023-x86_64-standard-1.33-*"])] })).Images;
        Assert.Contains(withDeprecated, i => i.ImageId == before.Value && i.DeprecationTime is not null);
        Assert.Equal(3, withDeprecated.Count);
    }

    [Fact]
    public async Task RunInstances_launches_and_answers_DryRun_as_the_validation_controller_expects()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var template = await h.EnsureTemplateAsync("arm64");
        var dryRun = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.Ec2.RunInstancesAsync(new RunInstancesRequest
        {
            DryRun = true,
            MinCount = 1,
            MaxCount = 1,
            InstanceType = "m6g.large",
            LaunchTemplate = new LaunchTemplateSpecification { LaunchTemplateName = template },
        }));
        Assert.Equal("DryRunOperation", dryRun.ErrorCode);
        Assert.Empty(h.Emulator.World.Instances());

        var mismatch = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.Ec2.RunInstancesAsync(new RunInstancesRequest
        {
            MinCount = 1,
            MaxCount = 1,
            InstanceType = "m5.large",
            LaunchTemplate = new LaunchTemplateSpecification { LaunchTemplateName = template },
        }));
        Assert.Equal("InvalidParameterValue", mismatch.ErrorCode);

        var launched = await h.Ec2.RunInstancesAsync(new RunInstancesRequest
        {
            MinCount = 2,
            MaxCount = 2,
            InstanceType = "m6g.large",
            LaunchTemplate = new LaunchTemplateSpecification { LaunchTemplateName = template },
            InstanceMarketOptions = new InstanceMarketOptionsRequest { MarketType = MarketType.Spot },
        });
        Assert.Equal(2, launched.Reservation.Instances.Count);
        Assert.All(launched.Reservation.Instances, i => Assert.Equal("arm64", i.Architecture.Value));
        Assert.All(h.Emulator.World.Instances(), i => Assert.Equal(("spot", EmulatorHarness.UserData), (i.CapacityType, i.UserData)));
    }

    [Fact]
    public async Task Invalid_options_are_refused_at_start_with_every_problem_named()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => AwsEmulator.StartAsync(new AwsEmulatorOptions
        {
            Region = "Mars-1",
            AccountId = "42",
            InstanceTypeCatalogPath = "/no/such/catalog.json",
        }));
        Assert.Contains("Region 'Mars-1'", error.Message, StringComparison.Ordinal);
        Assert.Contains("AccountId '42'", error.Message, StringComparison.Ordinal);
        Assert.Contains("/no/such/catalog.json", error.Message, StringComparison.Ordinal);
    }

    [RequiresSharedDataFact("aws/instance-types.json")]
    public async Task The_full_catalog_file_can_replace_the_embedded_one()
    {
        var path = RequiresSharedDataFactAttribute.Find("aws/instance-types.json")!;
        var catalog = InstanceTypeCatalog.FromFile(path);
        Assert.True(catalog.Types.Count > 1300, $"{catalog.Types.Count} types loaded");
        Assert.All(catalog.Types, t => Assert.True(t.Architecture is "x86_64" or "arm64", t.Name));

        await using var h = await EmulatorHarness.StartAsync(o => o.InstanceTypeCatalogPath = path);
        var count = 0;
        await foreach (var _ in h.Ec2.Paginators.DescribeInstanceTypes(new DescribeInstanceTypesRequest { MaxResults = 100 }).InstanceTypes)
        {
            count++;
        }

        Assert.Equal(catalog.Types.Count, count);
        var p5 = (await h.Ec2.DescribeInstanceTypesAsync(new DescribeInstanceTypesRequest { InstanceTypes = ["p5.48xlarge"] })).InstanceTypes.Single();
        Assert.Equal(8, p5.GpuInfo.Gpus.Single().Count);
    }

    [Fact]
    public void The_embedded_catalog_rows_are_consistent()
    {
        var catalog = InstanceTypeCatalog.Embedded();
        Assert.All(catalog.Types, t =>
        {
            Assert.True(t.VCpus > 0 && t.MemoryMiB > 0 && t.MaxNetworkInterfaces >= 2 && t.Ipv4AddressesPerInterface >= 2, t.Name);
            Assert.True(t.OnDemandPrice > 0, t.Name);
            Assert.Equal(t.Family is "m6g" or "m7g" or "c6g" or "c7g" or "r6g" or "r7g" ? "arm64" : "x86_64", t.Architecture);
        });
        Assert.Equal(0.096, catalog.Find("m5.large")!.OnDemandPrice);
        Assert.Equal(4, catalog.Find("g5.12xlarge")!.GpuCount);
        Assert.Equal(12, catalog.Find("inf2.48xlarge")!.AcceleratorCount);
    }
}

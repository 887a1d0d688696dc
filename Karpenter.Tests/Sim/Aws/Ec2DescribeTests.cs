using System.Net;
using Amazon.EC2;
using Amazon.EC2.Model;
using Karpenter.Sim.Aws.Catalog;

namespace Karpenter.Tests.Sim.Aws;

/// <summary>The read-only EC2 calls Karpenter makes, through the real AWSSDK.EC2 client.</summary>
public sealed class Ec2DescribeTests
{
    // Not a constant: the SDK's analyzer refuses a literal above the documented maximum at compile time.
    private static readonly int OneTooMany = 101;

    [Fact]
    public async Task Instance_types_page_through_the_whole_embedded_catalog_100_at_a_time()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var pages = 0;
        var names = new List<string>();
        await foreach (var page in h.Ec2.Paginators.DescribeInstanceTypes(new DescribeInstanceTypesRequest
        {
            MaxResults = 100,
            Filters = [new Filter("supported-virtualization-type", ["hvm"]), new Filter("processor-info.supported-architecture", ["x86_64", "arm64"])],
        }).Responses)
        {
            pages++;
            names.AddRange(page.InstanceTypes.Select(t => t.InstanceType.Value));
        }

        var catalog = InstanceTypeCatalog.Embedded();
        Assert.Equal(catalog.Types.Count, names.Count);
        Assert.Equal((catalog.Types.Count + 99) / 100, pages);
        Assert.Equal(names.Count, names.Distinct().Count());
        foreach (var family in new[] { "t3", "t3a", "m5", "m6i", "m7i", "m6a", "c5", "c6i", "c7i", "r5", "r6i", "m6g", "m7g", "c6g", "c7g", "r6g", "r7g", "g4dn", "g5", "inf2" })
        {
            Assert.Contains(names, n => n.StartsWith(family + ".", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Instance_type_facts_match_AWS_for_well_known_types()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var response = await h.Ec2.DescribeInstanceTypesAsync(new DescribeInstanceTypesRequest { InstanceTypes = ["m5.large", "m6g.xlarge", "g4dn.xlarge", "inf2.xlarge", "t3.micro"] });
        var types = response.InstanceTypes.ToDictionary(t => t.InstanceType.Value);

        var m5 = types["m5.large"];
        Assert.Equal(2, m5.VCpuInfo.DefaultVCpus);
        Assert.Equal(8192, m5.MemoryInfo.SizeInMiB);
        Assert.Equal(3, m5.NetworkInfo.MaximumNetworkInterfaces);
        Assert.Equal(10, m5.NetworkInfo.Ipv4AddressesPerInterface);
        Assert.Equal("nitro", m5.Hypervisor.Value);
        Assert.Equal(["x86_64"], m5.ProcessorInfo.SupportedArchitectures);

        Assert.Equal(["arm64"], types["m6g.xlarge"].ProcessorInfo.SupportedArchitectures);
        Assert.Equal("AWS", types["m6g.xlarge"].ProcessorInfo.Manufacturer);

        var gpu = Assert.Single(types["g4dn.xlarge"].GpuInfo.Gpus);
        Assert.Equal(("T4", "NVIDIA", 1, 16384), (gpu.Name, gpu.Manufacturer, gpu.Count!.Value, gpu.MemoryInfo.SizeInMiB!.Value));
        Assert.Equal("Inferentia2", Assert.Single(types["inf2.xlarge"].NeuronInfo.NeuronDevices).Name);
        Assert.True(types["t3.micro"].BurstablePerformanceSupported);
        Assert.Null(m5.GpuInfo);
    }

    [Fact]
    public async Task Unknown_instance_types_are_refused_with_InvalidInstanceType()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var error = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.Ec2.DescribeInstanceTypesAsync(new DescribeInstanceTypesRequest { InstanceTypes = ["m5.huge"] }));
        Assert.Equal("InvalidInstanceType", error.ErrorCode);
    }

    [Fact]
    public async Task MaxResults_outside_the_documented_range_is_refused()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var error = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.Ec2.DescribeInstanceTypesAsync(new DescribeInstanceTypesRequest { MaxResults = OneTooMany }));
        Assert.Equal("InvalidParameterValue", error.ErrorCode);
        Assert.Contains("between 5 and 100", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Offerings_list_every_zone_and_the_third_zone_lacks_metal_and_inferentia()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var offerings = new List<InstanceTypeOffering>();
        await foreach (var o in h.Ec2.Paginators.DescribeInstanceTypeOfferings(new DescribeInstanceTypeOfferingsRequest
        {
            LocationType = LocationType.AvailabilityZone,
            MaxResults = 1000,
        }).InstanceTypeOfferings)
        {
            offerings.Add(o);
        }

        Assert.Equal(["us-east-1a", "us-east-1b", "us-east-1c"], offerings.Select(o => o.Location).Distinct().Order());
        Assert.Contains(offerings, o => o.InstanceType == "m5.large" && o.Location == "us-east-1c");
        Assert.DoesNotContain(offerings, o => o.InstanceType == "inf2.xlarge" && o.Location == "us-east-1c");
        Assert.DoesNotContain(offerings, o => o.InstanceType == "m5.metal" && o.Location == "us-east-1c");
        Assert.Contains(offerings, o => o.InstanceType == "inf2.xlarge" && o.Location == "us-east-1a");
    }

    [Fact]
    public async Task Spot_prices_are_below_on_demand_for_every_offered_pool()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var prices = new List<SpotPrice>();
        await foreach (var p in h.Ec2.Paginators.DescribeSpotPriceHistory(new DescribeSpotPriceHistoryRequest
        {
            ProductDescriptions = ["Linux/UNIX", "Linux/UNIX (Amazon VPC)"],
            StartTime = h.Clock.GetUtcNow().UtcDateTime,
            MaxResults = 1000,
        }).SpotPriceHistory)
        {
            prices.Add(p);
        }

        var catalog = InstanceTypeCatalog.Embedded();
        Assert.NotEmpty(prices);
        foreach (var price in prices)
        {
            var onDemand = catalog.Find(price.InstanceType.Value)!.OnDemandPrice!.Value;
            var spot = double.Parse(price.Price, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(spot, onDemand * 0.19, onDemand * 0.46);
        }

        h.Emulator.World.SetSpotPrice("m5.large", "us-east-1a", 0.5);
        var latest = await h.Ec2.DescribeSpotPriceHistoryAsync(new DescribeSpotPriceHistoryRequest
        {
            InstanceTypes = ["m5.large"],
            AvailabilityZone = "us-east-1a",
            ProductDescriptions = ["Linux/UNIX"],
            StartTime = h.Clock.GetUtcNow().UtcDateTime,
        });
        Assert.Equal("0.500000", Assert.Single(latest.SpotPriceHistory).Price);
    }

    [Fact]
    public async Task Subnets_match_tag_filters_with_wildcards_and_report_free_addresses_per_zone()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var discovered = (await h.Ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest
        {
            Filters = [new Filter("tag:karpenter.sh/discovery", ["test-*"])],
            MaxResults = 500,
        })).Subnets;
        Assert.Equal(3, discovered.Count);
        Assert.Equal(["us-east-1a", "us-east-1b", "us-east-1c"], discovered.Select(s => s.AvailabilityZone).Order());
        Assert.All(discovered, s => Assert.Equal(8187, s.AvailableIpAddressCount));
        Assert.All(discovered, s => Assert.StartsWith("use1-az", s.AvailabilityZoneId, StringComparison.Ordinal));

        var byKey = (await h.Ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest { Filters = [new Filter("tag-key", ["kubernetes.io/role/elb"])] })).Subnets;
        Assert.Equal(3, byKey.Count);
        Assert.DoesNotContain(byKey, s => discovered.Any(d => d.SubnetId == s.SubnetId));

        var both = (await h.Ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest
        {
            Filters = [new Filter("tag-key", ["karpenter.sh/discovery"]), new Filter("tag-key", ["kubernetes.io/role/elb"])],
        })).Subnets;
        Assert.True(both is null || both.Count == 0, "subnets carry both tag keys only if the AND of repeated filters is broken");

        var missing = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.Ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest { SubnetIds = ["subnet-0123456789abcdef0"] }));
        Assert.Equal("InvalidSubnetID.NotFound", missing.ErrorCode);
    }

    [Fact]
    public async Task Security_groups_match_by_tag_name_and_id()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var tagged = (await h.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { Filters = [new Filter("tag:karpenter.sh/discovery", ["test-cluster"])] })).SecurityGroups;
        var group = Assert.Single(tagged);
        Assert.Equal("test-cluster-node", group.GroupName);

        var byName = (await h.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { Filters = [new Filter("group-name", ["eks-cluster-sg-*"])] })).SecurityGroups;
        Assert.Equal("test-cluster", Assert.Single(byName).Tags.Single(t => t.Key == "aws:eks:cluster-name").Value);

        var byId = (await h.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { Filters = [new Filter("group-id", [group.GroupId])] })).SecurityGroups;
        Assert.Equal(group.GroupId, Assert.Single(byId).GroupId);

        var unknownFilter = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { Filters = [new Filter("colour", ["blue"])] }));
        Assert.Equal("InvalidParameterValue", unknownFilter.ErrorCode);
    }

    [Fact]
    public async Task Images_are_found_by_name_wildcard_owner_and_tag()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var al2023 = (await h.Ec2.DescribeImagesAsync(new DescribeImagesRequest
        {
            Owners = ["amazon"],
            IncludeDeprecated = true,
            Filters = [new Filter("name", ["amazon-eks-node-al2023-arm64-standard-1.33-*"]), new Filter("state", ["available"])],
        })).Images;
        Assert.Equal(2, al2023.Count);
        Assert.All(al2023, i => Assert.Equal("arm64", i.Architecture.Value));

        var own = (await h.Ec2.DescribeImagesAsync(new DescribeImagesRequest { Owners = ["self"], Filters = [new Filter("tag:karpenter.sh/discovery", ["test-cluster"])] })).Images;
        Assert.Equal(["arm64", "x86_64"], own.Select(i => i.Architecture.Value).Order());

        var windows = (await h.Ec2.DescribeImagesAsync(new DescribeImagesRequest { Filters = [new Filter("platform", ["windows"]), new Filter("name", ["Windows_Server-2022-*-1.33-*"])] })).Images;
        Assert.Equal(2, windows.Count);

        var missing = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.Ec2.DescribeImagesAsync(new DescribeImagesRequest { ImageIds = ["ami-00000000000000000"] }));
        Assert.Equal("InvalidAMIID.NotFound", missing.ErrorCode);
    }

    [Fact]
    public async Task Three_zones_are_available()
    {
        await using var h = await EmulatorHarness.StartAsync(o => o.Region = "eu-central-1");
        var zones = (await h.Ec2.DescribeAvailabilityZonesAsync(new DescribeAvailabilityZonesRequest())).AvailabilityZones;
        Assert.Equal(["eu-central-1a", "eu-central-1b", "eu-central-1c"], zones.Select(z => z.ZoneName));
        Assert.All(zones, z => Assert.StartsWith("euc1-az", z.ZoneId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DryRun_answers_DryRunOperation()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var error = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.Ec2.DescribeInstanceTypesAsync(new DescribeInstanceTypesRequest { DryRun = true }));
        Assert.Equal("DryRunOperation", error.ErrorCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, error.StatusCode);
    }

    [Fact]
    public async Task Unsigned_requests_are_refused_with_MissingAuthenticationToken()
    {
        await using var h = await EmulatorHarness.StartAsync();
        using var http = new HttpClient { BaseAddress = h.Emulator.ServiceUrl };
        using var form = new FormUrlEncodedContent([new("Action", "DescribeInstances"), new("Version", "2016-11-15")]);
        using var response = await http.PostAsync(new Uri("/", UriKind.Relative), form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("<Code>MissingAuthenticationToken</Code>", body, StringComparison.Ordinal);
        Assert.StartsWith("<?xml", body, StringComparison.Ordinal);
    }
}

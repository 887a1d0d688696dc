using System.Globalization;
using System.Xml.Linq;
using Karpenter.Sim.Aws.Catalog;
using Karpenter.Sim.Aws.Protocol;
using Karpenter.Sim.Aws.World;
using static Karpenter.Sim.Aws.Protocol.Xml;

namespace Karpenter.Sim.Aws.Ec2;

/// <summary>The read-only calls: zones, instance types and offerings, spot prices, network and images.</summary>
internal sealed partial class Ec2Api
{
    private XElement DescribeAvailabilityZones(ApiRequest r)
    {
        var q = r.Query;
        var filters = q.Filters();
        var zones = Filtering.Apply(World.ZoneList, filters).ToList();
        var names = q.List("ZoneName");
        var ids = q.List("ZoneId");
        if (names.Count > 0 || ids.Count > 0)
        {
            foreach (var name in names.Where(n => World.ZoneList.All(z => z.Name != n)))
            {
                throw new AwsServiceException("InvalidParameterValue", $"The zone '{name}' does not exist.");
            }

            zones = zones.Where(z => names.Contains(z.Name) || ids.Contains(z.ZoneId)).ToList();
        }

        return Response("DescribeAvailabilityZones", Set("availabilityZoneInfo", zones.Select(z => Node("item",
            E("zoneName", z.Name), E("zoneId", z.ZoneId), E("zoneState", "available"), E("optInStatus", "opt-in-not-required"),
            new XElement("messageSet"), E("regionName", z.Region), E("groupName", z.Region), E("networkBorderGroup", z.Region),
            E("zoneType", "availability-zone")))));
    }

    private sealed class TypeView(InstanceTypeInfo type) : IFilterable
    {
        public InstanceTypeInfo Type { get; } = type;

        public IReadOnlyDictionary<string, string> Tags { get; } = new Dictionary<string, string>();

        public IEnumerable<string>? FilterValues(string name) => name switch
        {
            "instance-type" => [Type.Name],
            "processor-info.supported-architecture" => [Type.Architecture],
            "supported-virtualization-type" => ["hvm"],
            "supported-root-device-type" => ["ebs"],
            "supported-usage-class" => ["on-demand", "spot"],
            "current-generation" => ["true"],
            "free-tier-eligible" => [Type.Name is "t3.micro" or "t2.micro" ? "true" : "false"],
            "bare-metal" => [Type.BareMetal ? "true" : "false"],
            "hypervisor" => Type.Hypervisor.Length == 0 ? [] : [Type.Hypervisor],
            "burstable-performance-supported" => [Type.Burstable ? "true" : "false"],
            "vcpu-info.default-vcpus" => [Type.VCpus.ToString(CultureInfo.InvariantCulture)],
            "memory-info.size-in-mib" => [Type.MemoryMiB.ToString(CultureInfo.InvariantCulture)],
            "processor-info.manufacturer" => [Manufacturer(Type.CpuManufacturer)],
            "instance-storage-supported" => [Type.LocalNvmeGb > 0 ? "true" : "false"],
            "network-info.maximum-network-interfaces" => [Type.MaxNetworkInterfaces.ToString(CultureInfo.InvariantCulture)],
            "network-info.ipv4-addresses-per-interface" => [Type.Ipv4AddressesPerInterface.ToString(CultureInfo.InvariantCulture)],
            "network-info.ipv6-supported" => ["true"],
            "network-info.efa-supported" => ["false"],
            _ => null,
        };
    }

    private XElement DescribeInstanceTypes(ApiRequest r)
    {
        var q = r.Query;
        var names = q.List("InstanceType");
        var unknown = names.Where(n => World.Catalog.Find(n) is null).ToList();
        if (unknown.Count > 0)
        {
            throw new AwsServiceException("InvalidInstanceType", $"The following supplied instance types do not exist: [{string.Join(", ", unknown)}]");
        }

        IEnumerable<TypeView> types = World.Catalog.Types.Select(t => new TypeView(t));
        if (names.Count > 0)
        {
            types = types.Where(t => names.Contains(t.Type.Name));
        }

        var matched = Filtering.Apply(types, q.Filters()).ToList();
        var (page, next) = Paging.Page(matched, q, "DescribeInstanceTypes", 5, 100, 100);
        return Response("DescribeInstanceTypes", Set("instanceTypeSet", page.Select(t => InstanceTypeXml(t.Type))), E("nextToken", next));
    }

    private static string Manufacturer(string lower) => lower switch
    {
        "intel" => "Intel",
        "amd" => "AMD",
        "aws" => "AWS",
        "nvidia" => "NVIDIA",
        _ => lower,
    };

    private static XElement InstanceTypeXml(InstanceTypeInfo t)
    {
        var threads = t.CpuManufacturer == "aws" ? 1 : 2;
        var cores = Math.Max(1, t.VCpus / threads);
        var network = t.NetworkBaselineGbps >= 10 ? $"{t.NetworkBaselineGbps:0.#} Gigabit" : "Up to 10 Gigabit";
        var peak = Math.Max(t.NetworkBaselineGbps, t.NetworkBaselineGbps >= 10 ? t.NetworkBaselineGbps : 10);
        return Node("item",
            E("instanceType", t.Name),
            E("currentGeneration", true),
            E("freeTierEligible", t.Name == "t3.micro"),
            ValueSet("supportedUsageClasses", ["on-demand", "spot"]),
            ValueSet("supportedRootDeviceTypes", ["ebs"]),
            ValueSet("supportedVirtualizationTypes", ["hvm"]),
            E("bareMetal", t.BareMetal),
            t.Hypervisor.Length > 0 ? E("hypervisor", t.Hypervisor) : null,
            Node("processorInfo", ValueSet("supportedArchitectures", [t.Architecture]),
                t.ClockSpeedGhz > 0 ? E("sustainedClockSpeedInGhz", t.ClockSpeedGhz) : null,
                E("manufacturer", Manufacturer(t.CpuManufacturer))),
            Node("vCpuInfo", E("defaultVCpus", t.VCpus), E("defaultCores", cores), E("defaultThreadsPerCore", threads)),
            Node("memoryInfo", E("sizeInMiB", t.MemoryMiB)),
            E("instanceStorageSupported", t.LocalNvmeGb > 0),
            t.LocalNvmeGb > 0
                ? Node("instanceStorageInfo", E("totalSizeInGB", t.LocalNvmeGb),
                    Set("disks", [Node("item", E("sizeInGB", t.LocalNvmeGb), E("count", 1), E("type", "ssd"))]),
                    E("nvmeSupport", "required"), E("encryptionSupport", "required"))
                : null,
            Node("ebsInfo", E("ebsOptimizedSupport", "default"), E("encryptionSupport", "supported"),
                t.EbsBaselineMbps > 0 ? Node("ebsOptimizedInfo", E("baselineBandwidthInMbps", t.EbsBaselineMbps), E("maximumBandwidthInMbps", Math.Max(t.EbsBaselineMbps, 4750))) : null,
                E("nvmeSupport", "required")),
            Node("networkInfo",
                E("networkPerformance", network),
                E("maximumNetworkInterfaces", t.MaxNetworkInterfaces * t.NetworkCards),
                E("maximumNetworkCards", t.NetworkCards),
                E("defaultNetworkCardIndex", 0),
                Set("networkCards", Enumerable.Range(0, t.NetworkCards).Select(i => Node("item",
                    E("networkCardIndex", i), E("networkPerformance", network), E("maximumNetworkInterfaces", t.MaxNetworkInterfaces),
                    E("baselineBandwidthInGbps", t.NetworkBaselineGbps), E("peakBandwidthInGbps", peak)))),
                E("ipv4AddressesPerInterface", t.Ipv4AddressesPerInterface),
                E("ipv6AddressesPerInterface", t.Ipv4AddressesPerInterface),
                E("ipv6Supported", true),
                E("enaSupport", "required"),
                E("efaSupported", false),
                E("encryptionInTransitSupported", t.Hypervisor == "nitro" && !t.Burstable),
                E("enaSrdSupported", false)),
            t.GpuCount > 0
                ? Node("gpuInfo", Set("gpus", [Node("item", E("name", t.GpuName), E("manufacturer", Manufacturer(t.GpuManufacturer ?? "")),
                    E("count", t.GpuCount), Node("memoryInfo", E("sizeInMiB", t.GpuMemoryMiB)))]), E("totalGpuMemoryInMiB", t.GpuMemoryMiB * t.GpuCount))
                : null,
            t.AcceleratorCount > 0 && t.AcceleratorName is "Inferentia" or "Inferentia2" or "Trainium" or "Trainium2"
                ? Node("neuronInfo", Set("neuronDevices", [Node("item", E("count", t.AcceleratorCount), E("name", t.AcceleratorName),
                    Node("coreInfo", E("count", 2), E("version", t.AcceleratorName.EndsWith('2') ? 2 : 1)), Node("memoryInfo", E("sizeInMiB", 32768)))]),
                    E("totalNeuronDeviceMemoryInMiB", 32768 * t.AcceleratorCount))
                : null,
            Node("placementGroupInfo", ValueSet("supportedStrategies", ["cluster", "partition", "spread"])),
            E("hibernationSupported", !t.BareMetal),
            E("burstablePerformanceSupported", t.Burstable),
            E("dedicatedHostsSupported", !t.Burstable),
            E("autoRecoverySupported", true),
            ValueSet("supportedBootModes", t.Architecture == "arm64" ? ["uefi"] : ["legacy-bios", "uefi"]),
            E("nitroEnclavesSupport", t.VCpus >= 4 && !t.Burstable ? "supported" : "unsupported"),
            E("nitroTpmSupport", t.Hypervisor == "nitro" ? "supported" : "unsupported"));
    }

    private sealed record Offering(string InstanceType, string Location, string LocationType) : IFilterable
    {
        public IReadOnlyDictionary<string, string> Tags { get; } = new Dictionary<string, string>();

        public IEnumerable<string>? FilterValues(string name) => name switch
        {
            "instance-type" => [InstanceType],
            "location" => [Location],
            _ => null,
        };
    }

    private XElement DescribeInstanceTypeOfferings(ApiRequest r)
    {
        var q = r.Query;
        var locationType = q["LocationType"] ?? "region";
        var offerings = new List<Offering>();
        foreach (var type in World.Catalog.Types)
        {
            var zones = World.ZoneList.Where(z => World.IsOffered(type, z)).ToList();
            switch (locationType)
            {
                case "region":
                    if (zones.Count > 0)
                    {
                        offerings.Add(new Offering(type.Name, World.Region, locationType));
                    }

                    break;
                case "availability-zone":
                    offerings.AddRange(zones.Select(z => new Offering(type.Name, z.Name, locationType)));
                    break;
                case "availability-zone-id":
                    offerings.AddRange(zones.Select(z => new Offering(type.Name, z.ZoneId, locationType)));
                    break;
                default:
                    throw AwsServiceException.InvalidParameterValue(
                        $"Value ({locationType}) for parameter locationType is invalid. Valid values: region, availability-zone, availability-zone-id, outpost");
            }
        }

        var matched = Filtering.Apply(offerings, q.Filters()).ToList();
        var (page, next) = Paging.Page(matched, q, "DescribeInstanceTypeOfferings", 5, 1000, 1000);
        return Response("DescribeInstanceTypeOfferings",
            Set("instanceTypeOfferingSet", page.Select(o => Node("item", E("instanceType", o.InstanceType), E("locationType", o.LocationType), E("location", o.Location)))),
            E("nextToken", next));
    }

    private sealed record SpotPriceView(string InstanceType, string Zone, string ProductDescription, double Price, DateTimeOffset Timestamp) : IFilterable
    {
        public IReadOnlyDictionary<string, string> Tags { get; } = new Dictionary<string, string>();

        public IEnumerable<string>? FilterValues(string name) => name switch
        {
            "instance-type" => [InstanceType],
            "availability-zone" => [Zone],
            "product-description" => [ProductDescription],
            "spot-price" => [AwsWorld.Format(Price)],
            "timestamp" => [Xml.Timestamp(Timestamp)],
            _ => null,
        };
    }

    private static readonly string[] ProductDescriptions = ["Linux/UNIX", "Linux/UNIX (Amazon VPC)"];

    private XElement DescribeSpotPriceHistory(ApiRequest r)
    {
        var q = r.Query;
        var start = q.Time("StartTime");
        var end = q.Time("EndTime");
        if (start is { } s && end is { } e && e < s)
        {
            throw AwsServiceException.InvalidParameterValue("The end time must be later than the start time.");
        }

        var types = q.List("InstanceType");
        var descriptions = q.List("ProductDescription");
        var zone = q["AvailabilityZone"];
        var rows = World.SpotPriceHistory(start, end)
            .Where(p => types.Count == 0 || types.Contains(p.InstanceType))
            .Where(p => zone is null || p.Zone == zone)
            .SelectMany(p => ProductDescriptions
                .Where(d => descriptions.Count == 0 || descriptions.Contains(d))
                .Select(d => new SpotPriceView(p.InstanceType, p.Zone, d, p.Price, p.Time)))
            .ToList();
        var matched = Filtering.Apply(rows, q.Filters()).OrderByDescending(p => p.Timestamp).ToList();
        var (page, next) = Paging.Page(matched, q, "DescribeSpotPriceHistory", 1, int.MaxValue, 1000);
        return Response("DescribeSpotPriceHistory",
            Set("spotPriceHistorySet", page.Select(p => Node("item", E("instanceType", p.InstanceType), E("productDescription", p.ProductDescription),
                E("spotPrice", p.Price.ToString("0.000000", CultureInfo.InvariantCulture)), E("timestamp", p.Timestamp), E("availabilityZone", p.Zone)))),
            E("nextToken", next ?? ""));
    }

    private XElement DescribeVpcs(ApiRequest r)
    {
        var vpcs = Filtering.Apply(new[] { World.MainVpc }, r.Query.Filters()).ToList();
        var ids = r.Query.List("VpcId");
        foreach (var id in ids.Where(id => id != World.MainVpc.Id))
        {
            throw new AwsServiceException("InvalidVpcID.NotFound", $"The vpc ID '{id}' does not exist");
        }

        return Response("DescribeVpcs", Set("vpcSet", vpcs.Select(v => Node("item",
            E("vpcId", v.Id), E("ownerId", World.AccountId), E("state", "available"), E("cidrBlock", v.CidrBlock),
            E("dhcpOptionsId", "default"), E("instanceTenancy", "default"), E("isDefault", false), TagSet(v.Tags)))));
    }

    private XElement DescribeSubnets(ApiRequest r)
    {
        var q = r.Query;
        var ids = ValidatedIds(q.List("SubnetId"), "subnet", "InvalidSubnetID.Malformed");
        var missing = ids.Where(id => World.SubnetList.All(s => s.Id != id)).ToList();
        if (missing.Count > 0)
        {
            throw new AwsServiceException("InvalidSubnetID.NotFound", $"The subnet ID '{string.Join(", ", missing)}' does not exist");
        }

        IEnumerable<Subnet> subnets = World.SubnetList;
        if (ids.Count > 0)
        {
            subnets = subnets.Where(s => ids.Contains(s.Id));
        }

        var matched = Filtering.Apply(subnets, q.Filters()).ToList();
        var (page, next) = Paging.Page(matched, q, "DescribeSubnets", 5, 1000);
        return Response("DescribeSubnets", Set("subnetSet", page.Select(s => Node("item",
            E("subnetId", s.Id), E("subnetArn", $"arn:aws:ec2:{World.Region}:{World.AccountId}:subnet/{s.Id}"), E("state", "available"),
            E("vpcId", s.Vpc.Id), E("ownerId", World.AccountId), E("cidrBlock", s.CidrBlock), new XElement("ipv6CidrBlockAssociationSet"),
            E("availableIpAddressCount", s.AvailableAddresses), E("availabilityZone", s.Zone.Name), E("availabilityZoneId", s.Zone.ZoneId),
            E("defaultForAz", false), E("mapPublicIpOnLaunch", s.MapPublicIpOnLaunch), E("assignIpv6AddressOnCreation", false),
            E("ipv6Native", false), TagSet(s.Tags)))), E("nextToken", next));
    }

    private XElement DescribeSecurityGroups(ApiRequest r)
    {
        var q = r.Query;
        var ids = ValidatedIds(q.List("GroupId"), "sg", "InvalidGroupId.Malformed");
        var names = q.List("GroupName");
        foreach (var id in ids.Where(id => World.SecurityGroupList.All(g => g.Id != id)))
        {
            throw new AwsServiceException("InvalidGroup.NotFound", $"The security group '{id}' does not exist");
        }

        foreach (var name in names.Where(n => World.SecurityGroupList.All(g => g.Name != n)))
        {
            throw new AwsServiceException("InvalidGroup.NotFound", $"The security group '{name}' does not exist in default VPC 'none'");
        }

        if ((ids.Count > 0 || names.Count > 0) && q.Has("MaxResults"))
        {
            throw new AwsServiceException("InvalidParameterCombination", "The parameter groupIds cannot be used with the parameter maxResults");
        }

        IEnumerable<SecurityGroup> groups = World.SecurityGroupList;
        if (ids.Count > 0 || names.Count > 0)
        {
            groups = groups.Where(g => ids.Contains(g.Id) || names.Contains(g.Name));
        }

        var matched = Filtering.Apply(groups, q.Filters()).ToList();
        var (page, next) = Paging.Page(matched, q, "DescribeSecurityGroups", 5, 1000);
        return Response("DescribeSecurityGroups", Set("securityGroupInfo", page.Select(g => Node("item",
            E("ownerId", World.AccountId), E("groupId", g.Id), E("groupName", g.Name), E("groupDescription", g.Description),
            E("vpcId", g.Vpc.Id), E("securityGroupArn", $"arn:aws:ec2:{World.Region}:{World.AccountId}:security-group/{g.Id}"),
            new XElement("ipPermissions"),
            Set("ipPermissionsEgress", [Node("item", E("ipProtocol", "-1"), new XElement("groups"),
                Set("ipRanges", [Node("item", E("cidrIp", "0.0.0.0/0"))]), new XElement("ipv6Ranges"), new XElement("prefixListIds"))]),
            TagSet(g.Tags)))), E("nextToken", next));
    }

    private XElement DescribeImages(ApiRequest r)
    {
        var q = r.Query;
        var ids = ValidatedIds(q.List("ImageId"), "ami", "InvalidAMIID.Malformed");
        var missing = ids.Where(id => World.ImageList.All(i => i.Id != id)).ToList();
        if (missing.Count > 0)
        {
            throw new AwsServiceException("InvalidAMIID.NotFound", $"The image id '[{string.Join(", ", missing)}]' does not exist");
        }

        var owners = q.List("Owner");
        var includeDeprecated = q.Bool("IncludeDeprecated") || ids.Count > 0;
        var now = World.Now;
        IEnumerable<Image> images = World.ImageList;
        if (ids.Count > 0)
        {
            images = images.Where(i => ids.Contains(i.Id));
        }
        else
        {
            // Without ids, EC2 lists the images one may launch: public ones and the account's own.
            images = images.Where(i => i.IsPublic || i.OwnerId == World.AccountId);
        }

        if (owners.Count > 0)
        {
            images = images.Where(i => owners.Any(o => o switch
            {
                "self" => i.OwnerId == World.AccountId,
                "amazon" or "aws-marketplace" or "aws-backup-vault" => i.OwnerAlias == o,
                _ => i.OwnerId == o,
            }));
        }

        if (!includeDeprecated)
        {
            images = images.Where(i => !i.IsDeprecated(now));
        }

        var matched = Filtering.Apply(images, q.Filters()).ToList();
        var (page, next) = Paging.Page(matched, q, "DescribeImages", 5, 1000);
        return Response("DescribeImages", Set("imagesSet", page.Select(ImageXml)), E("nextToken", next));
    }

    private static XElement ImageXml(Image i) => Node("item",
        E("imageId", i.Id),
        E("imageLocation", $"{i.OwnerAlias ?? i.OwnerId}/{i.Name}"),
        E("imageState", "available"),
        E("imageOwnerId", i.OwnerId),
        E("creationDate", i.CreationDate),
        E("isPublic", i.IsPublic),
        E("architecture", i.Architecture),
        E("imageType", "machine"),
        E("platform", i.Platform),
        E("platformDetails", i.Platform == "windows" ? "Windows" : "Linux/UNIX"),
        E("usageOperation", i.Platform == "windows" ? "RunInstances:0002" : "RunInstances"),
        E("imageOwnerAlias", i.OwnerAlias),
        E("name", i.Name),
        E("description", i.Description),
        E("rootDeviceType", "ebs"),
        E("rootDeviceName", i.RootDeviceName),
        Set("blockDeviceMapping", [Node("item", E("deviceName", i.RootDeviceName),
            Node("ebs", E("snapshotId", "snap-" + i.Id[4..]), E("volumeSize", i.Platform == "windows" ? 50 : 20), E("deleteOnTermination", true), E("volumeType", "gp3"), E("encrypted", false)))]),
        E("virtualizationType", "hvm"),
        E("hypervisor", "xen"),
        E("enaSupport", true),
        E("sriovNetSupport", "simple"),
        E("bootMode", i.Architecture == "arm64" ? "uefi" : "uefi-preferred"),
        E("deprecationTime", i.DeprecationTime),
        i.Tags.Count > 0 ? TagSet(i.Tags) : null);
}

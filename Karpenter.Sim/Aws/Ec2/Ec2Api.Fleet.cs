using System.Globalization;
using System.Xml.Linq;
using Karpenter.Sim.Aws.Catalog;
using Karpenter.Sim.Aws.Protocol;
using Karpenter.Sim.Aws.World;
using static Karpenter.Sim.Aws.Protocol.Xml;

namespace Karpenter.Sim.Aws.Ec2;

/// <summary>
/// CreateFleet (type <c>instant</c>) and RunInstances. A fleet tries its overrides in the order its allocation
/// strategy ranks them and reports, per override, every pool it could not launch in that ranked before the one it
/// used (or all of them when it launched nothing) in <c>errorSet</c>, which is what Karpenter's
/// insufficient-capacity cache learns from.
/// </summary>
/// <remarks>
/// Strategies: <c>lowest-price</c> takes the cheapest available pool; <c>price-capacity-optimized</c> takes, among
/// available pools priced within 10% of the cheapest, the one with the most remaining capacity (then the cheapest);
/// <c>capacity-optimized</c> the most remaining capacity; <c>capacity-optimized-prioritized</c> and
/// <c>prioritized</c> the lowest <c>Priority</c>; <c>diversified</c> the pool with the fewest instances of this
/// fleet. Overrides without a subnet use the subnet of their zone with the most free addresses.
/// </remarks>
internal sealed partial class Ec2Api
{
    private static readonly string[] SpotStrategies = ["lowest-price", "diversified", "capacity-optimized", "capacity-optimized-prioritized", "price-capacity-optimized"];
    private static readonly string[] OnDemandStrategies = ["lowest-price", "prioritized"];

    private sealed class Candidate
    {
        public required int Index { get; init; }

        public string? TemplateId { get; set; }

        public string? TemplateName { get; set; }

        public string? Version { get; set; }

        public string? OverrideInstanceType { get; init; }

        public string? OverrideSubnetId { get; init; }

        public string? OverrideZone { get; init; }

        public string? OverrideImageId { get; init; }

        public double? Priority { get; init; }

        public double? MaxPrice { get; init; }

        public LaunchTemplate? Template { get; set; }

        public LaunchTemplateData? Data { get; set; }

        public InstanceTypeInfo? Type { get; set; }

        public Subnet? Subnet { get; set; }

        public string? ImageId { get; set; }

        public Image? Image { get; set; }

        public List<SecurityGroup> Groups { get; set; } = [];

        public InstanceProfile? Profile { get; set; }

        public (string Code, string Message)? ConfigError { get; set; }

        public HashSet<string> ReportedFor { get; } = new(StringComparer.Ordinal);

        public List<string> LaunchedIds { get; } = [];

        public string? LaunchedLifecycle { get; set; }
    }

    private sealed record FleetError(Candidate Candidate, string Lifecycle, string Code, string Message);

    private XElement CreateFleet(ApiRequest r)
    {
        var q = r.Query;
        var type = q["Type"] ?? "maintain";
        if (type != "instant")
        {
            throw new AwsServiceException("Unsupported", $"The fleet type '{type}' is not supported by this emulator; use 'instant'.");
        }

        var total = q.Int("TargetCapacitySpecification.TotalTargetCapacity") ?? throw AwsServiceException.MissingParameter("TargetCapacitySpecification.TotalTargetCapacity");
        if (total < 1)
        {
            throw AwsServiceException.InvalidParameterValue($"Value ({total}) for parameter TotalTargetCapacity is invalid. It must be at least 1.");
        }

        var defaultType = q["TargetCapacitySpecification.DefaultTargetCapacityType"] ?? CapacityTypes.OnDemand;
        if (!CapacityTypes.IsValid(defaultType))
        {
            throw AwsServiceException.InvalidParameterValue($"Value ({defaultType}) for parameter DefaultTargetCapacityType is invalid. Valid values: spot, on-demand, capacity-block");
        }

        var spotStrategy = q["SpotOptions.AllocationStrategy"] ?? "lowest-price";
        var onDemandStrategy = q["OnDemandOptions.AllocationStrategy"] ?? "lowest-price";
        if (!SpotStrategies.Contains(spotStrategy))
        {
            throw AwsServiceException.InvalidParameterValue($"Value ({spotStrategy}) for parameter SpotOptions.AllocationStrategy is invalid.");
        }

        if (!OnDemandStrategies.Contains(onDemandStrategy))
        {
            throw AwsServiceException.InvalidParameterValue($"Value ({onDemandStrategy}) for parameter OnDemandOptions.AllocationStrategy is invalid.");
        }

        var configs = q.Structs("LaunchTemplateConfigs");
        if (configs.Count == 0)
        {
            throw AwsServiceException.MissingParameter("LaunchTemplateConfigs");
        }

        var candidates = new List<Candidate>();
        foreach (var config in configs)
        {
            var spec = config.Struct("LaunchTemplateSpecification");
            var overrides = config.Structs("Overrides");
            if (overrides.Count == 0)
            {
                overrides = [new QueryParameters([])];
            }

            foreach (var o in overrides)
            {
                var candidate = new Candidate
                {
                    Index = candidates.Count,
                    TemplateId = spec["LaunchTemplateId"],
                    TemplateName = spec["LaunchTemplateName"],
                    Version = spec["Version"],
                    OverrideInstanceType = o["InstanceType"],
                    OverrideSubnetId = o["SubnetId"],
                    OverrideZone = o["AvailabilityZone"],
                    OverrideImageId = o["ImageId"],
                    Priority = o.Double("Priority"),
                    MaxPrice = o.Double("MaxPrice"),
                };
                Resolve(candidate);
                candidates.Add(candidate);
            }
        }

        var onDemandCount = q.Int("TargetCapacitySpecification.OnDemandTargetCapacity");
        var spotCount = q.Int("TargetCapacitySpecification.SpotTargetCapacity");
        if (defaultType == CapacityTypes.Spot)
        {
            onDemandCount ??= 0;
            spotCount = total - onDemandCount.Value;
        }
        else
        {
            spotCount ??= 0;
            onDemandCount = total - spotCount.Value;
        }

        var fleetId = "fleet-" + World.NewGuid();
        var fleetTags = TagsFor(q, "instance");
        var errors = new List<FleetError>();
        var reservation = World.NewId("r");
        if (onDemandCount > 0)
        {
            Allocate(candidates, CapacityTypes.OnDemand, onDemandCount.Value, onDemandStrategy, fleetTags, q["ClientToken"], fleetId, reservation, errors);
        }

        if (spotCount > 0)
        {
            Allocate(candidates, CapacityTypes.Spot, spotCount.Value, spotStrategy, fleetTags, q["ClientToken"], fleetId, reservation, errors);
        }

        if (candidates.Any(c => c.LaunchedIds.Count > 0) && World.Faults.TakeLaunchFailure())
        {
            throw FaultInjector.ServerError("ec2", 500);
        }

        return Response("CreateFleet",
            E("fleetId", fleetId),
            errors.Count > 0
                ? Set("errorSet", errors.Select(e => Node("item", LaunchTemplateAndOverrides(e.Candidate), E("lifecycle", e.Lifecycle),
                    E("errorCode", e.Code), E("errorMessage", e.Message))))
                : null,
            candidates.Any(c => c.LaunchedIds.Count > 0)
                ? Set("fleetInstanceSet", candidates.Where(c => c.LaunchedIds.Count > 0).Select(c => Node("item",
                    LaunchTemplateAndOverrides(c), E("lifecycle", c.LaunchedLifecycle), ValueSet("instanceIds", c.LaunchedIds),
                    E("instanceType", c.Type!.Name), E("platform", c.Image?.Platform))))
                : null);
    }

    private static XElement LaunchTemplateAndOverrides(Candidate c) => Node("launchTemplateAndOverrides",
        Node("launchTemplateSpecification", E("launchTemplateId", c.Template?.Id ?? c.TemplateId), E("launchTemplateName", c.Template?.Name ?? c.TemplateName),
            E("version", c.Template is { } t ? (c.Data is { } d ? VersionText(t.Versions.IndexOf(d) + 1) : c.Version) : c.Version)),
        Node("overrides", E("instanceType", c.OverrideInstanceType ?? c.Type?.Name), E("subnetId", c.OverrideSubnetId ?? c.Subnet?.Id),
            E("availabilityZone", c.OverrideZone ?? c.Subnet?.Zone.Name), E("imageId", c.OverrideImageId),
            E("priority", c.Priority), E("maxPrice", c.MaxPrice is { } m ? m.ToString(CultureInfo.InvariantCulture) : null)));

    /// <summary>Resolves the template, type, subnet, image, groups and profile of one override, or records why it cannot launch.</summary>
    private void Resolve(Candidate c) =>
        c.ConfigError = ResolveTemplate(c) ?? ResolveLaunch(c, c.OverrideInstanceType ?? c.Data?.InstanceType, c.OverrideSubnetId ?? c.Data?.NetworkInterfaceSubnetId,
            c.OverrideZone, c.OverrideImageId ?? c.Data?.ImageId, c.Data?.IamInstanceProfileName, c.Data?.IamInstanceProfileArn,
            c.Data is null ? [] : c.Data.SecurityGroupIds.Concat(c.Data.NetworkInterfaceGroups).ToList(), c.Data?.SecurityGroupNames ?? []);

    private (string Code, string Message)? ResolveTemplate(Candidate c)
    {
        if (c.TemplateId is null && c.TemplateName is null)
        {
            return null;
        }

        c.Template = c.TemplateId is { } id
            ? World.LaunchTemplatesById.GetValueOrDefault(id)
            : World.LaunchTemplatesByName.GetValueOrDefault(c.TemplateName!);
        if (c.Template is null)
        {
            return c.TemplateId is not null
                ? ("InvalidLaunchTemplateId.NotFound", $"The specified launch template, with template ID {c.TemplateId}, does not exist.")
                : ("InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist.");
        }

        c.Data = c.Template.Version(c.Version);
        return c.Data is null
            ? ("InvalidLaunchTemplateId.VersionNotFound", $"Could not find launch template version {c.Version} for template {c.Template.Id}")
            : null;
    }

    private (string Code, string Message)? ResolveLaunch(
        Candidate c, string? instanceType, string? subnetId, string? zone, string? imageId, string? profileName, string? profileArn,
        List<string> groupIds, List<string> groupNames)
    {
        if (instanceType is null)
        {
            return ("MissingParameter", "The request must contain the parameter InstanceType");
        }

        c.Type = World.Catalog.Find(instanceType);
        if (c.Type is null)
        {
            return ("InvalidParameterValue", $"Value ({instanceType}) for parameter instanceType is invalid. Invalid instance type.");
        }

        if (subnetId is not null)
        {
            c.Subnet = World.SubnetList.FirstOrDefault(s => s.Id == subnetId);
            if (c.Subnet is null)
            {
                return ("InvalidSubnetID.NotFound", $"The subnet ID '{subnetId}' does not exist");
            }

            if (zone is not null && c.Subnet.Zone.Name != zone)
            {
                return ("InvalidParameterValue", $"The subnet '{subnetId}' is in {c.Subnet.Zone.Name}, not in the requested Availability Zone {zone}.");
            }
        }
        else
        {
            if (zone is not null && World.ZoneList.All(z => z.Name != zone))
            {
                return ("InvalidParameterValue", $"Invalid availability zone: [{zone}]");
            }

            c.Subnet = World.SubnetList.Where(s => zone is null || s.Zone.Name == zone).MaxBy(s => s.AvailableAddresses);
        }

        if (imageId is null)
        {
            return ("MissingParameter", "The request must contain the parameter ImageId");
        }

        c.ImageId = imageId;
        c.Image = World.ImageList.FirstOrDefault(i => i.Id == imageId);
        if (c.Image is null)
        {
            return ("InvalidAMIID.NotFound", $"The image id '[{imageId}]' does not exist");
        }

        if (c.Image.Architecture != c.Type.Architecture)
        {
            return ("InvalidParameterValue",
                $"The architecture '{c.Type.Architecture}' of the specified instance type does not match the architecture '{c.Image.Architecture}' of the specified AMI. " +
                "Specify an instance type and an AMI that have matching architectures, and try again. You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI.");
        }

        foreach (var id in groupIds)
        {
            var group = World.SecurityGroupList.FirstOrDefault(g => g.Id == id);
            if (group is null)
            {
                return ("InvalidGroup.NotFound", $"The security group '{id}' does not exist");
            }

            c.Groups.Add(group);
        }

        foreach (var name in groupNames)
        {
            var group = World.SecurityGroupList.FirstOrDefault(g => g.Name == name);
            if (group is null)
            {
                return ("InvalidGroup.NotFound", $"The security group '{name}' does not exist in VPC '{World.MainVpc.Id}'");
            }

            c.Groups.Add(group);
        }

        if (c.Groups.Count == 0)
        {
            c.Groups.Add(World.SecurityGroupList.First(g => g.Name == "default"));
        }

        if (profileName is not null)
        {
            c.Profile = World.Profiles.GetValueOrDefault(profileName);
            if (c.Profile is null)
            {
                return ("InvalidParameterValue", $"Value ({profileName}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name");
            }
        }
        else if (profileArn is not null)
        {
            c.Profile = World.Profiles.Values.FirstOrDefault(p => p.Arn == profileArn);
            if (c.Profile is null)
            {
                return ("InvalidParameterValue", $"Value ({profileArn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN");
            }
        }

        return null;
    }

    private double PriceOf(Candidate c, string capacityType) =>
        (capacityType == CapacityTypes.Spot ? World.SpotPriceInternal(c.Type!.Name, c.Subnet!.Zone.Name) : c.Type!.OnDemandPrice) ?? double.MaxValue;

    private (string Code, string Message)? ProblemOf(Candidate c, string capacityType)
    {
        if (c.ConfigError is { } config)
        {
            return config;
        }

        if (World.CapacityProblem(c.Type!, c.Subnet!.Zone, capacityType) is { } capacity)
        {
            return capacity;
        }

        if (c.Subnet.AvailableAddresses <= 0)
        {
            return ("InsufficientFreeAddressesInSubnet", $"There are not enough free addresses in subnet '{c.Subnet.Id}' to satisfy the requested number of instances.");
        }

        if (capacityType == CapacityTypes.Spot && c.MaxPrice is { } max && PriceOf(c, capacityType) > max)
        {
            return ("SpotMaxPriceTooLow", $"Your Spot request price of {max.ToString(CultureInfo.InvariantCulture)} is lower than the minimum required Spot request fulfillment price of {PriceOf(c, capacityType).ToString(CultureInfo.InvariantCulture)}.");
        }

        return null;
    }

    private void Allocate(
        List<Candidate> candidates, string capacityType, int count, string strategy, Dictionary<string, string> fleetTags,
        string? clientToken, string fleetId, string reservation, List<FleetError> errors)
    {
        var prioritized = strategy is "prioritized" or "capacity-optimized-prioritized";
        for (var unit = 0; unit < count; unit++)
        {
            var problems = candidates.ToDictionary(c => c, c => ProblemOf(c, capacityType));
            var available = candidates.Where(c => problems[c] is null).ToList();
            var chosen = available.Count == 0 ? null : Choose(available, capacityType, strategy);

            foreach (var c in candidates)
            {
                if (problems[c] is not { } problem || c.ReportedFor.Contains(capacityType))
                {
                    continue;
                }

                var rankedBefore = chosen is null || c.ConfigError is not null || (prioritized
                    ? (c.Priority ?? double.MaxValue, c.Index).CompareTo((chosen.Priority ?? double.MaxValue, chosen.Index)) < 0
                    : (PriceOf(c, capacityType), c.Index).CompareTo((PriceOf(chosen, capacityType), chosen.Index)) < 0);
                if (rankedBefore)
                {
                    c.ReportedFor.Add(capacityType);
                    errors.Add(new FleetError(c, capacityType, problem.Code, problem.Message));
                }
            }

            if (chosen is null)
            {
                return;
            }

            var tags = new Dictionary<string, string>(StringComparer.Ordinal);
            if (chosen.Data?.TagSpecifications.GetValueOrDefault("instance") is { } templateTags)
            {
                foreach (var (key, value) in templateTags)
                {
                    tags[key] = value;
                }
            }

            foreach (var (key, value) in fleetTags)
            {
                tags[key] = value;
            }

            var instance = World.Launch(new AwsWorld.LaunchSpec(
                chosen.Type!, chosen.Subnet!, chosen.ImageId!, chosen.Image, capacityType, chosen.Data?.UserData, chosen.Groups, chosen.Profile,
                chosen.Template, chosen.Template is null ? null : VersionText(chosen.Template.Versions.IndexOf(chosen.Data!) + 1), chosen.Data,
                tags, clientToken, fleetId), reservation);
            chosen.LaunchedIds.Add(instance.Id);
            chosen.LaunchedLifecycle = capacityType;
        }
    }

    private Candidate Choose(List<Candidate> available, string capacityType, string strategy)
    {
        var byPrice = available.OrderBy(c => PriceOf(c, capacityType)).ThenBy(c => c.Index).ToList();
        int Remaining(Candidate c) => World.RemainingCapacity(c.Type!, c.Subnet!.Zone, capacityType);
        return strategy switch
        {
            "price-capacity-optimized" => byPrice
                .Where(c => PriceOf(c, capacityType) <= PriceOf(byPrice[0], capacityType) * 1.10)
                .OrderByDescending(Remaining).ThenBy(c => PriceOf(c, capacityType)).ThenBy(c => c.Index).First(),
            "capacity-optimized" => byPrice.OrderByDescending(Remaining).First(),
            "capacity-optimized-prioritized" or "prioritized" => available
                .OrderBy(c => c.Priority ?? double.MaxValue).ThenBy(c => c.Index).First(),
            "diversified" => byPrice.OrderBy(c => c.LaunchedIds.Count).First(),
            _ => byPrice[0],
        };
    }

    private XElement RunInstances(ApiRequest r)
    {
        var q = r.Query;
        var min = q.Int("MinCount") ?? throw AwsServiceException.MissingParameter("MinCount");
        var max = q.Int("MaxCount") ?? throw AwsServiceException.MissingParameter("MaxCount");
        if (min < 1 || max < min)
        {
            throw AwsServiceException.InvalidParameterValue($"MinCount ({min}) must be at least 1 and at most MaxCount ({max}).");
        }

        var c = new Candidate
        {
            Index = 0,
            TemplateId = q["LaunchTemplate.LaunchTemplateId"],
            TemplateName = q["LaunchTemplate.LaunchTemplateName"],
            Version = q["LaunchTemplate.Version"],
        };
        if (ResolveTemplate(c) is { } templateError)
        {
            throw new AwsServiceException(templateError.Code, templateError.Message);
        }

        var userData = q["UserData"] ?? c.Data?.UserData;
        if (q["UserData"] is { } explicitUserData)
        {
            ValidateUserData(explicitUserData);
        }

        c.Groups = [];
        var error = ResolveLaunch(c, q["InstanceType"] ?? c.Data?.InstanceType ?? "m1.small", q["SubnetId"] ?? c.Data?.NetworkInterfaceSubnetId,
            q["Placement.AvailabilityZone"], q["ImageId"] ?? c.Data?.ImageId, q["IamInstanceProfile.Name"] ?? c.Data?.IamInstanceProfileName,
            q["IamInstanceProfile.Arn"] ?? c.Data?.IamInstanceProfileArn,
            q.List("SecurityGroupId").Concat(c.Data?.SecurityGroupIds ?? []).Concat(c.Data?.NetworkInterfaceGroups ?? []).ToList(),
            q.List("SecurityGroup").Concat(c.Data?.SecurityGroupNames ?? []).ToList());
        if (error is { } problem)
        {
            throw new AwsServiceException(problem.Code, problem.Message);
        }

        var capacityType = (q["InstanceMarketOptions.MarketType"] ?? c.Data?.MarketType) == "spot" ? CapacityTypes.Spot : CapacityTypes.OnDemand;
        var tags = new Dictionary<string, string>(c.Data?.TagSpecifications.GetValueOrDefault("instance") ?? [], StringComparer.Ordinal);
        foreach (var (key, value) in TagsFor(q, "instance"))
        {
            tags[key] = value;
        }

        var reservation = World.NewId("r");
        var launched = new List<Ec2Instance>();
        for (var i = 0; i < max; i++)
        {
            if (ProblemOf(c, capacityType) is { } p)
            {
                if (launched.Count >= min)
                {
                    break;
                }

                foreach (var instance in launched)
                {
                    World.BeginShutdown(instance, "Server.InsufficientInstanceCapacity", "Server.InsufficientInstanceCapacity: Insufficient capacity");
                }

                throw new AwsServiceException(p.Code, p.Message, p.Code == "InsufficientInstanceCapacity" ? 500 : 400, senderFault: p.Code != "InsufficientInstanceCapacity");
            }

            launched.Add(World.Launch(new AwsWorld.LaunchSpec(
                c.Type!, c.Subnet!, c.ImageId!, c.Image, capacityType, userData, c.Groups, c.Profile, c.Template,
                c.Template is null ? null : VersionText(c.Template.Versions.IndexOf(c.Data!) + 1), c.Data, tags, q["ClientToken"], null), reservation));
        }

        if (World.Faults.TakeLaunchFailure())
        {
            throw FaultInjector.ServerError("ec2", 500);
        }

        return Response("RunInstances", E("reservationId", reservation), E("ownerId", World.AccountId), new XElement("groupSet"),
            Set("instancesSet", launched.Select(InstanceXml)));
    }
}

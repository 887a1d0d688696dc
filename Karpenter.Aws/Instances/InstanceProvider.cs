using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Karpenter.Aws.Batching;
using Karpenter.Aws.InstanceTypes;
using Karpenter.Aws.LaunchTemplates;
using Karpenter.Aws.Sdk;
using Karpenter.Aws.Subnets;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using CoreInstanceType = Karpenter.Core.CloudProvider.InstanceType;

namespace Karpenter.Aws.Instances;

/// <summary>
/// EC2 instances (upstream <c>pkg/providers/instance</c>): launched with an instant CreateFleet over every instance type ×
/// zonal-subnet override (at most 60 types), spot <c>price-capacity-optimized</c> or on-demand <c>lowest-price</c>, batched
/// with identical launches; per-override errors feed the insufficient-capacity cache. Found by id (batched), listed by this
/// cluster's tags, and terminated (batched).
/// </summary>
public sealed partial class InstanceProvider(IAmazonEC2 ec2, Ec2Batchers batchers, LaunchTemplateProvider launchTemplates,
    SubnetProvider subnets, UnavailableOfferings unavailable, TimeProvider time, IOptions<AwsOptions> options, ILogger<InstanceProvider> logger)
{
    /// <summary>The states an instance that still counts is in (upstream <c>instanceStateFilter</c>).</summary>
    public static readonly IReadOnlyList<string> LiveStates = ["pending", "running", "stopping", "stopped", "shutting-down"];

    private const string LaunchTemplateNotFound = "LaunchTemplateNotFound";

    private readonly AwsOptions _options = options.Value;

    /// <summary>
    /// Launches one instance for <paramref name="nodeClaim"/> from <paramref name="instanceTypes"/> (already compatible with it).
    /// Throws <see cref="InsufficientCapacityException"/> when every pool refused for capacity, <see cref="CreateInstanceException"/> otherwise.
    /// </summary>
    public async Task<Ec2Instance> CreateAsync(EC2NodeClass nodeClass, NodeClaim nodeClaim, IReadOnlyDictionary<string, string> tags,
        IReadOnlyList<CoreInstanceType> instanceTypes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClass);
        ArgumentNullException.ThrowIfNull(nodeClaim);
        var requirements = LaunchFilters.ClaimRequirements(nodeClaim);
        var candidates = instanceTypes;
        if (!LaunchFilters.HasMinValues(requirements))
        {
            candidates = LaunchFilters.Spot(LaunchFilters.Exotic(candidates, requirements), requirements);
        }
        var truncated = LaunchFilters.Truncate(candidates, requirements)
            ?? throw new CreateInstanceException("InstanceTypeResolutionFailed",
                $"the {candidates.Count} launchable instance types cannot satisfy the minValues of {requirements}");
        try
        {
            return await LaunchAsync(nodeClass, nodeClaim, requirements, truncated, tags, cancellationToken);
        }
        catch (Exception e) when (e is AmazonServiceException ase && AwsErrors.IsLaunchTemplateNotFound(ase)
            || e is CreateInstanceException { Reason: LaunchTemplateNotFound })
        {
            // The cache was out of date (a template was deleted); the templates were invalidated, so this makes them again.
            return await LaunchAsync(nodeClass, nodeClaim, requirements, truncated, tags, cancellationToken);
        }
    }

    private async Task<Ec2Instance> LaunchAsync(EC2NodeClass nodeClass, NodeClaim nodeClaim, Requirements requirements,
        IReadOnlyList<CoreInstanceType> instanceTypes, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        var capacityType = LaunchFilters.CapacityType(instanceTypes, requirements);
        var launch = requirements.Clone().Set(Requirement.In(Labels.CapacityType, capacityType));
        var nodeClassSubnets = await SubnetsAsync(nodeClass, cancellationToken);
        var zonalSubnets = subnets.ZonalSubnetsForLaunch(nodeClassSubnets.Where(s => !unavailable.IsSubnetUnavailable(s.Id)));
        IReadOnlyList<ResolvedLaunchTemplate> templates;
        try
        {
            templates = await launchTemplates.EnsureAllAsync(nodeClass, nodeClaim, instanceTypes, capacityType, tags, cancellationToken);
        }
        catch (Exception e) when (e is AmazonServiceException or LaunchTemplates.UserData.UserDataException)
        {
            var (reason, message) = e is AmazonServiceException ? AwsErrors.Describe("creating launch templates", e) : ("UserDataInvalid", e.Message);
            throw new CreateInstanceException(reason, message, e);
        }
        var configs = new List<FleetLaunchTemplateConfigRequest>();
        foreach (var template in templates)
        {
            var overrides = Overrides(template, zonalSubnets, launch);
            if (overrides.Count > 0)
            {
                configs.Add(new FleetLaunchTemplateConfigRequest
                {
                    LaunchTemplateSpecification = new FleetLaunchTemplateSpecificationRequest { LaunchTemplateName = template.Name, Version = "$Latest" },
                    Overrides = overrides,
                });
            }
        }
        if (configs.Count == 0)
        {
            throw new InsufficientCapacityException($"no capacity offerings are currently available given the constraints ({capacityType}, zones with subnets {string.Join(", ", zonalSubnets.Keys)})");
        }
        var request = new CreateFleetRequest
        {
            Type = FleetType.Instant,
            Context = nodeClass.Spec.Context,
            LaunchTemplateConfigs = configs,
            TargetCapacitySpecification = new TargetCapacitySpecificationRequest
            {
                DefaultTargetCapacityType = DefaultTargetCapacityType.FindValue(capacityType),
                TotalTargetCapacity = 1,
            },
            TagSpecifications =
            [
                new TagSpecification { ResourceType = ResourceType.Instance, Tags = LaunchTemplateProvider.Tags(tags) },
                new TagSpecification { ResourceType = ResourceType.Volume, Tags = LaunchTemplateProvider.Tags(tags) },
                new TagSpecification { ResourceType = ResourceType.Fleet, Tags = LaunchTemplateProvider.Tags(tags) },
            ],
        };
        if (capacityType == CapacityTypes.Spot)
        {
            request.SpotOptions = new SpotOptionsRequest { AllocationStrategy = SpotAllocationStrategy.PriceCapacityOptimized };
        }
        else
        {
            request.OnDemandOptions = new OnDemandOptionsRequest { AllocationStrategy = FleetOnDemandAllocationStrategy.LowestPrice };
        }
        CreateFleetResponse response;
        try
        {
            response = await batchers.CreateFleetAsync(request, cancellationToken);
        }
        catch (AmazonServiceException e) when (AwsErrors.IsLaunchTemplateNotFound(e))
        {
            foreach (var template in templates)
            {
                launchTemplates.Invalidate(template.Name);
            }
            throw;
        }
        catch (AmazonServiceException e)
        {
            var (reason, message) = AwsErrors.Describe("creating fleet", e);
            throw new CreateInstanceException(reason, message, e);
        }
        UpdateUnavailable(response.Errors ?? [], capacityType, nodeClassSubnets);
        var launched = response.Instances?.FirstOrDefault(i => i.InstanceIds is { Count: > 0 });
        if (launched is null)
        {
            // EC2 reports a missing template per override: forget the templates so the retry describes or creates them.
            if ((response.Errors ?? []).Any(e => e.ErrorCode is "InvalidLaunchTemplateName.NotFoundException" or "InvalidLaunchTemplateId.NotFound"))
            {
                foreach (var template in templates)
                {
                    launchTemplates.Invalidate(template.Name);
                }
                throw new CreateInstanceException(LaunchTemplateNotFound, "launch templates not found when creating fleet request: "
                    + CombineFleetErrors(response.Errors ?? []).Message);
            }
            throw CombineFleetErrors(response.Errors ?? []);
        }
        if (launched.LaunchTemplateAndOverrides?.Overrides?.SubnetId is { } subnet)
        {
            subnets.MarkLaunched(subnet);
        }
        var instance = Ec2Instance.FromFleet(launched, tags, time.GetUtcNow());
        LogLaunched(logger, instance.Id, instance.InstanceType, instance.Zone, instance.CapacityType, nodeClaim.Metadata.Name ?? "");
        return instance;
    }

    /// <summary>Every available offering of the template's types, compatible with the launch, in a zone with a subnet.</summary>
    private static List<FleetLaunchTemplateOverridesRequest> Overrides(ResolvedLaunchTemplate template, IReadOnlyDictionary<string, SubnetInfo> zonalSubnets,
        Requirements launch)
    {
        var overrides = new List<FleetLaunchTemplateOverridesRequest>();
        foreach (var type in template.InstanceTypes)
        {
            foreach (var offering in type.AvailableOfferings(launch))
            {
                if (zonalSubnets.TryGetValue(offering.Zone, out var subnet))
                {
                    overrides.Add(new FleetLaunchTemplateOverridesRequest
                    {
                        InstanceType = Amazon.EC2.InstanceType.FindValue(type.Name),
                        SubnetId = subnet.Id,
                        ImageId = template.ImageId,
                        // Redundant with the subnet, but it lets per-override errors name their zone.
                        AvailabilityZone = subnet.Zone,
                    });
                }
            }
        }
        return overrides;
    }

    /// <summary>The subnets of the NodeClass's status with their free addresses (cached for <c>SUBNET_REFRESH_INTERVAL</c>).</summary>
    private async Task<IReadOnlyList<SubnetInfo>> SubnetsAsync(EC2NodeClass nodeClass, CancellationToken cancellationToken)
    {
        var ids = (nodeClass.Status.Subnets ?? []).Select(s => new SubnetSelector(Id: s.Id)).ToList();
        if (ids.Count == 0)
        {
            throw new CreateInstanceException("SubnetResolutionFailed", $"EC2NodeClass {nodeClass.Metadata.Name} has no subnets in its status");
        }
        try
        {
            return await subnets.ListAsync(ids, cancellationToken);
        }
        catch (AmazonServiceException e)
        {
            var (reason, message) = AwsErrors.Describe("getting subnets", e);
            throw new CreateInstanceException(reason, message, e);
        }
    }

    /// <summary>Marks the pools the fleet could not use (upstream <c>updateUnavailableOfferingsCache</c>).</summary>
    private void UpdateUnavailable(IReadOnlyList<CreateFleetError> errors, string capacityType, IReadOnlyList<SubnetInfo> nodeClassSubnets)
    {
        foreach (var error in errors)
        {
            var o = error.LaunchTemplateAndOverrides?.Overrides;
            var type = o?.InstanceType?.Value;
            var zone = o?.AvailabilityZone ?? nodeClassSubnets.FirstOrDefault(s => s.Id == o?.SubnetId)?.Zone;
            if (error.ErrorCode == "AuthFailure.ServiceLinkedRoleCreationNotPermitted")
            {
                unavailable.MarkCapacityTypeUnavailable(error.ErrorCode, CapacityTypes.Spot);
                continue;
            }
            if (!AwsErrors.IsUnfulfillableCapacity(error.ErrorCode) || type is null || zone is null)
            {
                continue;
            }
            if (error.ErrorCode == "InsufficientFreeAddressesInSubnet" && o?.SubnetId is { } subnetId)
            {
                unavailable.MarkSubnetUnavailable(error.ErrorCode, subnetId);
                // The zone is out only when none of its subnets has addresses left; the next launch picks another subnet.
                if (nodeClassSubnets.Any(s => s.Zone == zone && !unavailable.IsSubnetUnavailable(s.Id)))
                {
                    continue;
                }
            }
            unavailable.MarkUnavailable(error.ErrorCode, capacityType, type, zone);
            LogUnavailable(logger, capacityType, type, zone, error.ErrorCode);
        }
    }

    /// <summary>No instance: an insufficient-capacity error when every error was about capacity, else a create error (upstream <c>combineFleetErrors</c>).</summary>
    internal static Exception CombineFleetErrors(IReadOnlyList<CreateFleetError> errors)
    {
        var unique = errors.Select(e => $"{e.ErrorCode}: {e.ErrorMessage}").Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var message = unique.Count == 0 ? "CreateFleet launched no instance and reported no error" : "with fleet error(s): " + string.Join("; ", unique);
        if (errors.All(e => AwsErrors.IsUnfulfillableCapacity(e.ErrorCode)))
        {
            return new InsufficientCapacityException(message);
        }
        var reason = errors.FirstOrDefault(e => !AwsErrors.IsUnfulfillableCapacity(e.ErrorCode))?.ErrorCode ?? "LaunchFailed";
        return new CreateInstanceException(reason, message);
    }

    /// <summary>The instance by id; <see cref="NodeClaimNotFoundException"/> when it does not exist or is terminated.</summary>
    public async Task<Ec2Instance> GetAsync(string instanceId, CancellationToken cancellationToken)
    {
        DescribeInstancesResponse response;
        try
        {
            response = await batchers.DescribeInstancesAsync(new DescribeInstancesRequest
            {
                InstanceIds = [instanceId],
                Filters = [Ec2Filters.Of("instance-state-name", LiveStates)],
            }, cancellationToken);
        }
        catch (AmazonServiceException e) when (AwsErrors.IsNotFound(e))
        {
            throw new NodeClaimNotFoundException($"instance {instanceId} not found: {e.Message}", e);
        }
        var instances = (response.Reservations ?? []).SelectMany(r => r.Instances ?? []).Where(i => i.InstanceId == instanceId).ToList();
        return instances.Count == 1
            ? Ec2Instance.From(instances[0])
            : throw new NodeClaimNotFoundException($"instance {instanceId} not found (terminated or unknown)");
    }

    /// <summary>Every live instance this cluster's Karpenter launched: tagged with a NodePool and an EC2NodeClass and the cluster name.</summary>
    public async Task<IReadOnlyList<Ec2Instance>> ListAsync(CancellationToken cancellationToken)
    {
        var request = new DescribeInstancesRequest
        {
            Filters =
            [
                Ec2Filters.Of("tag-key", Labels.NodePool),
                Ec2Filters.Of("tag-key", Labels.Ec2NodeClass),
                Ec2Filters.Of("tag:eks:eks-cluster-name", _options.ClusterName),
                Ec2Filters.Of("instance-state-name", LiveStates),
            ],
            MaxResults = 1000,
        };
        var result = new List<Ec2Instance>();
        await foreach (var reservation in ec2.Paginators.DescribeInstances(request).Reservations.WithCancellation(cancellationToken))
        {
            result.AddRange((reservation.Instances ?? []).Select(Ec2Instance.From));
        }
        return [.. result.OrderBy(i => i.Id, StringComparer.Ordinal)];
    }

    /// <summary>Terminates the instance unless it is already shutting down; <see cref="NodeClaimNotFoundException"/> once it is gone.</summary>
    public async Task DeleteAsync(string instanceId, CancellationToken cancellationToken)
    {
        var instance = await GetAsync(instanceId, cancellationToken);
        if (instance.State == Ec2Instance.ShuttingDown)
        {
            return;
        }
        try
        {
            await batchers.TerminateInstanceAsync(instanceId, cancellationToken);
        }
        catch (AmazonServiceException e) when (AwsErrors.IsNotFound(e))
        {
            throw new NodeClaimNotFoundException($"instance {instanceId} not found: {e.Message}", e);
        }
    }

    /// <summary>Adds tags to an instance; <see cref="NodeClaimNotFoundException"/> when it is gone.</summary>
    public async Task CreateTagsAsync(string instanceId, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        try
        {
            await ec2.CreateTagsAsync(new CreateTagsRequest { Resources = [instanceId], Tags = LaunchTemplateProvider.Tags(tags) }, cancellationToken);
        }
        catch (AmazonServiceException e) when (AwsErrors.IsNotFound(e))
        {
            throw new NodeClaimNotFoundException($"tagging instance {instanceId}: {e.Message}", e);
        }
    }

    [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "launched instance {InstanceId} ({InstanceType}, {Zone}, {CapacityType}) for nodeclaim {NodeClaim}")]
    private static partial void LogLaunched(ILogger logger, string instanceId, string instanceType, string zone, string capacityType, string nodeClaim);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Information, Message = "marking {CapacityType} {InstanceType} in {Zone} unavailable for 3 minutes: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string capacityType, string instanceType, string zone, string reason);
}

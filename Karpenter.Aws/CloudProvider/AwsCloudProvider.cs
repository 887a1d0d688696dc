using k8s.Models;
using Karpenter.Aws.Amis;
using Karpenter.Aws.Instances;
using Karpenter.Aws.InstanceTypes;
using Karpenter.Aws.NodeClasses;
using Karpenter.Aws.NodeClasses.Hash;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using InstanceType = Karpenter.Core.CloudProvider.InstanceType;

namespace Karpenter.Aws.CloudProvider;

/// <summary>The drift reasons the AWS provider reports (upstream <c>pkg/cloudprovider/drift.go</c>).</summary>
public static class DriftReasons
{
    public const string AmiDrift = "AMIDrift";
    public const string SubnetDrift = "SubnetDrift";
    public const string SecurityGroupDrift = "SecurityGroupDrift";
    public const string NodeClassDrift = "NodeClassDrift";
}

/// <summary>
/// Karpenter's AWS cloud provider (upstream <c>pkg/cloudprovider/cloudprovider.go</c>): NodeClaims become EC2 instances
/// launched from their EC2NodeClass. A launch refused for capacity marks the pools it tried and is retried at once with
/// the offerings left (the next capacity type, other types and zones), up to <see cref="MaxLaunchAttempts"/> fleets.
/// </summary>
public sealed partial class AwsCloudProvider(InstanceTypeProvider instanceTypes, InstanceProvider instances, IEc2NodeClassStore nodeClasses,
    IOptions<AwsOptions> options, ILogger<AwsCloudProvider> logger) : ICloudProvider
{
    /// <summary>How many fleets one Create may send when the earlier ones were refused for capacity.</summary>
    public const int MaxLaunchAttempts = 3;

    private static readonly string[] AwsLabels =
    [
        Labels.InstanceHypervisor, Labels.InstanceEncryptionInTransitSupported, Labels.InstanceCategory, Labels.InstanceFamily,
        Labels.InstanceGeneration, Labels.InstanceSize, Labels.InstanceLocalNvme, Labels.InstanceCpu, Labels.InstanceCpuManufacturer,
        Labels.InstanceCpuSustainedClockSpeedMhz, Labels.InstanceMemory, Labels.InstanceEbsBandwidth, Labels.InstanceNetworkBandwidth,
        Labels.InstanceGpuName, Labels.InstanceGpuManufacturer, Labels.InstanceGpuCount, Labels.InstanceGpuMemory, Labels.InstanceAcceleratorName,
        Labels.InstanceAcceleratorManufacturer, Labels.InstanceAcceleratorCount, Labels.TopologyZoneId, Labels.InstanceCapabilityFlex,
        Labels.InstanceTenancy, Labels.WindowsBuild, Labels.CapacityReservationId, Labels.CapacityReservationType,
        Labels.CapacityReservationInterruptible, Labels.PlacementGroupId, Labels.PlacementGroupPartition,
    ];

    private readonly AwsOptions _options = options.Value;

    public string Name => "aws";

    public IReadOnlyList<RepairPolicy> RepairPolicies { get; } =
    [
        new("Ready", "False", TimeSpan.FromMinutes(30)),
        new("Ready", "Unknown", TimeSpan.FromMinutes(30)),
        new("AcceleratedHardwareReady", "False", TimeSpan.FromMinutes(10)),
        new("StorageReady", "False", TimeSpan.FromMinutes(30)),
        new("NetworkingReady", "False", TimeSpan.FromMinutes(30)),
        new("KernelReady", "False", TimeSpan.FromMinutes(30)),
        new("ContainerRuntimeReady", "False", TimeSpan.FromMinutes(30)),
    ];

    public IReadOnlyList<Type> SupportedNodeClasses { get; } = [typeof(EC2NodeClass)];

    public IReadOnlySet<string> WellKnownLabels { get; } = new HashSet<string>(AwsLabels, StringComparer.Ordinal);

    public async Task<NodeClaim> CreateAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        var nodeClass = await nodeClasses.GetAsync(nodeClaim.Spec.NodeClassRef.Name, cancellationToken)
            ?? throw new InsufficientCapacityException($"resolving nodeclass: EC2NodeClass \"{nodeClaim.Spec.NodeClassRef.Name}\" not found");
        var ready = nodeClass.GetCondition(ConditionTypes.Ready);
        if (ready?.Status == "False")
        {
            throw new NodeClassNotReadyException($"EC2NodeClass \"{nodeClass.Metadata.Name}\" is not ready: {ready.Reason}: {ready.Message}");
        }
        if (ready?.Status != "True")
        {
            throw new CreateInstanceException("NodeClassReadinessUnknown",
                $"resolving NodeClass readiness, EC2NodeClass \"{nodeClass.Metadata.Name}\" is in Ready=Unknown: {ready?.Message ?? "not reconciled yet"}");
        }
        IReadOnlyDictionary<string, string> tags;
        try
        {
            tags = AwsTags.ForLaunch(nodeClass, nodeClaim.NodePoolName, _options.ClusterName);
        }
        catch (ArgumentException e)
        {
            throw new CreateInstanceException("InvalidTags", $"getting tags: {e.Message}", e);
        }
        string? previous = null;
        for (var attempt = 1; ; attempt++)
        {
            var types = await ResolveInstanceTypesAsync(nodeClaim, nodeClass, cancellationToken);
            if (types.Count == 0)
            {
                throw new InsufficientCapacityException("all requested instance types were unavailable during launch");
            }
            var offered = Signature(types, nodeClaim);
            try
            {
                var instance = await instances.CreateAsync(nodeClass, nodeClaim, tags, types, cancellationToken);
                var type = types.FirstOrDefault(t => t.Name == instance.InstanceType);
                return ToNodeClaim(instance, type, nodeClass, nodeClaim);
            }
            catch (InsufficientCapacityException e) when (attempt < MaxLaunchAttempts && offered != previous)
            {
                // The pools tried are now in the insufficient-capacity cache; what is left is different, so try it.
                previous = offered;
                LogRelaunch(logger, nodeClaim.Metadata.Name ?? "", attempt, e.Message);
            }
        }
    }

    public async Task DeleteAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        var id = Ec2Instance.ParseProviderId(nodeClaim.Status.ProviderId)
            ?? throw new NodeClaimNotFoundException($"NodeClaim {nodeClaim.Metadata.Name} has no AWS provider ID ({nodeClaim.Status.ProviderId ?? "none"})");
        await instances.DeleteAsync(id, cancellationToken);
    }

    public async Task<NodeClaim> GetAsync(string providerId, CancellationToken cancellationToken)
    {
        var id = Ec2Instance.ParseProviderId(providerId) ?? throw new ArgumentException($"\"{providerId}\" is not an AWS provider ID", nameof(providerId));
        var instance = await instances.GetAsync(id, cancellationToken);
        var cache = new Dictionary<string, (EC2NodeClass?, IReadOnlyList<InstanceType>)>(StringComparer.Ordinal);
        return await ToNodeClaimAsync(instance, cache, cancellationToken);
    }

    public async Task<IReadOnlyList<NodeClaim>> ListAsync(CancellationToken cancellationToken)
    {
        var cache = new Dictionary<string, (EC2NodeClass?, IReadOnlyList<InstanceType>)>(StringComparer.Ordinal);
        var result = new List<NodeClaim>();
        foreach (var instance in await instances.ListAsync(cancellationToken))
        {
            result.Add(await ToNodeClaimAsync(instance, cache, cancellationToken));
        }
        return result;
    }

    public async Task<IReadOnlyList<InstanceType>> GetInstanceTypesAsync(NodePool nodePool, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodePool);
        var nodeClass = await nodeClasses.GetAsync(nodePool.Spec.Template.Spec.NodeClassRef.Name, cancellationToken);
        // No launch is attempted from a NodeClass that is missing or not Ready: it offers no instance types.
        if (nodeClass is null || !nodeClass.IsReady())
        {
            return [];
        }
        return await instanceTypes.ListAsync(NodeClassInputs.ForInstanceTypes(nodeClass, _options), cancellationToken);
    }

    public async Task<string?> IsDriftedAsync(NodeClaim nodeClaim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClaim);
        var nodeClass = await nodeClasses.GetAsync(nodeClaim.Spec.NodeClassRef.Name, cancellationToken);
        if (nodeClass is null)
        {
            return null;
        }
        if (StaticFieldsDrifted(nodeClaim, nodeClass))
        {
            return DriftReasons.NodeClassDrift;
        }
        if (Ec2Instance.ParseProviderId(nodeClaim.Status.ProviderId) is not { } id)
        {
            return null;
        }
        var instance = await instances.GetAsync(id, cancellationToken);
        if (await AmiDriftedAsync(nodeClaim, nodeClass, instance, cancellationToken))
        {
            return DriftReasons.AmiDrift;
        }
        var groups = (nodeClass.Status.SecurityGroups ?? []).Select(g => g.Id).ToHashSet(StringComparer.Ordinal);
        if (groups.Count == 0)
        {
            throw new InvalidOperationException($"EC2NodeClass {nodeClass.Metadata.Name} has no security groups in its status");
        }
        if (!groups.SetEquals(instance.SecurityGroupIds))
        {
            return DriftReasons.SecurityGroupDrift;
        }
        var subnets = (nodeClass.Status.Subnets ?? []).Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        if (subnets.Count == 0)
        {
            throw new InvalidOperationException($"EC2NodeClass {nodeClass.Metadata.Name} has no subnets in its status");
        }
        return instance.SubnetId is { } subnet && !subnets.Contains(subnet) ? DriftReasons.SubnetDrift : null;
    }

    /// <summary>Hashes of the same version that differ (upstream <c>areStaticFieldsDrifted</c>).</summary>
    private static bool StaticFieldsDrifted(NodeClaim nodeClaim, EC2NodeClass nodeClass)
    {
        var classAnnotations = nodeClass.Metadata.Annotations;
        var claimAnnotations = nodeClaim.Metadata.Annotations;
        if (classAnnotations is null || claimAnnotations is null
            || !classAnnotations.TryGetValue(Annotations.Ec2NodeClassHash, out var classHash)
            || !claimAnnotations.TryGetValue(Annotations.Ec2NodeClassHash, out var claimHash))
        {
            return false;
        }
        if (classAnnotations.ValueOf(Annotations.Ec2NodeClassHashVersion) != claimAnnotations.ValueOf(Annotations.Ec2NodeClassHashVersion))
        {
            return false;
        }
        return classHash != claimHash;
    }

    private async Task<bool> AmiDriftedAsync(NodeClaim nodeClaim, EC2NodeClass nodeClass, Ec2Instance instance, CancellationToken cancellationToken)
    {
        var amis = NodeClassInputs.Amis(nodeClass);
        if (amis.Count == 0)
        {
            throw new InvalidOperationException($"EC2NodeClass {nodeClass.Metadata.Name} has no AMIs in its status");
        }
        var typeName = nodeClaim.Metadata.Labels.ValueOf(Labels.InstanceType) ?? instance.InstanceType;
        var types = await instanceTypes.ListAsync(NodeClassInputs.ForInstanceTypes(nodeClass, _options), cancellationToken);
        var type = types.FirstOrDefault(t => t.Name == typeName)
            ?? throw new InvalidOperationException($"finding node instance type \"{typeName}\"");
        return !AmiProvider.MapToInstanceTypes<InstanceType>(amis, [type], t => t.Requirements).ContainsKey(instance.ImageId);
    }

    /// <summary>The instance types the NodeClaim may launch: compatible, with an available offering, and large enough.</summary>
    private async Task<IReadOnlyList<InstanceType>> ResolveInstanceTypesAsync(NodeClaim nodeClaim, EC2NodeClass nodeClass, CancellationToken cancellationToken)
    {
        var all = await instanceTypes.ListAsync(NodeClassInputs.ForInstanceTypes(nodeClass, _options), cancellationToken);
        var requirements = LaunchFilters.ClaimRequirements(nodeClaim);
        var requests = Resources.FromList(nodeClaim.Spec.Resources?.Requests);
        return LaunchFilters.CompatibleAvailable(all, requirements, requests);
    }

    /// <summary>The available offerings a launch could use, so a retry is made only when something changed.</summary>
    private static string Signature(IReadOnlyList<InstanceType> types, NodeClaim nodeClaim)
    {
        var requirements = LaunchFilters.ClaimRequirements(nodeClaim);
        return string.Join(";", types.SelectMany(t => t.AvailableOfferings(requirements).Select(o => $"{t.Name}/{o.Zone}/{o.CapacityType}")).Order(StringComparer.Ordinal));
    }

    private async Task<NodeClaim> ToNodeClaimAsync(Ec2Instance instance, Dictionary<string, (EC2NodeClass?, IReadOnlyList<InstanceType>)> cache,
        CancellationToken cancellationToken)
    {
        var nodeClassName = instance.Tags.GetValueOrDefault(Labels.Ec2NodeClass) ?? "";
        if (!cache.TryGetValue(nodeClassName, out var entry))
        {
            var nodeClass = nodeClassName.Length == 0 ? null : await nodeClasses.GetAsync(nodeClassName, cancellationToken);
            IReadOnlyList<InstanceType> types = nodeClass is null
                ? []
                : await instanceTypes.ListAsync(NodeClassInputs.ForInstanceTypes(nodeClass, _options), cancellationToken);
            cache[nodeClassName] = entry = (nodeClass, types);
        }
        return ToNodeClaim(instance, entry.Item2.FirstOrDefault(t => t.Name == instance.InstanceType), entry.Item1, null);
    }

    /// <summary>
    /// The NodeClaim an instance stands for (upstream <c>instanceToNodeClaim</c>): the labels of its instance type, zone and
    /// capacity type, capacity and allocatable, provider ID and image. Given the NodeClaim it was launched for, that NodeClaim
    /// with those fields merged in.
    /// </summary>
    internal static NodeClaim ToNodeClaim(Ec2Instance instance, InstanceType? type, EC2NodeClass? nodeClass, NodeClaim? launchedFor)
    {
        var nodeClaim = launchedFor is null
            ? new NodeClaim { Metadata = new V1ObjectMeta(), Spec = new NodeClaimSpec(), Status = new NodeClaimStatus() }
            : k8s.KubernetesJson.Deserialize<NodeClaim>(k8s.KubernetesJson.Serialize(launchedFor));
        nodeClaim.Status ??= new NodeClaimStatus();
        var labels = nodeClaim.Metadata.Labels ??= new Dictionary<string, string>();
        var annotations = nodeClaim.Metadata.Annotations ??= new Dictionary<string, string>();
        if (type is not null)
        {
            foreach (var (key, value) in type.Requirements.Labels())
            {
                labels[key] = value;
            }
            nodeClaim.Status.Capacity = NonZero(type.Capacity);
            nodeClaim.Status.Allocatable = NonZero(type.Allocatable);
        }
        labels[Labels.TopologyZone] = instance.Zone;
        labels[Labels.CapacityType] = instance.CapacityType;
        if (instance.Tags.TryGetValue(Labels.NodePool, out var nodePool) && nodePool.Length > 0)
        {
            labels[Labels.NodePool] = nodePool;
        }
        if (nodeClass is not null)
        {
            annotations[Annotations.Ec2NodeClassHash] = NodeClassHash.Compute(nodeClass);
            annotations[Annotations.Ec2NodeClassHashVersion] = NodeClassHash.Version;
            if (!string.IsNullOrEmpty(nodeClass.Status.InstanceProfile))
            {
                annotations[Annotations.InstanceProfileName] = nodeClass.Status.InstanceProfile;
            }
        }
        if (launchedFor is null)
        {
            nodeClaim.Metadata.CreationTimestamp = instance.LaunchTime.UtcDateTime;
            nodeClaim.Metadata.Name = instance.Tags.GetValueOrDefault(AwsTags.NodeClaim);
            if (instance.State is Ec2Instance.ShuttingDown or Ec2Instance.Terminated)
            {
                nodeClaim.Metadata.DeletionTimestamp = instance.LaunchTime.UtcDateTime;
            }
        }
        nodeClaim.Status.ProviderId = instance.ProviderId;
        nodeClaim.Status.ImageId = instance.ImageId;
        return nodeClaim;
    }

    private static Dictionary<string, ResourceQuantity> NonZero(Resources resources) =>
        resources.ToList().Where(r => r.Value.ToDecimal() != 0).ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);

    [LoggerMessage(EventId = 2300, Level = LogLevel.Information, Message = "relaunching nodeclaim {NodeClaim} with the offerings left after fleet {Attempt} was refused for capacity: {Reason}")]
    private static partial void LogRelaunch(ILogger logger, string nodeClaim, int attempt, string reason);
}

using System.Globalization;
using System.Text.RegularExpressions;
using Amazon.EC2;
using Amazon.EC2.Model;
using Karpenter.Aws.Amis;
using Karpenter.Aws.LaunchTemplates.UserData;
using Karpenter.Aws.Pricing;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.WellKnown;
using Microsoft.Extensions.Options;
using InstanceType = Karpenter.Core.CloudProvider.InstanceType;

namespace Karpenter.Aws.InstanceTypes;

/// <summary>What of an EC2NodeClass shapes its instance types: the AMI family, kubelet, block devices, RAID0, and the zones of its subnets.</summary>
public sealed record InstanceTypeNodeClass(
    AmiFamily Family,
    KubeletSettings Kubelet,
    IReadOnlyList<BlockDeviceSize> BlockDevices,
    string? InstanceStorePolicy,
    IReadOnlyList<(string Zone, string? ZoneId)> SubnetZones)
{
    internal string CacheKey => string.Join("|", Family.Name, InstanceStorePolicy, Kubelet.MaxPods, Kubelet.PodsPerCore,
        Join(Kubelet.KubeReserved), Join(Kubelet.SystemReserved), Join(Kubelet.EvictionHard),
        string.Join(",", BlockDevices.Select(b => $"{b.DeviceName}:{b.RootVolume}:{b.VolumeSizeBytes}")),
        string.Join(",", SubnetZones.Select(z => z.Zone).Order(StringComparer.Ordinal)));

    private static string Join(IReadOnlyDictionary<string, string>? map) =>
        map is null ? "" : string.Join(",", map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
}

/// <summary>
/// The EC2 instance-type catalog as Karpenter sees it (upstream <c>pkg/providers/instancetype</c>): DescribeInstanceTypes
/// (HVM, x86_64 and arm64) and DescribeInstanceTypeOfferings (per zone), both paginated and refreshed on a schedule; per
/// NodeClass, each type with its well-known labels, its allocatable resources, and one offering per zone (where the NodeClass
/// has a subnet) and capacity type, priced, and unavailable while the ICE cache holds it. Lists are cached for 5 minutes
/// and rebuilt when the ICE cache changes.
/// </summary>
public sealed partial class InstanceTypeProvider(IAmazonEC2 ec2, PricingProvider pricing, UnavailableOfferings unavailable,
    TimeProvider time, IOptions<AwsOptions> options) : IDisposable
{
    [GeneratedRegex("^([a-z]+)(-[0-9]+tb)?([0-9]+).*\\.")]
    private static partial Regex Scheme();

    private readonly TtlCache<string, IReadOnlyList<InstanceType>> _cache = new(time, TimeSpan.FromMinutes(5));
    private volatile List<InstanceTypeInfo> _infos = [];
    private volatile Dictionary<string, IReadOnlySet<string>> _zonesByType = [];
    private readonly SemaphoreSlim _refresh = new(1, 1);

    public IReadOnlyList<InstanceTypeInfo> Infos => _infos;

    /// <summary>Re-reads the catalog and the zonal offerings (upstream every 12 hours, and once before controllers start).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            var infos = new List<InstanceTypeInfo>();
            var request = new DescribeInstanceTypesRequest
            {
                Filters = [new Filter("supported-virtualization-type", ["hvm"]), new Filter("processor-info.supported-architecture", ["x86_64", "arm64"])],
                MaxResults = 100,
            };
            await foreach (var info in ec2.Paginators.DescribeInstanceTypes(request).InstanceTypes.WithCancellation(cancellationToken))
            {
                infos.Add(info);
            }
            var zones = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            var offerings = new DescribeInstanceTypeOfferingsRequest { LocationType = LocationType.AvailabilityZone, MaxResults = 1000 };
            await foreach (var o in ec2.Paginators.DescribeInstanceTypeOfferings(offerings).InstanceTypeOfferings.WithCancellation(cancellationToken))
            {
                if (!zones.TryGetValue(o.InstanceType.Value, out var set))
                {
                    zones[o.InstanceType.Value] = set = new HashSet<string>(StringComparer.Ordinal);
                }
                set.Add(o.Location);
            }
            _infos = infos.OrderBy(i => i.InstanceType.Value, StringComparer.Ordinal).ToList();
            _zonesByType = zones.ToDictionary(z => z.Key, z => (IReadOnlySet<string>)z.Value, StringComparer.Ordinal);
            _cache.Clear();
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>The instance types a NodeClass can launch, with labels, allocatable and offerings.</summary>
    public async Task<IReadOnlyList<InstanceType>> ListAsync(InstanceTypeNodeClass nodeClass, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nodeClass);
        if (_infos.Count == 0)
        {
            await RefreshAsync(cancellationToken);
        }
        unavailable.Cleanup();
        var key = $"{nodeClass.CacheKey}|{unavailable.SeqNum}|{pricing.OnDemandUpdated}|{pricing.SpotUpdated}";
        if (_cache.TryGet(key, out var cached))
        {
            return cached;
        }
        var o = options.Value;
        var inputs = new AllocatableInputs
        {
            Family = nodeClass.Family,
            Kubelet = nodeClass.Kubelet,
            BlockDevices = nodeClass.BlockDevices,
            InstanceStorePolicy = nodeClass.InstanceStorePolicy,
            VmMemoryOverheadPercent = o.VmMemoryOverheadPercent,
            ReservedEnis = o.ReservedEnis,
        };
        var subnetZones = nodeClass.SubnetZones.Select(z => z.Zone).ToHashSet(StringComparer.Ordinal);
        var result = new List<InstanceType>(_infos.Count);
        foreach (var info in _infos)
        {
            var name = info.InstanceType.Value;
            var zones = _zonesByType.TryGetValue(name, out var z) ? z.Where(subnetZones.Contains).Order(StringComparer.Ordinal).ToList() : [];
            var offerings = new List<Offering>();
            foreach (var zone in zones)
            {
                foreach (var capacityType in (info.SupportedUsageClasses ?? []).Distinct(StringComparer.Ordinal))
                {
                    decimal price;
                    bool priced;
                    switch (capacityType)
                    {
                        case CapacityTypes.Spot:
                            priced = pricing.TryGetSpotPrice(name, zone, out price);
                            break;
                        case CapacityTypes.OnDemand:
                            priced = pricing.TryGetOnDemandPrice(name, out price);
                            break;
                        default:
                            continue; // capacity-block and others are not offered as such
                    }
                    offerings.Add(new Offering(zone, capacityType, price, priced && !unavailable.IsUnavailable(capacityType, name, zone)));
                }
            }
            var resources = AllocatableModel.Compute(info, inputs);
            result.Add(new InstanceType(name, Requirements(info, o.Region, zones, nodeClass), offerings, resources.Capacity, resources.Overhead));
        }
        _cache.Set(key, result);
        return result;
    }

    /// <summary>The labels an instance type gives its nodes (upstream <c>computeRequirements</c>).</summary>
    internal static Requirements Requirements(InstanceTypeInfo info, string region, IReadOnlyList<string> zones, InstanceTypeNodeClass nodeClass)
    {
        var name = info.InstanceType.Value;
        var arch = (info.ProcessorInfo?.SupportedArchitectures ?? []).Select(a => a == "x86_64" ? "amd64" : a == "arm64" ? "arm64" : null)
            .FirstOrDefault(a => a is not null) ?? "unknown";
        var capacityTypes = (info.SupportedUsageClasses ?? [])
            .Where(u => u is CapacityTypes.Spot or CapacityTypes.OnDemand).Distinct(StringComparer.Ordinal).ToList();
        var os = nodeClass.Family.IsWindows ? (arch == "amd64" ? ["windows"] : Array.Empty<string>()) : ["linux"];
        var r = new Requirements(
            Requirement.In(Labels.InstanceType, name),
            Requirement.In(Labels.Arch, arch),
            Requirement.In(Labels.Os, os),
            Requirement.In(Labels.TopologyZone, zones),
            Requirement.In(Labels.TopologyRegion, region),
            nodeClass.Family.WindowsBuild is { } build ? Requirement.In(Labels.WindowsBuild, build) : Requirement.DoesNotExist(Labels.WindowsBuild),
            Requirement.In(Labels.CapacityType, capacityTypes),
            Requirement.In(Labels.InstanceCpu, (info.VCpuInfo?.DefaultVCpus ?? 0).ToString(CultureInfo.InvariantCulture)),
            Requirement.In(Labels.InstanceMemory, (info.MemoryInfo?.SizeInMiB ?? 0).ToString(CultureInfo.InvariantCulture)),
            Requirement.In(Labels.InstanceHypervisor, info.Hypervisor?.Value ?? ""),
            Requirement.In(Labels.InstanceEncryptionInTransitSupported, info.NetworkInfo?.EncryptionInTransitSupported == true ? "true" : "false"),
            Requirement.In(Labels.InstanceTenancy, "default", "dedicated"),
            Requirement.DoesNotExist(Labels.CapacityReservationId),
            Requirement.DoesNotExist(Labels.CapacityReservationType));
        var zoneIds = nodeClass.SubnetZones.Where(z => zones.Contains(z.Zone) && !string.IsNullOrEmpty(z.ZoneId)).Select(z => z.ZoneId!).Distinct(StringComparer.Ordinal).ToList();
        if (zoneIds.Count > 0)
        {
            r.Add(Requirement.In(Labels.TopologyZoneId, zoneIds));
        }
        void Label(string key, string? value) => r.Add(value is null ? Requirement.DoesNotExist(key) : Requirement.In(key, value));
        var match = Scheme().Match(name);
        Label(Labels.InstanceCategory, match.Success ? match.Groups[1].Value : null);
        Label(Labels.InstanceGeneration, match.Success ? match.Groups[3].Value : null);
        var parts = name.Split('.');
        Label(Labels.InstanceFamily, parts.Length == 2 ? parts[0] : null);
        Label(Labels.InstanceSize, parts.Length == 2 ? parts[1] : null);
        Label(Labels.InstanceCapabilityFlex, parts[0].Contains("-flex", StringComparison.Ordinal) ? "true" : "false");
        Label(Labels.InstanceLocalNvme, info.InstanceStorageInfo is { TotalSizeInGB: { } gb } s && s.NvmeSupport?.Value != "unsupported"
            ? gb.ToString(CultureInfo.InvariantCulture) : null);
        var defaultCard = info.NetworkInfo?.NetworkCards?.FirstOrDefault(c => (c.NetworkCardIndex ?? 0) == (info.NetworkInfo.DefaultNetworkCardIndex ?? 0));
        Label(Labels.InstanceNetworkBandwidth, defaultCard?.BaselineBandwidthInGbps is { } gbps
            ? ((long)Math.Round(gbps * 1000)).ToString(CultureInfo.InvariantCulture) : null);
        var gpu = info.GpuInfo?.Gpus is { Count: 1 } gpus ? gpus[0] : null;
        Label(Labels.InstanceGpuName, gpu is null ? null : Kebab(gpu.Name));
        Label(Labels.InstanceGpuManufacturer, gpu is null ? null : Kebab(gpu.Manufacturer));
        Label(Labels.InstanceGpuCount, gpu?.Count?.ToString(CultureInfo.InvariantCulture));
        Label(Labels.InstanceGpuMemory, gpu?.MemoryInfo?.SizeInMiB?.ToString(CultureInfo.InvariantCulture));
        var neuron = info.NeuronInfo?.NeuronDevices is { Count: 1 } devices ? devices[0] : null;
        var accelerator = neuron is null && info.InferenceAcceleratorInfo?.Accelerators is { Count: 1 } accs ? accs[0] : null;
        Label(Labels.InstanceAcceleratorName, neuron is not null ? Kebab(neuron.Name) : accelerator is not null ? Kebab(accelerator.Name) : null);
        Label(Labels.InstanceAcceleratorManufacturer, neuron is not null ? "aws" : accelerator is not null ? Kebab(accelerator.Manufacturer) : null);
        Label(Labels.InstanceAcceleratorCount, (neuron?.Count ?? accelerator?.Count)?.ToString(CultureInfo.InvariantCulture));
        Label(Labels.InstanceCpuManufacturer, info.ProcessorInfo?.Manufacturer is { } m ? Kebab(m) : null);
        Label(Labels.InstanceCpuSustainedClockSpeedMhz, info.ProcessorInfo?.SustainedClockSpeedInGhz is { } ghz
            ? ((long)Math.Round(ghz * 1000)).ToString(CultureInfo.InvariantCulture) : null);
        Label(Labels.InstanceEbsBandwidth, info.EbsInfo?.EbsOptimizedSupport?.Value == "default" && info.EbsInfo.EbsOptimizedInfo?.MaximumBandwidthInMbps is { } mbps
            ? mbps.ToString(CultureInfo.InvariantCulture) : null);
        return r;
    }

    public void Dispose() => _refresh.Dispose();

    private static string? Kebab(string? s) => s?.Replace(' ', '-').ToLowerInvariant();
}

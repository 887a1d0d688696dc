using Amazon.EC2.Model;
using Karpenter.Aws.Amis;
using Karpenter.Aws.LaunchTemplates.UserData;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Scheduling;

namespace Karpenter.Aws.InstanceTypes;

/// <summary>The extended resources EC2 instances offer, as the AWS device plugins and VPC resource controller name them.</summary>
public static class AwsResourceNames
{
    public const string AwsPodEni = "vpc.amazonaws.com/pod-eni";
    public const string Efa = "vpc.amazonaws.com/efa";
    public const string NvidiaGpu = "nvidia.com/gpu";
    public const string AmdGpu = "amd.com/gpu";
    public const string AwsNeuron = "aws.amazon.com/neuron";
    public const string AwsNeuronCore = "aws.amazon.com/neuroncore";
    public const string HabanaGaudi = "habana.ai/gaudi";
    public const string PrivateIpv4Address = "vpc.amazonaws.com/PrivateIPv4Address";
}

/// <summary>A block device of the NodeClass as far as ephemeral storage is concerned.</summary>
public sealed record BlockDeviceSize(string? DeviceName, bool RootVolume, long? VolumeSizeBytes);

/// <summary>The VPC limits that DescribeInstanceTypes does not expose (branch ENIs for security groups for pods).</summary>
public sealed record VpcLimits(bool TrunkingCompatible, int BranchInterfaces);

/// <summary>Everything besides the instance type that the allocatable arithmetic depends on.</summary>
public sealed record AllocatableInputs
{
    public required AmiFamily Family { get; init; }

    public KubeletSettings Kubelet { get; init; } = new();

    public IReadOnlyList<BlockDeviceSize> BlockDevices { get; init; } = [];

    public string? InstanceStorePolicy { get; init; }

    public double VmMemoryOverheadPercent { get; init; } = 0.075;

    public int ReservedEnis { get; init; }

    /// <summary>Branch-ENI limits by instance type, when known; without them <c>vpc.amazonaws.com/pod-eni</c> is 0.</summary>
    public Func<string, VpcLimits?>? VpcLimits { get; init; }
}

/// <summary>Capacity and the three overheads (in the scheduler's units: millicores, bytes, counts).</summary>
public sealed record InstanceTypeResources(Resources Capacity, InstanceTypeOverhead Overhead)
{
    /// <summary>capacity − (kube-reserved + system-reserved + eviction threshold), never below zero, as <see cref="InstanceType"/> does.</summary>
    public Resources Allocatable
    {
        get
        {
            var r = Capacity - Overhead.Total;
            foreach (var name in r.Names.ToList())
            {
                if (r.Get(name) < 0)
                {
                    r = r.With(name, 0);
                }
            }
            return r;
        }
    }
}

/// <summary>
/// Upstream's allocatable model for EC2 (<c>pkg/providers/instancetype/types.go</c>): memory minus the Graviton CMA reserve and
/// the VM overhead, pods from the ENI limits (or maxPods, or 110), kube-reserved CPU on the Bottlerocket curve and memory
/// <c>11 × pods + 255 Mi</c>, eviction at 100Mi and 10% of ephemeral storage unless <c>evictionHard</c> says otherwise.
/// </summary>
public static class AllocatableModel
{
    private const long Mi = 1024L * 1024;
    private const long Gi = Mi * 1024;

    public static InstanceTypeResources Compute(InstanceTypeInfo info, AllocatableInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(inputs);
        var cpus = info.VCpuInfo?.DefaultVCpus ?? 0;
        var memory = Memory(info, inputs.VmMemoryOverheadPercent);
        var storage = EphemeralStorage(info, inputs);
        var pods = Pods(info, inputs);
        var capacity = new Resources(cpus * 1000L, memory, pods, storage)
            .With(AwsResourceNames.AwsPodEni, inputs.VpcLimits?.Invoke(info.InstanceType?.Value ?? "") is { TrunkingCompatible: true } limits
                ? limits.BranchInterfaces : 0)
            .With(AwsResourceNames.NvidiaGpu, Gpus(info, "NVIDIA"))
            .With(AwsResourceNames.AmdGpu, Gpus(info, "AMD"))
            .With(AwsResourceNames.HabanaGaudi, Gpus(info, "Habana"))
            .With(AwsResourceNames.AwsNeuron, info.NeuronInfo?.NeuronDevices?.Sum(d => d.Count ?? 0) ?? 0)
            .With(AwsResourceNames.AwsNeuronCore, info.NeuronInfo?.NeuronDevices is { Count: > 0 } devices
                ? (devices[0].Count ?? 0) * (devices[0].CoreInfo?.Count ?? 0) : 0)
            .With(AwsResourceNames.Efa, info.NetworkInfo?.EfaInfo?.MaximumEfaInterfaces ?? 0);
        var reservedPods = inputs.Family.UsesEniLimitedMemoryOverhead ? EniLimitedPods(info, 0) : pods;
        return new InstanceTypeResources(capacity, new InstanceTypeOverhead(
            KubeReserved(cpus, reservedPods, inputs.Kubelet.KubeReserved),
            Parse(inputs.Kubelet.SystemReserved),
            EvictionThreshold(memory, storage, inputs.Kubelet.EvictionHard)));
    }

    /// <summary>MiB − 64 MiB on Graviton, minus ⌈overhead × memory⌉ MiB.</summary>
    public static long Memory(InstanceTypeInfo info, double vmMemoryOverheadPercent)
    {
        ArgumentNullException.ThrowIfNull(info);
        var mib = info.MemoryInfo?.SizeInMiB ?? 0;
        if (info.ProcessorInfo?.SupportedArchitectures is { Count: > 0 } archs && archs[0] == "arm64")
        {
            mib -= 64;
        }
        var overheadMib = (long)Math.Ceiling(mib * vmMemoryOverheadPercent);
        return (mib - overheadMib) * Mi;
    }

    /// <summary><c>usable ENIs on the default network card × (IPv4 per ENI − 1) + 2</c>, the VPC CNI's formula.</summary>
    public static int EniLimitedPods(InstanceTypeInfo info, int reservedEnis)
    {
        ArgumentNullException.ThrowIfNull(info);
        var network = info.NetworkInfo;
        if (network is null)
        {
            return 0;
        }
        var defaultCard = network.DefaultNetworkCardIndex ?? 0;
        var enis = network.NetworkCards?.FirstOrDefault(c => (c.NetworkCardIndex ?? 0) == defaultCard)?.MaximumNetworkInterfaces
            ?? network.MaximumNetworkInterfaces ?? 0;
        var usable = Math.Max(enis - reservedEnis, 0);
        return usable == 0 ? 0 : (usable * ((network.Ipv4AddressesPerInterface ?? 0) - 1)) + 2;
    }

    public static int Pods(InstanceTypeInfo info, AllocatableInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(inputs);
        var count = inputs.Kubelet.MaxPods
            ?? (inputs.Family.SupportsEniLimitedPodDensity ? EniLimitedPods(info, inputs.ReservedEnis) : 110);
        if (inputs.Kubelet.PodsPerCore is > 0 and var perCore && inputs.Family.PodsPerCoreEnabled)
        {
            count = Math.Min(count, perCore * (info.VCpuInfo?.DefaultVCpus ?? 0));
        }
        return count;
    }

    /// <summary>RAID0 instance store, else the root or ephemeral block device of the NodeClass, else the family default.</summary>
    public static long EphemeralStorage(InstanceTypeInfo info, AllocatableInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.InstanceStorePolicy == "RAID0" && info.InstanceStorageInfo?.TotalSizeInGB is { } gb)
        {
            return gb * 1_000_000_000L;
        }
        var family = inputs.Family;
        if (inputs.BlockDevices.Count > 0)
        {
            if (inputs.BlockDevices.FirstOrDefault(b => b.RootVolume) is { VolumeSizeBytes: { } root })
            {
                return root;
            }
            if (family == AmiFamily.Custom)
            {
                return inputs.BlockDevices[^1].VolumeSizeBytes ?? 20 * Gi;
            }
            if (inputs.BlockDevices.FirstOrDefault(b => b.DeviceName == family.EphemeralBlockDevice) is { VolumeSizeBytes: { } size })
            {
                return size;
            }
        }
        return family.DefaultBlockDevices.FirstOrDefault(b => b.DeviceName == family.EphemeralBlockDevice)?.VolumeSizeBytes ?? 20 * Gi;
    }

    /// <summary>CPU: 6% of the first core, 1% of the second, 0.5% of the next two, 0.25% of the rest (each range truncated to
    /// whole millicores); memory <c>11 × pods + 255</c> MiB; ephemeral storage 1Gi; then the NodeClass's kubeReserved wins.</summary>
    public static Resources KubeReserved(int cpus, int pods, IReadOnlyDictionary<string, string>? overrides)
    {
        var millis = cpus * 1000L;
        long reservedMillis = 0;
        foreach (var (start, end, fraction) in new (long, long, double)[]
        {
            (0, 1000, 0.06), (1000, 2000, 0.01), (2000, 4000, 0.005), (4000, 1L << 31, 0.0025),
        })
        {
            if (millis >= start)
            {
                var range = (double)(Math.Min(millis, end) - start);
                reservedMillis += (long)(range * fraction);
            }
        }
        var result = new Resources(reservedMillis, ((11L * pods) + 255) * Mi, 0, Gi);
        foreach (var (name, value) in overrides ?? new Dictionary<string, string>())
        {
            result = result.With(name, Resources.ToUnit(name, Core.Scheduling.Quantity.Parse(value)));
        }
        return result;
    }

    /// <summary>100Mi of memory and ⌈10%⌉ of ephemeral storage, each replaced by <c>evictionHard</c>'s <c>memory.available</c> /
    /// <c>nodefs.available</c> (a quantity, or a percentage of capacity; 100% means disabled). <c>evictionSoft</c> does not count.</summary>
    public static Resources EvictionThreshold(long memory, long storage, IReadOnlyDictionary<string, string>? evictionHard)
    {
        var result = new Resources(0, 100 * Mi, 0, (long)Math.Ceiling(storage / 100m * 10));
        if (evictionHard is not null)
        {
            if (evictionHard.TryGetValue("memory.available", out var m))
            {
                result = result.With(ResourceNames.Memory, Signal(ResourceNames.Memory, memory, m));
            }
            if (evictionHard.TryGetValue("nodefs.available", out var n))
            {
                result = result.With(ResourceNames.EphemeralStorage, Signal(ResourceNames.EphemeralStorage, storage, n));
            }
        }
        return result;
    }

    private static long Signal(string name, long capacity, string value)
    {
        if (value.EndsWith('%'))
        {
            var percent = decimal.Parse(value.TrimEnd('%'), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
            if (percent == 100)
            {
                percent = 0;
            }
            return (long)Math.Ceiling(capacity / 100m * percent);
        }
        return Resources.ToUnit(name, Core.Scheduling.Quantity.Parse(value));
    }

    private static Resources Parse(IReadOnlyDictionary<string, string>? values) =>
        values is null ? Resources.None : Resources.Parse(values);

    private static int Gpus(InstanceTypeInfo info, string manufacturer) =>
        info.GpuInfo?.Gpus?.Where(g => g.Manufacturer == manufacturer).Sum(g => g.Count ?? 0) ?? 0;
}

using Amazon.EC2.Model;
using Karpenter.Aws.Amis;
using Karpenter.Aws.InstanceTypes;
using Karpenter.Aws.LaunchTemplates.UserData;
using Karpenter.Core.Scheduling;

namespace Karpenter.Tests.Aws.InstanceTypes;

/// <summary>The knobs of the allocatable model: kubelet settings, AMI family, block devices, RAID0, reserved ENIs.</summary>
public sealed class AllocatableModelTests
{
    private const long Mi = 1024L * 1024;
    private const long Gi = Mi * 1024;

    /// <summary>m5.large: 2 vCPU, 8 GiB, 3 ENIs × 10 addresses.</summary>
    private static InstanceTypeInfo M5Large() => new()
    {
        InstanceType = new Amazon.EC2.InstanceType("m5.large"),
        VCpuInfo = new() { DefaultVCpus = 2 },
        MemoryInfo = new() { SizeInMiB = 8192 },
        ProcessorInfo = new() { SupportedArchitectures = ["x86_64"] },
        NetworkInfo = new()
        {
            MaximumNetworkInterfaces = 3,
            Ipv4AddressesPerInterface = 10,
            DefaultNetworkCardIndex = 0,
            NetworkCards = [new() { NetworkCardIndex = 0, MaximumNetworkInterfaces = 3 }],
        },
        InstanceStorageInfo = new() { TotalSizeInGB = 75 },
    };

    private static InstanceTypeResources Compute(AmiFamily family, KubeletSettings? kubelet = null, Func<AllocatableInputs, AllocatableInputs>? tweak = null)
    {
        var inputs = new AllocatableInputs { Family = family, Kubelet = kubelet ?? new() };
        return AllocatableModel.Compute(M5Large(), tweak is null ? inputs : tweak(inputs));
    }

    [Fact]
    public void AL2023_defaults_give_upstreams_m5_large_figures()
    {
        var a = Compute(AmiFamily.AL2023).Allocatable;
        Assert.Equal(1930, a.Get(ResourceNames.Cpu));
        Assert.Equal(6903 * Mi, a.Get(ResourceNames.Memory));
        Assert.Equal(29, a.Get(ResourceNames.Pods));
        Assert.Equal(17 * Gi, a.Get(ResourceNames.EphemeralStorage));
    }

    [Fact]
    public void MaxPods_sets_pods_but_AL2023_still_reserves_memory_for_the_ENI_limited_count()
    {
        var r = Compute(AmiFamily.AL2023, new KubeletSettings { MaxPods = 110 });
        Assert.Equal(110, r.Capacity.Get(ResourceNames.Pods));
        Assert.Equal(((11 * 29) + 255) * Mi, r.Overhead.KubeReserved.Get(ResourceNames.Memory));
    }

    [Fact]
    public void Bottlerocket_reserves_memory_for_the_pods_it_actually_runs()
    {
        var r = Compute(AmiFamily.Bottlerocket, new KubeletSettings { MaxPods = 110 });
        Assert.Equal(((11 * 110) + 255) * Mi, r.Overhead.KubeReserved.Get(ResourceNames.Memory));
        Assert.Equal(20 * Gi, r.Capacity.Get(ResourceNames.EphemeralStorage));
    }

    [Fact]
    public void PodsPerCore_caps_pods_except_on_Bottlerocket()
    {
        Assert.Equal(8, Compute(AmiFamily.AL2023, new KubeletSettings { PodsPerCore = 4 }).Capacity.Get(ResourceNames.Pods));
        Assert.Equal(29, Compute(AmiFamily.Bottlerocket, new KubeletSettings { PodsPerCore = 4 }).Capacity.Get(ResourceNames.Pods));
    }

    [Fact]
    public void Windows_runs_110_pods_on_a_50Gi_root_volume()
    {
        var r = Compute(AmiFamily.Windows2022);
        Assert.Equal(110, r.Capacity.Get(ResourceNames.Pods));
        Assert.Equal(50 * Gi, r.Capacity.Get(ResourceNames.EphemeralStorage));
    }

    [Fact]
    public void EvictionHard_percentages_and_quantities_replace_the_defaults_and_100_percent_disables()
    {
        var r = Compute(AmiFamily.AL2023, new KubeletSettings
        {
            EvictionHard = new Dictionary<string, string> { ["memory.available"] = "500Mi", ["nodefs.available"] = "100%" },
        });
        Assert.Equal(500 * Mi, r.Overhead.EvictionThreshold.Get(ResourceNames.Memory));
        Assert.Equal(0, r.Overhead.EvictionThreshold.Get(ResourceNames.EphemeralStorage));
        var pct = Compute(AmiFamily.AL2023, new KubeletSettings { EvictionHard = new Dictionary<string, string> { ["memory.available"] = "5%" } });
        Assert.Equal((long)Math.Ceiling(pct.Capacity.Get(ResourceNames.Memory) / 100m * 5), pct.Overhead.EvictionThreshold.Get(ResourceNames.Memory));
    }

    [Fact]
    public void EvictionSoft_does_not_reduce_allocatable()
    {
        var soft = Compute(AmiFamily.AL2023, new KubeletSettings { EvictionSoft = new Dictionary<string, string> { ["memory.available"] = "2Gi" } });
        Assert.Equal(Compute(AmiFamily.AL2023).Allocatable.Get(ResourceNames.Memory), soft.Allocatable.Get(ResourceNames.Memory));
    }

    [Fact]
    public void KubeReserved_and_SystemReserved_from_the_NodeClass_win()
    {
        var r = Compute(AmiFamily.AL2023, new KubeletSettings
        {
            KubeReserved = new Dictionary<string, string> { ["cpu"] = "250m" },
            SystemReserved = new Dictionary<string, string> { ["memory"] = "1Gi" },
        });
        Assert.Equal(250, r.Overhead.KubeReserved.Get(ResourceNames.Cpu));
        Assert.Equal(1 * Gi, r.Overhead.SystemReserved.Get(ResourceNames.Memory));
        Assert.Equal(2000 - 250, r.Allocatable.Get(ResourceNames.Cpu));
    }

    [Fact]
    public void RAID0_uses_the_instance_store_and_a_root_volume_mapping_sets_the_size()
    {
        Assert.Equal(75_000_000_000L, Compute(AmiFamily.AL2023, tweak: i => i with { InstanceStorePolicy = "RAID0" }).Capacity.Get(ResourceNames.EphemeralStorage));
        Assert.Equal(100 * Gi, Compute(AmiFamily.AL2023, tweak: i => i with
        {
            BlockDevices = [new BlockDeviceSize("/dev/xvdb", false, 10 * Gi), new BlockDeviceSize("/dev/xvda", true, 100 * Gi)],
        }).Capacity.Get(ResourceNames.EphemeralStorage));
        Assert.Equal(80 * Gi, Compute(AmiFamily.Bottlerocket, tweak: i => i with
        {
            BlockDevices = [new BlockDeviceSize("/dev/xvda", false, 4 * Gi), new BlockDeviceSize("/dev/xvdb", false, 80 * Gi)],
        }).Capacity.Get(ResourceNames.EphemeralStorage));
    }

    [Fact]
    public void Reserved_ENIs_lower_pod_density_and_the_VM_overhead_is_a_setting()
    {
        Assert.Equal(20, Compute(AmiFamily.AL2023, tweak: i => i with { ReservedEnis = 1 }).Capacity.Get(ResourceNames.Pods));
        Assert.Equal((8192 - 820) * Mi, Compute(AmiFamily.AL2023, tweak: i => i with { VmMemoryOverheadPercent = 0.1 }).Capacity.Get(ResourceNames.Memory));
    }
}

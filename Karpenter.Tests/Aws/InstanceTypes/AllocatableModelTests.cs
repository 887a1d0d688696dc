using Amazon.EC2.Model;
using Karpenter.Aws.Amis;
using Karpenter.Aws.InstanceTypes;
using Karpenter.Aws.LaunchTemplates.UserData;

namespace Karpenter.Tests.Aws.InstanceTypes;

/// <summary>The knobs of the allocatable model: kubelet settings, AMI family, block devices, RAID0, reserved ENIs.</summary>
public sealed class AllocatableModelTests
{
    private const decimal Mi = 1024m * 1024;
    private const decimal Gi = Mi * 1024;

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
        Assert.Equal(1.930m, a[ResourceNames.Cpu]);
        Assert.Equal(6903 * Mi, a[ResourceNames.Memory]);
        Assert.Equal(29m, a[ResourceNames.Pods]);
        Assert.Equal(17 * Gi, a[ResourceNames.EphemeralStorage]);
    }

    [Fact]
    public void MaxPods_sets_pods_but_AL2023_still_reserves_memory_for_the_ENI_limited_count()
    {
        var r = Compute(AmiFamily.AL2023, new KubeletSettings { MaxPods = 110 });
        Assert.Equal(110m, r.Capacity[ResourceNames.Pods]);
        Assert.Equal(((11 * 29) + 255) * Mi, r.KubeReserved[ResourceNames.Memory]);
    }

    [Fact]
    public void Bottlerocket_reserves_memory_for_the_pods_it_actually_runs()
    {
        var r = Compute(AmiFamily.Bottlerocket, new KubeletSettings { MaxPods = 110 });
        Assert.Equal(((11 * 110) + 255) * Mi, r.KubeReserved[ResourceNames.Memory]);
        Assert.Equal(20 * Gi, r.Capacity[ResourceNames.EphemeralStorage]);
    }

    [Fact]
    public void PodsPerCore_caps_pods_except_on_Bottlerocket()
    {
        Assert.Equal(8m, Compute(AmiFamily.AL2023, new KubeletSettings { PodsPerCore = 4 }).Capacity[ResourceNames.Pods]);
        Assert.Equal(29m, Compute(AmiFamily.Bottlerocket, new KubeletSettings { PodsPerCore = 4 }).Capacity[ResourceNames.Pods]);
    }

    [Fact]
    public void Windows_runs_110_pods_on_a_50Gi_root_volume()
    {
        var r = Compute(AmiFamily.Windows2022);
        Assert.Equal(110m, r.Capacity[ResourceNames.Pods]);
        Assert.Equal(50 * Gi, r.Capacity[ResourceNames.EphemeralStorage]);
    }

    [Fact]
    public void EvictionHard_percentages_and_quantities_replace_the_defaults_and_100_percent_disables()
    {
        var r = Compute(AmiFamily.AL2023, new KubeletSettings
        {
            EvictionHard = new Dictionary<string, string> { ["memory.available"] = "500Mi", ["nodefs.available"] = "100%" },
        });
        Assert.Equal(500 * Mi, r.EvictionThreshold[ResourceNames.Memory]);
        Assert.Equal(0m, r.EvictionThreshold[ResourceNames.EphemeralStorage]);
        var pct = Compute(AmiFamily.AL2023, new KubeletSettings { EvictionHard = new Dictionary<string, string> { ["memory.available"] = "5%" } });
        Assert.Equal(Math.Ceiling(pct.Capacity[ResourceNames.Memory] / 100 * 5), pct.EvictionThreshold[ResourceNames.Memory]);
    }

    [Fact]
    public void EvictionSoft_does_not_reduce_allocatable()
    {
        var soft = Compute(AmiFamily.AL2023, new KubeletSettings { EvictionSoft = new Dictionary<string, string> { ["memory.available"] = "2Gi" } });
        Assert.Equal(Compute(AmiFamily.AL2023).Allocatable[ResourceNames.Memory], soft.Allocatable[ResourceNames.Memory]);
    }

    [Fact]
    public void KubeReserved_and_SystemReserved_from_the_NodeClass_win()
    {
        var r = Compute(AmiFamily.AL2023, new KubeletSettings
        {
            KubeReserved = new Dictionary<string, string> { ["cpu"] = "250m" },
            SystemReserved = new Dictionary<string, string> { ["memory"] = "1Gi" },
        });
        Assert.Equal(0.25m, r.KubeReserved[ResourceNames.Cpu]);
        Assert.Equal(1 * Gi, r.SystemReserved[ResourceNames.Memory]);
        Assert.Equal(2m - 0.25m, r.Allocatable[ResourceNames.Cpu]);
    }

    [Fact]
    public void RAID0_uses_the_instance_store_and_a_root_volume_mapping_sets_the_size()
    {
        Assert.Equal(75_000_000_000m, Compute(AmiFamily.AL2023, tweak: i => i with { InstanceStorePolicy = "RAID0" }).Capacity[ResourceNames.EphemeralStorage]);
        Assert.Equal(100 * Gi, Compute(AmiFamily.AL2023, tweak: i => i with
        {
            BlockDevices = [new BlockDeviceSize("/dev/xvdb", false, (long)(10 * Gi)), new BlockDeviceSize("/dev/xvda", true, (long)(100 * Gi))],
        }).Capacity[ResourceNames.EphemeralStorage]);
        Assert.Equal(80 * Gi, Compute(AmiFamily.Bottlerocket, tweak: i => i with
        {
            BlockDevices = [new BlockDeviceSize("/dev/xvda", false, (long)(4 * Gi)), new BlockDeviceSize("/dev/xvdb", false, (long)(80 * Gi))],
        }).Capacity[ResourceNames.EphemeralStorage]);
    }

    [Fact]
    public void Reserved_ENIs_lower_pod_density_and_the_VM_overhead_is_a_setting()
    {
        Assert.Equal(20m, Compute(AmiFamily.AL2023, tweak: i => i with { ReservedEnis = 1 }).Capacity[ResourceNames.Pods]);
        Assert.Equal((8192 - 820) * Mi, Compute(AmiFamily.AL2023, tweak: i => i with { VmMemoryOverheadPercent = 0.1 }).Capacity[ResourceNames.Memory]);
    }
}

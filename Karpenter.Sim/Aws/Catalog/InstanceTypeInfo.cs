namespace Karpenter.Sim.Aws.Catalog;

/// <summary>
/// The facts about one EC2 instance type that DescribeInstanceTypes reports and the emulator prices with.
/// <see cref="Architecture"/> uses EC2's spelling (<c>x86_64</c>, <c>arm64</c>).
/// </summary>
public sealed record InstanceTypeInfo
{
    public required string Name { get; init; }

    public required int VCpus { get; init; }

    public required long MemoryMiB { get; init; }

    public required string Architecture { get; init; }

    /// <summary><c>nitro</c>, <c>xen</c>, or empty for bare metal (EC2 reports none).</summary>
    public string Hypervisor { get; init; } = "nitro";

    public bool BareMetal { get; init; }

    public bool Burstable { get; init; }

    /// <summary>Network interfaces on the default network card.</summary>
    public required int MaxNetworkInterfaces { get; init; }

    public required int Ipv4AddressesPerInterface { get; init; }

    public int NetworkCards { get; init; } = 1;

    public double NetworkBaselineGbps { get; init; }

    public int EbsBaselineMbps { get; init; }

    public string? GpuName { get; init; }

    public string? GpuManufacturer { get; init; }

    public int GpuCount { get; init; }

    public long GpuMemoryMiB { get; init; }

    public string? AcceleratorName { get; init; }

    public string? AcceleratorManufacturer { get; init; }

    public int AcceleratorCount { get; init; }

    /// <summary>Linux on-demand price per hour in us-east-1, or null where AWS publishes none.</summary>
    public double? OnDemandPrice { get; init; }

    public double ClockSpeedGhz { get; init; }

    public string CpuManufacturer { get; init; } = "intel";

    public int LocalNvmeGb { get; init; }

    public string Family => Name[..Name.IndexOf('.', StringComparison.Ordinal)];

    public string Size => Name[(Name.IndexOf('.', StringComparison.Ordinal) + 1)..];
}

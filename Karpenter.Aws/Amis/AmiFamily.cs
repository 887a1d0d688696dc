using Karpenter.Aws.LaunchTemplates.UserData;

namespace Karpenter.Aws.Amis;

/// <summary>A default EBS volume of an AMI family.</summary>
public sealed record DefaultBlockDevice(string DeviceName, long VolumeSizeBytes, string VolumeType = "gp3", bool Encrypted = true);

/// <summary>
/// What differs between the AMI families Karpenter knows (upstream <c>pkg/providers/amifamily</c>): the user-data format, the
/// default block devices and the one that holds ephemeral storage, and the kubelet features the family's bootstrap honours.
/// </summary>
public sealed class AmiFamily
{
    private const long Gi = 1L << 30;

    private AmiFamily(string name, IUserDataRenderer renderer, IReadOnlyList<DefaultBlockDevice> blockDevices, string ephemeralDevice,
        bool usesEniLimitedMemoryOverhead, bool podsPerCoreEnabled, bool evictionSoftEnabled, bool supportsEniLimitedPodDensity,
        string? windowsBuild = null)
    {
        Name = name;
        UserData = renderer;
        DefaultBlockDevices = blockDevices;
        EphemeralBlockDevice = ephemeralDevice;
        UsesEniLimitedMemoryOverhead = usesEniLimitedMemoryOverhead;
        PodsPerCoreEnabled = podsPerCoreEnabled;
        EvictionSoftEnabled = evictionSoftEnabled;
        SupportsEniLimitedPodDensity = supportsEniLimitedPodDensity;
        WindowsBuild = windowsBuild;
    }

    public static AmiFamily AL2 { get; } = new("AL2", new EksBootstrapUserData(), [new("/dev/xvda", 20 * Gi)], "/dev/xvda",
        true, true, true, true);

    public static AmiFamily AL2023 { get; } = new("AL2023", new NodeadmUserData(), [new("/dev/xvda", 20 * Gi)], "/dev/xvda",
        true, true, true, true);

    /// <summary>Bottlerocket boots from a 4Gi <c>/dev/xvda</c> and keeps containers and ephemeral storage on <c>/dev/xvdb</c>.</summary>
    public static AmiFamily Bottlerocket { get; } = new("Bottlerocket", new BottlerocketUserData(),
        [new("/dev/xvda", 4 * Gi), new("/dev/xvdb", 20 * Gi)], "/dev/xvdb", false, false, false, true);

    public static AmiFamily Windows2019 { get; } = Windows("Windows2019", "10.0.17763");

    public static AmiFamily Windows2022 { get; } = Windows("Windows2022", "10.0.20348");

    public static AmiFamily Windows2025 { get; } = Windows("Windows2025", "10.0.26100");

    /// <summary>Custom AMIs bootstrap themselves: user data passes through, defaults are AL2's.</summary>
    public static AmiFamily Custom { get; } = new("Custom", new CustomUserData(), [new("/dev/xvda", 20 * Gi)], "/dev/xvda",
        true, true, true, true);

    public static IReadOnlyList<AmiFamily> All { get; } = [AL2, AL2023, Bottlerocket, Windows2019, Windows2022, Windows2025, Custom];

    /// <summary>The <c>amiFamily</c> value, as the EC2NodeClass enum spells it.</summary>
    public string Name { get; }

    public IUserDataRenderer UserData { get; }

    public IReadOnlyList<DefaultBlockDevice> DefaultBlockDevices { get; }

    public string EphemeralBlockDevice { get; }

    /// <summary>kube-reserved memory is computed from the ENI-limited pod count even when maxPods is set.</summary>
    public bool UsesEniLimitedMemoryOverhead { get; }

    public bool PodsPerCoreEnabled { get; }

    public bool EvictionSoftEnabled { get; }

    /// <summary>Without a kubelet maxPods, pods are ENI-limited (VPC CNI); otherwise 110.</summary>
    public bool SupportsEniLimitedPodDensity { get; }

    /// <summary>The <c>node.kubernetes.io/windows-build</c> of a Windows family; null for Linux.</summary>
    public string? WindowsBuild { get; }

    public bool IsWindows => WindowsBuild is not null;

    /// <summary>Only non-Custom families get <c>karpenter.sh/do-not-sync-taints=true</c>: their bootstrap registers the taints.</summary>
    public bool ManagesBootstrap => this != Custom;

    /// <summary>The family of an <c>amiFamily</c> value; null when unknown. An empty value means AL2 as upstream defaults it.</summary>
    public static AmiFamily? FromName(string? name) =>
        string.IsNullOrEmpty(name) ? AL2 : All.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.Ordinal));

    public override string ToString() => Name;

    private static AmiFamily Windows(string name, string build) =>
        new(name, new WindowsUserData(), [new("/dev/sda1", 50 * Gi)], "/dev/sda1", false, true, true, false, build);
}

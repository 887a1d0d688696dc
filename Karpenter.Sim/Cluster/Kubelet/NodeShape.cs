using System.Text.RegularExpressions;
using k8s.Models;
using Karpenter.Sim.Aws.Catalog;
using Karpenter.Sim.Aws.World;
using Karpenter.Sim.Cluster.Kubelet.Bootstrap;
using Karpenter.Sim.Cluster.Resources;

namespace Karpenter.Sim.Cluster.Kubelet;

/// <summary>
/// What a node looks like to Kubernetes once its kubelet has started: capacity as the kubelet measures the machine,
/// allocatable after kube-reserved, system-reserved and the hard eviction thresholds, the device-plugin resources
/// that appear once the node is up, and the node's system info.
/// </summary>
public sealed record NodeShape(ResourceAmounts Capacity, ResourceAmounts Allocatable, ResourceAmounts Devices, V1NodeSystemInfo SystemInfo, string Os, string Arch, string? WindowsBuild)
{
    private const long Mi = 1L << 20;
    private const long Gi = 1L << 30;

    /// <summary>
    /// Measures the node: vCPUs; memory less the share the guest does not see (and the arm64 CMA reserve); pods from
    /// <c>maxPods</c> (or the image's default: the VPC CNI's ENI formula, 110 on Windows), capped by
    /// <c>podsPerCore</c>; ephemeral storage from the volume the image keeps its data on. Reservations default to
    /// the EKS images' formulas: kube-reserved CPU 6% of the first core, 1% of the second, 0.5% of the next two and
    /// 0.25% of the rest, memory 11 MiB per pod plus 255 MiB, 1 GiB of ephemeral storage; eviction at 100 MiB of
    /// memory and 10% of the node file system. Settings from the user data replace those per key.
    /// </summary>
    public static NodeShape Measure(InstanceTypeInfo type, InstanceSnapshot instance, NodeBootstrapConfig config, KubeletOptions options)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(options);
        var arch = type.Architecture == "arm64" ? "arm64" : "amd64";
        var windows = config.Format == BootstrapFormat.Windows;
        var cpu = type.VCpus * 1000L;
        var memoryMiB = type.MemoryMiB - (arch == "arm64" ? 64 : 0);
        memoryMiB -= (long)Math.Ceiling(memoryMiB * options.MemoryOverheadPercent);
        var memory = memoryMiB * Mi;
        var eniPods = EniLimitedPods(type);
        var pods = (long)(config.MaxPods ?? (windows ? 110 : eniPods));
        if (config.PodsPerCore is > 0 and var perCore)
        {
            pods = Math.Min(pods, (long)perCore * type.VCpus);
        }

        var storage = EphemeralStorageGiB(instance, config.Format) * Gi;
        var capacity = ResourceAmounts.Of(
            (ResourceAmounts.Cpu, cpu),
            (ResourceAmounts.Memory, memory),
            (ResourceAmounts.Pods, pods),
            (ResourceAmounts.EphemeralStorage, storage));

        var reservationPods = config.Format is BootstrapFormat.Nodeadm or BootstrapFormat.EksBootstrapScript ? eniPods : pods;
        var kubeReserved = ResourceAmounts.Of(
            (ResourceAmounts.Cpu, ReservedCpu(type.VCpus)),
            (ResourceAmounts.Memory, ((11 * reservationPods) + 255) * Mi),
            (ResourceAmounts.EphemeralStorage, Gi));
        foreach (var name in (config.KubeReserved ?? new Dictionary<string, string>()).Keys)
        {
            kubeReserved = kubeReserved.With(name, ResourceAmounts.ToUnits(name, config.KubeReserved![name]));
        }

        var systemReserved = ResourceAmounts.From(config.SystemReserved);
        var eviction = new Dictionary<string, string>(StringComparer.Ordinal) { ["memory.available"] = "100Mi", ["nodefs.available"] = "10%" };
        foreach (var (signal, threshold) in config.EvictionHard ?? new Dictionary<string, string>())
        {
            eviction[signal] = threshold;
        }

        var evictionAmounts = ResourceAmounts.Of(
            (ResourceAmounts.Memory, Threshold(eviction["memory.available"], memory, ResourceAmounts.Memory)),
            (ResourceAmounts.EphemeralStorage, Threshold(eviction["nodefs.available"], storage, ResourceAmounts.EphemeralStorage)));
        var allocatable = ResourceAmounts.Empty;
        foreach (var name in capacity.Names)
        {
            allocatable = allocatable.With(name, Math.Max(0, capacity[name] - kubeReserved[name] - systemReserved[name] - evictionAmounts[name]));
        }

        var devices = ResourceAmounts.Empty;
        if (type.GpuCount > 0 && type.GpuManufacturer is { } maker)
        {
            var resource = maker.ToUpperInvariant() switch
            {
                "NVIDIA" => "nvidia.com/gpu",
                "AMD" => "amd.com/gpu",
                "HABANA" => "habana.ai/gaudi",
                _ => null,
            };
            if (resource is not null)
            {
                devices = devices.With(resource, type.GpuCount);
            }
        }

        if (type.AcceleratorCount > 0 && string.Equals(type.AcceleratorManufacturer, "AWS", StringComparison.OrdinalIgnoreCase))
        {
            devices = devices.With("aws.amazon.com/neuron", type.AcceleratorCount);
        }

        var (osImage, kernel, runtime) = SystemImage(config.Format, instance, arch);
        var version = KubernetesVersion(instance.ImageName) ?? options.KubernetesVersion;
        var systemInfo = new V1NodeSystemInfo
        {
            Architecture = arch,
            OperatingSystem = windows ? "windows" : "linux",
            OsImage = osImage,
            KernelVersion = kernel,
            ContainerRuntimeVersion = runtime,
            KubeletVersion = $"v{version}.9-eks-113cf36",
            KubeProxyVersion = $"v{version}.9-eks-113cf36",
            MachineID = Hex(instance.InstanceId, "machine"),
            SystemUUID = "ec2" + Hex(instance.InstanceId, "uuid")[3..],
            BootID = Guid.NewGuid().ToString(),
        };
        return new NodeShape(capacity, allocatable, devices, systemInfo, windows ? "windows" : "linux", arch, windows ? WindowsBuildOf(instance.ImageName) : null);
    }

    /// <summary>The VPC CNI's pod density: <c>ENIs × (IPv4 addresses per ENI − 1) + 2</c>.</summary>
    public static int EniLimitedPods(InstanceTypeInfo type)
    {
        ArgumentNullException.ThrowIfNull(type);
        var enisOnDefaultCard = Math.Max(1, type.MaxNetworkInterfaces / Math.Max(1, type.NetworkCards));
        return (enisOnDefaultCard * (type.Ipv4AddressesPerInterface - 1)) + 2;
    }

    /// <summary>The EKS images' kube-reserved CPU in millicores.</summary>
    public static long ReservedCpu(int vcpus)
    {
        double milli = 0;
        for (var core = 1; core <= vcpus; core++)
        {
            milli += core switch
            {
                1 => 60,
                2 => 10,
                3 or 4 => 5,
                _ => 2.5,
            };
        }

        return (long)milli;
    }

    private static long EphemeralStorageGiB(InstanceSnapshot instance, BootstrapFormat format)
    {
        // Bottlerocket keeps containers and pods on its data volume; the others on the root volume.
        var device = format == BootstrapFormat.Bottlerocket ? "/dev/xvdb" : instance.RootDeviceName ?? (format == BootstrapFormat.Windows ? "/dev/sda1" : "/dev/xvda");
        var mapped = instance.BlockDevices.FirstOrDefault(b => b.DeviceName == device)?.VolumeSizeGiB;
        return mapped ?? (format == BootstrapFormat.Windows ? 50 : 20);
    }

    private static long Threshold(string threshold, long capacity, string resource)
    {
        var text = threshold.Trim();
        if (text.EndsWith('%'))
        {
            return double.TryParse(text[..^1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var percent)
                ? (long)Math.Ceiling(capacity * percent / 100)
                : throw new FormatException($"eviction threshold '{threshold}' is not a percentage");
        }

        return ResourceAmounts.ToUnits(resource, text);
    }

    private static (string OsImage, string Kernel, string Runtime) SystemImage(BootstrapFormat format, InstanceSnapshot instance, string arch)
    {
        var machine = arch == "arm64" ? "aarch64" : "x86_64";
        return format switch
        {
            BootstrapFormat.Nodeadm => ("Amazon Linux 2023.9.20251110", $"6.1.158-178.288.amzn2023.{machine}", "containerd://1.7.27"),
            BootstrapFormat.EksBootstrapScript => ("Amazon Linux 2", $"5.10.245-241.976.amzn2.{machine}", "containerd://1.7.27"),
            BootstrapFormat.Bottlerocket => ($"Bottlerocket OS 1.49.0 (aws-k8s-{KubernetesVersion(instance.ImageName) ?? "1.32"})", "6.1.155", "containerd://1.7.28+bottlerocket"),
            _ => ($"Windows Server {WindowsRelease(instance.ImageName)} Datacenter", $"{WindowsBuildOf(instance.ImageName)}.4294", "containerd://1.7.20"),
        };
    }

    private static string? KubernetesVersion(string? imageName)
    {
        if (imageName is null)
        {
            return null;
        }

        var match = Regex.Match(imageName, "(?:-|k8s-)(1\\.[0-9]{1,2})(?:-|$)", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        return match.Success ? match.Groups[1].Value : null;
    }

    private static string WindowsRelease(string? imageName) =>
        imageName?.Contains("-2019-", StringComparison.Ordinal) == true ? "2019"
        : imageName?.Contains("-2025-", StringComparison.Ordinal) == true ? "2025"
        : "2022";

    private static string WindowsBuildOf(string? imageName) => WindowsRelease(imageName) switch
    {
        "2019" => "10.0.17763",
        "2025" => "10.0.26100",
        _ => "10.0.20348",
    };

    private static string Hex(string seed, string salt) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(seed + salt)))[..32];
}

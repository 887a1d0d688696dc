using Karpenter.Entities.WellKnown;

namespace Karpenter.Entities.Validation;

/// <summary>
/// Which label keys users may put on a NodePool's template or requirements, as upstream's <c>IsRestrictedLabel</c>
/// decides at runtime: well-known labels are allowed; otherwise keys in the restricted domains (<c>kubernetes.io</c>,
/// <c>k8s.io</c>, <c>karpenter.sh</c>, <c>karpenter.k8s.aws</c>, except <c>kops.k8s.io</c>, <c>node.kubernetes.io</c> and
/// <c>node-restriction.kubernetes.io</c>) and <c>kubernetes.io/hostname</c> are refused.
/// </summary>
public static class RestrictedLabels
{
    /// <summary>The label domains Kubernetes and Karpenter reserve.</summary>
    public static IReadOnlyList<string> RestrictedDomains { get; } = ["k8s.io", "karpenter.k8s.aws", "karpenter.sh", "kubernetes.io"];

    /// <summary>Subdomains of the restricted domains that users may use.</summary>
    public static IReadOnlyList<string> DomainExceptions { get; } = ["kops.k8s.io", "node-restriction.kubernetes.io", "node.kubernetes.io"];

    /// <summary>Labels users may constrain although they are in a restricted domain.</summary>
    public static IReadOnlySet<string> WellKnown { get; } = new SortedSet<string>(StringComparer.Ordinal)
    {
        Labels.NodePool, Labels.TopologyZone, Labels.TopologyRegion, Labels.InstanceType, Labels.Arch, Labels.Os,
        Labels.CapacityType, Labels.WindowsBuild, Labels.TopologyZoneId,
        Labels.InstanceTenancy, Labels.CapacityReservationType, Labels.CapacityReservationId, Labels.CapacityReservationInterruptible,
        Labels.Ec2NodeClass, Labels.InstanceEncryptionInTransitSupported, Labels.NitroSandbox, Labels.InstanceCategory,
        Labels.InstanceHypervisor, Labels.InstanceFamily, Labels.InstanceGeneration, Labels.InstanceLocalNvme, Labels.InstanceSize,
        Labels.InstanceCpu, Labels.InstanceCpuManufacturer, Labels.InstanceCpuSustainedClockSpeedMhz, Labels.InstanceMemory,
        Labels.InstanceEbsBandwidth, Labels.InstanceNetworkBandwidth, Labels.InstanceGpuName, Labels.InstanceGpuManufacturer,
        Labels.InstanceGpuCount, Labels.InstanceGpuMemory, Labels.InstanceAcceleratorName, Labels.InstanceAcceleratorManufacturer,
        Labels.InstanceAcceleratorCount, Labels.InstanceCapabilityFlex, Labels.PlacementGroupId, Labels.PlacementGroupPartition,
    };

    /// <summary>Labels refused whatever their domain.</summary>
    public static IReadOnlySet<string> Restricted { get; } = new SortedSet<string>(StringComparer.Ordinal) { Labels.Hostname };

    /// <summary>The key with deprecated spellings (<c>beta.kubernetes.io/arch</c>, …) replaced by the stable ones.</summary>
    public static string Normalize(string key) => Labels.NormalizedAliases.TryGetValue(key, out var stable) ? stable : key;

    /// <summary>Null when users may use <paramref name="key"/>; otherwise why not, naming what is allowed.</summary>
    public static string? Check(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        key = Normalize(key);
        if (WellKnown.Contains(key) || !IsRestrictedNodeLabel(key))
        {
            return null;
        }

        return $"label {key} is restricted; specify a well known label: [{string.Join(" ", WellKnown)}], or a custom label that does not use a restricted domain: [{string.Join(" ", RestrictedDomains)}]";
    }

    private static bool IsRestrictedNodeLabel(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var domain = slash < 0 ? string.Empty : key[..slash];
        if (DomainExceptions.Any(e => domain.EndsWith(e, StringComparison.Ordinal)))
        {
            return false;
        }

        return RestrictedDomains.Any(d => domain.EndsWith(d, StringComparison.Ordinal)) || Restricted.Contains(key);
    }
}

namespace Karpenter.Entities.WellKnown;

/// <summary>Node and NodeClaim label keys, exactly as upstream Karpenter v1 and Kubernetes spell them.</summary>
public static class Labels
{
    public const string KarpenterGroup = "karpenter.sh";
    public const string AwsGroup = "karpenter.k8s.aws";

    // Karpenter core
    public const string NodePool = "karpenter.sh/nodepool";
    public const string CapacityType = "karpenter.sh/capacity-type";
    public const string NodeInitialized = "karpenter.sh/initialized";
    public const string NodeRegistered = "karpenter.sh/registered";
    public const string DoNotSyncTaints = "karpenter.sh/do-not-sync-taints";

    // Kubernetes well-known
    public const string Hostname = "kubernetes.io/hostname";
    public const string TopologyZone = "topology.kubernetes.io/zone";
    public const string TopologyRegion = "topology.kubernetes.io/region";
    public const string InstanceType = "node.kubernetes.io/instance-type";
    public const string Arch = "kubernetes.io/arch";
    public const string Os = "kubernetes.io/os";
    public const string WindowsBuild = "node.kubernetes.io/windows-build";
    public const string ExcludeFromExternalLoadBalancers = "node.kubernetes.io/exclude-from-external-load-balancers";

    // Deprecated spellings that are normalized to the stable keys above.
    public const string BetaZone = "failure-domain.beta.kubernetes.io/zone";
    public const string BetaRegion = "failure-domain.beta.kubernetes.io/region";
    public const string BetaArch = "beta.kubernetes.io/arch";
    public const string BetaOs = "beta.kubernetes.io/os";
    public const string BetaInstanceType = "beta.kubernetes.io/instance-type";

    // AWS
    public const string Ec2NodeClass = "karpenter.k8s.aws/ec2nodeclass";
    public const string InstanceCategory = "karpenter.k8s.aws/instance-category";
    public const string InstanceFamily = "karpenter.k8s.aws/instance-family";
    public const string InstanceGeneration = "karpenter.k8s.aws/instance-generation";
    public const string InstanceSize = "karpenter.k8s.aws/instance-size";
    public const string InstanceCpu = "karpenter.k8s.aws/instance-cpu";
    public const string InstanceCpuManufacturer = "karpenter.k8s.aws/instance-cpu-manufacturer";
    public const string InstanceCpuSustainedClockSpeedMhz = "karpenter.k8s.aws/instance-cpu-sustained-clock-speed-mhz";
    public const string InstanceMemory = "karpenter.k8s.aws/instance-memory";
    public const string InstanceEbsBandwidth = "karpenter.k8s.aws/instance-ebs-bandwidth";
    public const string InstanceNetworkBandwidth = "karpenter.k8s.aws/instance-network-bandwidth";
    public const string InstanceGpuName = "karpenter.k8s.aws/instance-gpu-name";
    public const string InstanceGpuManufacturer = "karpenter.k8s.aws/instance-gpu-manufacturer";
    public const string InstanceGpuCount = "karpenter.k8s.aws/instance-gpu-count";
    public const string InstanceGpuMemory = "karpenter.k8s.aws/instance-gpu-memory";
    public const string InstanceAcceleratorName = "karpenter.k8s.aws/instance-accelerator-name";
    public const string InstanceAcceleratorManufacturer = "karpenter.k8s.aws/instance-accelerator-manufacturer";
    public const string InstanceAcceleratorCount = "karpenter.k8s.aws/instance-accelerator-count";
    public const string InstanceLocalNvme = "karpenter.k8s.aws/instance-local-nvme";
    public const string InstanceHypervisor = "karpenter.k8s.aws/instance-hypervisor";
    public const string InstanceEncryptionInTransitSupported = "karpenter.k8s.aws/instance-encryption-in-transit-supported";
    public const string InstanceCapabilityFlex = "karpenter.k8s.aws/instance-capability-flex";
    public const string NitroSandbox = "karpenter.k8s.aws/nitro-sandbox";
    public const string InstanceTenancy = "karpenter.k8s.aws/instance-tenancy";
    public const string CapacityReservationId = "karpenter.k8s.aws/capacity-reservation-id";
    public const string CapacityReservationType = "karpenter.k8s.aws/capacity-reservation-type";
    public const string CapacityReservationInterruptible = "karpenter.k8s.aws/capacity-reservation-interruptible";
    public const string PlacementGroupId = "karpenter.k8s.aws/placement-group-id";
    public const string PlacementGroupPartition = "karpenter.k8s.aws/placement-group-partition";
    public const string TopologyZoneId = "topology.k8s.aws/zone-id";

    /// <summary>Deprecated label keys and the stable key each one means.</summary>
    public static readonly IReadOnlyDictionary<string, string> NormalizedAliases = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [BetaZone] = TopologyZone,
        [BetaRegion] = TopologyRegion,
        [BetaArch] = Arch,
        [BetaOs] = Os,
        [BetaInstanceType] = InstanceType,
    };
}

/// <summary>Tags Karpenter puts on the cloud instances it launches (upstream <c>pkg/apis/v1/labels.go</c> and the AWS provider's tags).</summary>
public static class InstanceTags
{
    /// <summary>
    /// The name of the NodeClaim an instance was launched for. Garbage collection and the launch of a NodeClaim inherited
    /// from a crashed predecessor use it to match an instance to its NodeClaim before the provider ID is recorded.
    /// </summary>
    public const string NodeClaim = "karpenter.sh/nodeclaim";

    /// <summary>The node name, added after registration.</summary>
    public const string Name = "Name";

    public const string EksClusterName = "eks:eks-cluster-name";
}

/// <summary>Values of <see cref="Labels.CapacityType"/>.</summary>
public static class CapacityTypes
{
    public const string Spot = "spot";
    public const string OnDemand = "on-demand";
    public const string Reserved = "reserved";
}

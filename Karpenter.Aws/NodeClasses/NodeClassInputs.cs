using Karpenter.Aws.Amis;
using Karpenter.Aws.InstanceTypes;
using Karpenter.Aws.LaunchTemplates.UserData;
using Karpenter.Aws.SecurityGroups;
using Karpenter.Aws.Subnets;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.Aws.V1;
using AmiFamily = Karpenter.Aws.Amis.AmiFamily;

namespace Karpenter.Aws.NodeClasses;

/// <summary>What the providers take from an EC2NodeClass: its selector terms, AMI family, kubelet block, block devices and resolved status.</summary>
public static class NodeClassInputs
{
    private const long Gi = 1L << 30;

    /// <summary>The AMI family in effect (the spec's, else the alias's); AL2 when neither is given, as upstream defaults.</summary>
    public static AmiFamily Family(EC2NodeClass nodeClass)
    {
        ArgumentNullException.ThrowIfNull(nodeClass);
        return AmiFamily.FromName(nodeClass.Spec.ResolvedAmiFamily()?.ToString()) ?? AmiFamily.AL2;
    }

    public static IReadOnlyList<SubnetSelector> SubnetTerms(EC2NodeClass nodeClass) =>
        [.. nodeClass.Spec.SubnetSelectorTerms.Select(t => new SubnetSelector(t.Id, t.Tags))];

    public static IReadOnlyList<SecurityGroupSelector> SecurityGroupTerms(EC2NodeClass nodeClass) =>
        [.. nodeClass.Spec.SecurityGroupSelectorTerms.Select(t => new SecurityGroupSelector(t.Id, t.Name, t.Tags))];

    public static IReadOnlyList<AmiSelector> AmiTerms(EC2NodeClass nodeClass) =>
        [.. nodeClass.Spec.AmiSelectorTerms.Select(t => new AmiSelector(t.Alias, t.Id, t.Name, t.Owner, t.Tags, t.SsmParameter))];

    /// <summary>The kubelet block, with the cluster DNS of the NodeClass or else of <c>CLUSTER_DNS_IP</c>/<c>CLUSTER_CIDR</c>.</summary>
    public static KubeletSettings Kubelet(EC2NodeClass nodeClass, AwsOptions options)
    {
        ArgumentNullException.ThrowIfNull(nodeClass);
        ArgumentNullException.ThrowIfNull(options);
        var k = nodeClass.Spec.Kubelet;
        IReadOnlyList<string> dns = k?.ClusterDns is { Count: > 0 } given ? given
            : options.ResolveClusterDnsIp() is { } ip ? [ip] : [];
        return new KubeletSettings
        {
            ClusterDns = dns,
            MaxPods = k?.MaxPods,
            PodsPerCore = k?.PodsPerCore,
            SystemReserved = Sorted(k?.SystemReserved),
            KubeReserved = Sorted(k?.KubeReserved),
            EvictionHard = Sorted(k?.EvictionHard),
            EvictionSoft = Sorted(k?.EvictionSoft),
            EvictionSoftGracePeriod = Sorted(k?.EvictionSoftGracePeriod),
            EvictionMaxPodGracePeriod = k?.EvictionMaxPodGracePeriod,
            ImageGcHighThresholdPercent = k?.ImageGCHighThresholdPercent,
            ImageGcLowThresholdPercent = k?.ImageGCLowThresholdPercent,
            CpuCfsQuota = k?.CpuCfsQuota,
        };
    }

    /// <summary>The block device sizes that decide ephemeral storage.</summary>
    public static IReadOnlyList<BlockDeviceSize> BlockDevices(EC2NodeClass nodeClass) =>
        [.. (nodeClass.Spec.BlockDeviceMappings ?? []).Select(b => new BlockDeviceSize(b.DeviceName, b.RootVolume == true, VolumeBytes(b.Ebs?.VolumeSize)))];

    public static string? InstanceStorePolicy(EC2NodeClass nodeClass) =>
        nodeClass.Spec.InstanceStorePolicy is Karpenter.Entities.Aws.V1.InstanceStorePolicy.Raid0 ? "RAID0" : null;

    /// <summary>What the instance-type provider needs, with the zones of the subnets in the NodeClass's status.</summary>
    public static InstanceTypeNodeClass ForInstanceTypes(EC2NodeClass nodeClass, AwsOptions options)
    {
        ArgumentNullException.ThrowIfNull(nodeClass);
        return new InstanceTypeNodeClass(Family(nodeClass), Kubelet(nodeClass, options), BlockDevices(nodeClass), InstanceStorePolicy(nodeClass),
            [.. (nodeClass.Status.Subnets ?? []).Select(s => (s.Zone, s.ZoneId)).Distinct()]);
    }

    /// <summary>The AMIs in the NodeClass's status, in preference order, with their requirements.</summary>
    public static IReadOnlyList<ResolvedAmi> Amis(EC2NodeClass nodeClass) =>
        [.. (nodeClass.Status.Amis ?? []).Select(a => new ResolvedAmi(a.Id, a.Name ?? "", DateTimeOffset.MinValue, a.Deprecated == true,
            Requirements.FromNodeSelector(a.Requirements.Select(r => r.ToV1()))))];

    public static long? VolumeBytes(string? size) =>
        size is not null && Quantity.TryParse(size, out var q) ? q.ValueCeiling : null;

    /// <summary>The default EBS volumes of a family, as launch templates carry them.</summary>
    public static IReadOnlyList<BlockDeviceMapping> DefaultBlockDevices(AmiFamily family)
    {
        ArgumentNullException.ThrowIfNull(family);
        return [.. family.DefaultBlockDevices.Select(d => new BlockDeviceMapping
        {
            DeviceName = d.DeviceName,
            Ebs = new BlockDevice
            {
                Encrypted = d.Encrypted,
                VolumeType = VolumeType.Gp3,
                VolumeSize = $"{d.VolumeSizeBytes / Gi}Gi",
            },
        })];
    }

    private static SortedDictionary<string, string>? Sorted(Dictionary<string, string>? map) =>
        map is null ? null : new SortedDictionary<string, string>(map, StringComparer.Ordinal);
}

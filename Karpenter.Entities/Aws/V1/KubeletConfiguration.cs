using System.Text.Json.Serialization;
using Karpenter.Kube.Entities;
using YamlDotNet.Serialization;

namespace Karpenter.Entities.Aws.V1;

/// <summary>
/// Kubelet defines args to be used when configuring kubelet on provisioned nodes. They are a subset of the upstream
/// types, recognizing not all options may be supported. Wherever possible, the types and names should reflect the
/// upstream kubelet types.
/// </summary>
[ValidationRule("has(self.imageGCHighThresholdPercent) && has(self.imageGCLowThresholdPercent) ?  self.imageGCHighThresholdPercent > self.imageGCLowThresholdPercent  : true", Message = "imageGCHighThresholdPercent must be greater than imageGCLowThresholdPercent")]
[ValidationRule("has(self.evictionSoft) ? self.evictionSoft.all(e, (e in self.evictionSoftGracePeriod)):true", Message = "evictionSoft OwnerKey does not have a matching evictionSoftGracePeriod")]
[ValidationRule("has(self.evictionSoftGracePeriod) ? self.evictionSoftGracePeriod.all(e, (e in self.evictionSoft)):true", Message = "evictionSoftGracePeriod OwnerKey does not have a matching evictionSoft")]
public sealed class KubeletConfiguration
{
    internal const string EvictionSignals = "['memory.available','nodefs.available','nodefs.inodesFree','imagefs.available','imagefs.inodesFree','pid.available']";
    internal const string ReservedResources = "['cpu','memory','ephemeral-storage','pid']";

    /// <summary>The eviction signals the kubelet knows.</summary>
    public static IReadOnlyList<string> EvictionSignalNames { get; } =
        ["memory.available", "nodefs.available", "nodefs.inodesFree", "imagefs.available", "imagefs.inodesFree", "pid.available"];

    /// <summary>The resources that can be reserved for system and Kubernetes daemons.</summary>
    public static IReadOnlyList<string> ReservedResourceNames { get; } = ["cpu", "memory", "ephemeral-storage", "pid"];

    /// <summary>clusterDNS is a list of IP addresses for the cluster DNS server. Note that not all providers may use all addresses.</summary>
    [JsonPropertyName("clusterDNS")]
    [YamlMember(Alias = "clusterDNS")]
    public List<string>? ClusterDns { get; set; }

    /// <summary>MaxPods is an override for the maximum number of pods that can run on a worker node instance.</summary>
    [Minimum(0)]
    [JsonPropertyName("maxPods")]
    public int? MaxPods { get; set; }

    /// <summary>
    /// PodsPerCore is an override for the number of pods that can run on a worker node instance based on the number of
    /// cpu cores. This value cannot exceed MaxPods, so, if MaxPods is a lower value, that value will be used.
    /// </summary>
    [Minimum(0)]
    [JsonPropertyName("podsPerCore")]
    public int? PodsPerCore { get; set; }

    /// <summary>SystemReserved contains resources reserved for OS system daemons and kernel memory.</summary>
    [Pattern(SchemaPatterns.Quantity, Target = SchemaTarget.Items)]
    [ValidationRule("self.all(x, x=='cpu' || x=='memory' || x=='ephemeral-storage' || x=='pid')", Message = "valid keys for systemReserved are " + ReservedResources)]
    [ValidationRule("self.all(x, !self[x].startsWith('-'))", Message = "systemReserved value cannot be a negative resource quantity")]
    [JsonPropertyName("systemReserved")]
    public Dictionary<string, string>? SystemReserved { get; set; }

    /// <summary>KubeReserved contains resources reserved for Kubernetes system components.</summary>
    [Pattern(SchemaPatterns.Quantity, Target = SchemaTarget.Items)]
    [ValidationRule("self.all(x, x=='cpu' || x=='memory' || x=='ephemeral-storage' || x=='pid')", Message = "valid keys for kubeReserved are " + ReservedResources)]
    [ValidationRule("self.all(x, !self[x].startsWith('-'))", Message = "kubeReserved value cannot be a negative resource quantity")]
    [JsonPropertyName("kubeReserved")]
    public Dictionary<string, string>? KubeReserved { get; set; }

    /// <summary>EvictionHard is the map of signal names to quantities that define hard eviction thresholds</summary>
    [Pattern(SchemaPatterns.EvictionThreshold, Target = SchemaTarget.Items)]
    [ValidationRule("self.all(x, x in " + EvictionSignals + ")", Message = "valid keys for evictionHard are " + EvictionSignals)]
    [JsonPropertyName("evictionHard")]
    public Dictionary<string, string>? EvictionHard { get; set; }

    /// <summary>EvictionSoft is the map of signal names to quantities that define soft eviction thresholds</summary>
    [Pattern(SchemaPatterns.EvictionThreshold, Target = SchemaTarget.Items)]
    [ValidationRule("self.all(x, x in " + EvictionSignals + ")", Message = "valid keys for evictionSoft are " + EvictionSignals)]
    [JsonPropertyName("evictionSoft")]
    public Dictionary<string, string>? EvictionSoft { get; set; }

    /// <summary>EvictionSoftGracePeriod is the map of signal names to quantities that define grace periods for each eviction signal</summary>
    [ValidationRule("self.all(x, x in " + EvictionSignals + ")", Message = "valid keys for evictionSoftGracePeriod are " + EvictionSignals)]
    [JsonPropertyName("evictionSoftGracePeriod")]
    public Dictionary<string, string>? EvictionSoftGracePeriod { get; set; }

    /// <summary>
    /// EvictionMaxPodGracePeriod is the maximum allowed grace period (in seconds) to use when terminating pods in
    /// response to soft eviction thresholds being met.
    /// </summary>
    [JsonPropertyName("evictionMaxPodGracePeriod")]
    public int? EvictionMaxPodGracePeriod { get; set; }

    /// <summary>
    /// ImageGCHighThresholdPercent is the percent of disk usage after which image garbage collection is always run. The
    /// percent is calculated by dividing this field value by 100, so this field must be between 0 and 100, inclusive.
    /// When specified, the value must be greater than ImageGCLowThresholdPercent.
    /// </summary>
    [Minimum(0)]
    [Maximum(100)]
    [JsonPropertyName("imageGCHighThresholdPercent")]
    public int? ImageGCHighThresholdPercent { get; set; }

    /// <summary>
    /// ImageGCLowThresholdPercent is the percent of disk usage before which image garbage collection is never run.
    /// Lowest disk usage to garbage collect to. The percent is calculated by dividing this field value by 100, so the
    /// field value must be between 0 and 100, inclusive. When specified, the value must be less than
    /// imageGCHighThresholdPercent
    /// </summary>
    [Minimum(0)]
    [Maximum(100)]
    [JsonPropertyName("imageGCLowThresholdPercent")]
    public int? ImageGCLowThresholdPercent { get; set; }

    /// <summary>CPUCFSQuota enables CPU CFS quota enforcement for containers that specify CPU limits.</summary>
    [JsonPropertyName("cpuCFSQuota")]
    [YamlMember(Alias = "cpuCFSQuota")]
    public bool? CpuCfsQuota { get; set; }
}

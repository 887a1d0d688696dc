using System.Text.Json.Serialization;
using k8s.Models;
using Karpenter.Kube.Entities;
using YamlDotNet.Serialization;

namespace Karpenter.Entities.Aws.V1;

/// <summary>One block device of the instances launched for a node class.</summary>
public sealed class BlockDeviceMapping
{
    /// <summary>The device name (for example, /dev/sdh or xvdh).</summary>
    [JsonPropertyName("deviceName")]
    public string? DeviceName { get; set; }

    /// <summary>EBS contains parameters used to automatically set up EBS volumes when an instance is launched.</summary>
    [ValidationRule("has(self.snapshotID) || has(self.volumeSize)", Message = "snapshotID or volumeSize must be defined")]
    [ValidationRule("!has(self.volumeInitializationRate) || (has(self.snapshotID) && self.snapshotID != '')", Message = "snapshotID must be set when volumeInitializationRate is set")]
    [JsonPropertyName("ebs")]
    public BlockDevice? Ebs { get; set; }

    /// <summary>
    /// RootVolume is a flag indicating if this device is mounted as kubelet root dir. You can configure at most one root
    /// volume in BlockDeviceMappings.
    /// </summary>
    [JsonPropertyName("rootVolume")]
    public bool? RootVolume { get; set; }
}

/// <summary>The EBS volume of a block device mapping.</summary>
public sealed class BlockDevice
{
    /// <summary>DeleteOnTermination indicates whether the EBS volume is deleted on instance termination.</summary>
    [JsonPropertyName("deleteOnTermination")]
    public bool? DeleteOnTermination { get; set; }

    /// <summary>
    /// Encrypted indicates whether the EBS volume is encrypted. Encrypted volumes can only be attached to instances that
    /// support Amazon EBS encryption. If you are creating a volume from a snapshot, you can't specify an encryption value.
    /// </summary>
    [JsonPropertyName("encrypted")]
    public bool? Encrypted { get; set; }

    /// <summary>
    /// IOPS is the number of I/O operations per second (IOPS). For gp3, io1, and io2 volumes, this represents the number
    /// of IOPS that are provisioned for the volume. For gp2 volumes, this represents the baseline performance of the
    /// volume and the rate at which the volume accumulates I/O credits for bursting.
    /// </summary>
    [JsonPropertyName("iops")]
    public long? Iops { get; set; }

    /// <summary>Identifier (key ID, key alias, key ARN, or alias ARN) of the customer managed KMS key to use for EBS encryption.</summary>
    [JsonPropertyName("kmsKeyID")]
    [YamlMember(Alias = "kmsKeyID")]
    public string? KmsKeyId { get; set; }

    /// <summary>SnapshotID is the ID of an EBS snapshot</summary>
    [JsonPropertyName("snapshotID")]
    [YamlMember(Alias = "snapshotID")]
    public string? SnapshotId { get; set; }

    /// <summary>Throughput to provision for a gp3 volume, with a maximum of 1,000 MiB/s. Valid Range: Minimum value of 125. Maximum value of 1000.</summary>
    [JsonPropertyName("throughput")]
    public long? Throughput { get; set; }

    /// <summary>
    /// VolumeInitializationRate specifies the Amazon EBS Provisioned Rate for Volume Initialization, in MiB/s, at which to
    /// download the snapshot blocks from Amazon S3 to the volume. Only allowed if SnapshotID is set. Valid Range: Minimum
    /// value of 100. Maximum value of 300.
    /// </summary>
    [Minimum(100)]
    [Maximum(300)]
    [JsonPropertyName("volumeInitializationRate")]
    public int? VolumeInitializationRate { get; set; }

    /// <summary>
    /// VolumeSize in `Gi`, `G`, `Ti`, or `T`. You must specify either a snapshot ID or a volume size. Kept as written;
    /// <see cref="VolumeSizeQuantity"/> reads it as a quantity.
    /// </summary>
    [Pattern(SchemaPatterns.VolumeSize)]
    [JsonPropertyName("volumeSize")]
    public string? VolumeSize { get; set; }

    /// <summary>VolumeType of the block device.</summary>
    [JsonPropertyName("volumeType")]
    public VolumeType? VolumeType { get; set; }

    /// <summary><see cref="VolumeSize"/> as a quantity, or null when unset.</summary>
    [JsonIgnore]
    [YamlIgnore]
    public ResourceQuantity? VolumeSizeQuantity => VolumeSize is null ? null : new ResourceQuantity(VolumeSize);
}

/// <summary>MetadataOptions contains parameters for specifying the exposure of the Instance Metadata Service to provisioned EC2 nodes.</summary>
public sealed class MetadataOptions
{
    /// <summary>
    /// HTTPEndpoint enables or disables the HTTP metadata endpoint on provisioned nodes. If metadata options is non-nil,
    /// but this parameter is not specified, the default state is "enabled".
    /// </summary>
    [Default(EnabledState.Enabled)]
    [JsonPropertyName("httpEndpoint")]
    public EnabledState? HttpEndpoint { get; set; }

    /// <summary>
    /// HTTPProtocolIPv6 enables or disables the IPv6 endpoint for the instance metadata service on provisioned nodes. If
    /// metadata options is non-nil, but this parameter is not specified, the default state is "disabled".
    /// </summary>
    [Default(EnabledState.Disabled)]
    [JsonPropertyName("httpProtocolIPv6")]
    [YamlMember(Alias = "httpProtocolIPv6")]
    public EnabledState? HttpProtocolIpv6 { get; set; }

    /// <summary>
    /// HTTPPutResponseHopLimit is the desired HTTP PUT response hop limit for instance metadata requests. The larger the
    /// number, the further instance metadata requests can travel. Possible values are integers from 1 to 64. If metadata
    /// options is non-nil, but this parameter is not specified, the default value is 1.
    /// </summary>
    [Default(1)]
    [Minimum(1)]
    [Maximum(64)]
    [JsonPropertyName("httpPutResponseHopLimit")]
    public long? HttpPutResponseHopLimit { get; set; }

    /// <summary>
    /// HTTPTokens determines the state of token usage for instance metadata requests. If metadata options is non-nil, but
    /// this parameter is not specified, the default state is "required".
    /// </summary>
    [Default(V1.HttpTokens.Required)]
    [JsonPropertyName("httpTokens")]
    public HttpTokens? HttpTokens { get; set; }
}

/// <summary>NetworkInterface specifies the configuration for a network interface to be attached to provisioned instances.</summary>
public sealed class NetworkInterface
{
    /// <summary>NetworkCardIndex is the index of the network card to attach the interface to.</summary>
    [Required]
    [Minimum(0)]
    [JsonPropertyName("networkCardIndex")]
    public int NetworkCardIndex { get; set; }

    /// <summary>DeviceIndex is the device index for the network interface attachment.</summary>
    [Required]
    [Minimum(0)]
    [JsonPropertyName("deviceIndex")]
    public int DeviceIndex { get; set; }

    /// <summary>InterfaceType is the type of network interface. Valid values are "interface" and "efa-only".</summary>
    [Required]
    [JsonPropertyName("interfaceType")]
    public InterfaceType InterfaceType { get; set; }
}

/// <summary>ConnectionTracking configures idle connection tracking timeouts for the network interfaces of provisioned instances.</summary>
[ValidationRule("has(self.tcpEstablishedTimeout) || has(self.udpStreamTimeout) || has(self.udpTimeout)", Message = "at least one of tcpEstablishedTimeout, udpStreamTimeout, or udpTimeout must be set")]
public sealed class ConnectionTracking
{
    /// <summary>TCPEstablishedTimeout is the timeout (in seconds) for idle TCP connections in an established state.</summary>
    [Minimum(60)]
    [Maximum(432000)]
    [JsonPropertyName("tcpEstablishedTimeout")]
    public int? TcpEstablishedTimeout { get; set; }

    /// <summary>UDPStreamTimeout is the timeout (in seconds) for idle UDP "stream" flows that have seen traffic in both directions.</summary>
    [Minimum(60)]
    [Maximum(180)]
    [JsonPropertyName("udpStreamTimeout")]
    public int? UdpStreamTimeout { get; set; }

    /// <summary>UDPTimeout is the timeout (in seconds) for idle UDP flows that have seen traffic in one direction or a single request-response transaction.</summary>
    [Minimum(30)]
    [Maximum(60)]
    [JsonPropertyName("udpTimeout")]
    public int? UdpTimeout { get; set; }
}

/// <summary>CPUOptions defines the CPU options for the instance.</summary>
public sealed class CpuOptions
{
    /// <summary>NestedVirtualization enables or disables nested virtualization on the instance.</summary>
    [JsonPropertyName("nestedVirtualization")]
    public EnabledState? NestedVirtualization { get; set; }
}

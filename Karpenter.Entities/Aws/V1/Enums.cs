using System.Runtime.Serialization;
using System.Text.Json.Serialization;

namespace Karpenter.Entities.Aws.V1;

/// <summary>AMIFamily dictates the UserData format and default BlockDeviceMappings used when generating launch templates.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AmiFamily>))]
public enum AmiFamily
{
    [EnumMember(Value = "AL2")]
    AL2,

    [EnumMember(Value = "AL2023")]
    AL2023,

    [EnumMember(Value = "Bottlerocket")]
    Bottlerocket,

    [EnumMember(Value = "Custom")]
    Custom,

    [EnumMember(Value = "Windows2019")]
    Windows2019,

    [EnumMember(Value = "Windows2022")]
    Windows2022,

    [EnumMember(Value = "Windows2025")]
    Windows2025,
}

/// <summary>InstanceStorePolicy enumerates options for configuring instance store disks.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<InstanceStorePolicy>))]
public enum InstanceStorePolicy
{
    /// <summary>
    /// RAID0 configures a RAID-0 array that includes all ephemeral NVMe instance storage disks. The containerd and
    /// kubelet state directories then use the ephemeral storage.
    /// </summary>
    [JsonStringEnumMemberName("RAID0")]
    [EnumMember(Value = "RAID0")]
    Raid0,
}

/// <summary>A setting that is enabled or disabled.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<EnabledState>))]
public enum EnabledState
{
    [JsonStringEnumMemberName("enabled")]
    [EnumMember(Value = "enabled")]
    Enabled,

    [JsonStringEnumMemberName("disabled")]
    [EnumMember(Value = "disabled")]
    Disabled,
}

/// <summary>Whether instance metadata requests need a session token (IMDSv2).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<HttpTokens>))]
public enum HttpTokens
{
    [JsonStringEnumMemberName("required")]
    [EnumMember(Value = "required")]
    Required,

    [JsonStringEnumMemberName("optional")]
    [EnumMember(Value = "optional")]
    Optional,
}

/// <summary>VolumeType of the block device.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<VolumeType>))]
public enum VolumeType
{
    [JsonStringEnumMemberName("standard")]
    [EnumMember(Value = "standard")]
    Standard,

    [JsonStringEnumMemberName("io1")]
    [EnumMember(Value = "io1")]
    Io1,

    [JsonStringEnumMemberName("io2")]
    [EnumMember(Value = "io2")]
    Io2,

    [JsonStringEnumMemberName("gp2")]
    [EnumMember(Value = "gp2")]
    Gp2,

    [JsonStringEnumMemberName("sc1")]
    [EnumMember(Value = "sc1")]
    Sc1,

    [JsonStringEnumMemberName("st1")]
    [EnumMember(Value = "st1")]
    St1,

    [JsonStringEnumMemberName("gp3")]
    [EnumMember(Value = "gp3")]
    Gp3,
}

/// <summary>How instances are matched to capacity reservations.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<InstanceMatchCriteria>))]
public enum InstanceMatchCriteria
{
    [JsonStringEnumMemberName("open")]
    [EnumMember(Value = "open")]
    Open,

    [JsonStringEnumMemberName("targeted")]
    [EnumMember(Value = "targeted")]
    Targeted,
}

/// <summary>The type of a capacity reservation.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CapacityReservationType>))]
public enum CapacityReservationType
{
    [JsonStringEnumMemberName("default")]
    [EnumMember(Value = "default")]
    Default,

    [JsonStringEnumMemberName("capacity-block")]
    [EnumMember(Value = "capacity-block")]
    CapacityBlock,
}

/// <summary>The state of a capacity reservation: expiring within the EC2 reclamation window, or active.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CapacityReservationState>))]
public enum CapacityReservationState
{
    [JsonStringEnumMemberName("active")]
    [EnumMember(Value = "active")]
    Active,

    [JsonStringEnumMemberName("expiring")]
    [EnumMember(Value = "expiring")]
    Expiring,
}

/// <summary>InterfaceType is the type of network interface.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<InterfaceType>))]
public enum InterfaceType
{
    [JsonStringEnumMemberName("interface")]
    [EnumMember(Value = "interface")]
    Interface,

    [JsonStringEnumMemberName("efa-only")]
    [EnumMember(Value = "efa-only")]
    EfaOnly,
}

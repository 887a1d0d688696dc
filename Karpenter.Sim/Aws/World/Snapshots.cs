namespace Karpenter.Sim.Aws.World;

/// <summary>EC2 instance states with their wire codes.</summary>
public enum InstanceState
{
    Pending = 0,
    Running = 16,
    ShuttingDown = 32,
    Terminated = 48,
}

/// <summary>EC2 capacity types as the wire and Karpenter spell them.</summary>
public static class CapacityTypes
{
    public const string Spot = "spot";
    public const string OnDemand = "on-demand";

    internal static bool IsValid(string value) => value is Spot or OnDemand;
}

/// <summary>
/// A copy of one instance as the simulated kubelet and reports see it: what was launched, where, with which
/// user data (base64, exactly as the launch template carried it) and its lifecycle state on the emulator's clock.
/// </summary>
public sealed record InstanceSnapshot
{
    public required string InstanceId { get; init; }

    public required string InstanceType { get; init; }

    public required string AvailabilityZone { get; init; }

    public required string AvailabilityZoneId { get; init; }

    public required string SubnetId { get; init; }

    public required string VpcId { get; init; }

    public required string ImageId { get; init; }

    /// <summary>The image's name (for example <c>amazon-eks-node-al2023-x86_64-standard-1.33-v20251120</c>), if the image exists.</summary>
    public string? ImageName { get; init; }

    /// <summary><c>x86_64</c> or <c>arm64</c>.</summary>
    public required string Architecture { get; init; }

    /// <summary>The image's platform: <c>windows</c> for Windows images, otherwise null.</summary>
    public string? Platform { get; init; }

    /// <summary>The image's root device name (<c>/dev/xvda</c>; <c>/dev/sda1</c> on Windows), if the image exists.</summary>
    public string? RootDeviceName { get; init; }

    /// <summary>The block devices the launch template asked for, which size the node's volumes (ephemeral storage).</summary>
    public IReadOnlyList<BlockDeviceSnapshot> BlockDevices { get; init; } = [];

    /// <summary><see cref="CapacityTypes.Spot"/> or <see cref="CapacityTypes.OnDemand"/>.</summary>
    public required string CapacityType { get; init; }

    public required InstanceState State { get; init; }

    public required DateTimeOffset LaunchTime { get; init; }

    public required string PrivateIpAddress { get; init; }

    /// <summary>The EC2 private DNS name, which is the Node name the kubelet registers with.</summary>
    public required string PrivateDnsName { get; init; }

    /// <summary>The Kubernetes provider ID: <c>aws:///&lt;zone&gt;/&lt;instance-id&gt;</c>.</summary>
    public string ProviderId => $"aws:///{AvailabilityZone}/{InstanceId}";

    /// <summary>The user data as EC2 holds it: base64, or null when the launch carried none.</summary>
    public string? UserDataBase64 { get; init; }

    /// <summary>The user data decoded as UTF-8, or null.</summary>
    public string? UserData => UserDataBase64 is null ? null : System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(UserDataBase64));

    public required IReadOnlyDictionary<string, string> Tags { get; init; }

    public required IReadOnlyList<string> SecurityGroupIds { get; init; }

    public string? IamInstanceProfileArn { get; init; }

    public string? LaunchTemplateId { get; init; }

    public string? LaunchTemplateName { get; init; }

    /// <summary>Why the instance stopped or terminated (EC2's <c>stateReason</c> code), if it did.</summary>
    public string? StateReason { get; init; }

    /// <summary>When a spot interruption warning was sent, the time the instance will be reclaimed.</summary>
    public DateTimeOffset? InterruptionTime { get; init; }
}

/// <summary>One block device of a launch: its device name and volume size in GiB (null when the mapping leaves it to the image).</summary>
public sealed record BlockDeviceSnapshot(string DeviceName, int? VolumeSizeGiB);

/// <summary>What happened to an instance; the simulator's kubelet and reports react to these.</summary>
public enum InstanceEventKind
{
    /// <summary>Created by CreateFleet or RunInstances, in state pending.</summary>
    Launched,

    /// <summary>Booted: pending → running. The kubelet may now start and read the user data.</summary>
    Running,

    /// <summary>Termination began (TerminateInstances, a spot reclaim, a failed boot).</summary>
    ShuttingDown,

    Terminated,

    /// <summary>An EC2 Spot Instance Interruption Warning was sent; termination follows after the notice.</summary>
    SpotInterruptionWarning,

    RebalanceRecommendation,

    ScheduledChange,
}

/// <summary>One lifecycle event of an instance, with the instance as it was right after the event.</summary>
public sealed record InstanceEvent(InstanceEventKind Kind, InstanceSnapshot Instance, DateTimeOffset Time);

/// <summary>A zone of the emulated region.</summary>
public sealed record ZoneInfo(string Name, string ZoneId);

/// <summary>A subnet as observed: its zone and how many addresses are still free.</summary>
public sealed record SubnetSnapshot(
    string SubnetId, string VpcId, string AvailabilityZone, string CidrBlock, int AvailableIpAddressCount,
    IReadOnlyDictionary<string, string> Tags);

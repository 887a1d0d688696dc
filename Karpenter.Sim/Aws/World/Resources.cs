using System.Globalization;
using System.Net;
using Karpenter.Sim.Aws.Catalog;
using Karpenter.Sim.Aws.Protocol;

namespace Karpenter.Sim.Aws.World;

// The mutable records the world keeps. They are only touched under AwsWorld's lock; callers outside the world see
// snapshots.

internal abstract class TaggedResource : IFilterable
{
    public Dictionary<string, string> TagMap { get; } = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, string> Tags => TagMap;

    public string Id { get; init; } = "";

    public abstract IEnumerable<string>? FilterValues(string name);
}

internal sealed class Zone(string name, string zoneId) : IFilterable
{
    public string Name { get; } = name;

    public string ZoneId { get; } = zoneId;

    public IReadOnlyDictionary<string, string> Tags { get; } = new Dictionary<string, string>();

    public string Region => Name[..^1];

    public IEnumerable<string>? FilterValues(string name) => name switch
    {
        "zone-name" => [Name],
        "zone-id" => [ZoneId],
        "state" => ["available"],
        "region-name" => [Region],
        "zone-type" => ["availability-zone"],
        "group-name" or "network-border-group" => [Region],
        "opt-in-status" => ["opt-in-not-required"],
        _ => null,
    };
}

internal sealed class Vpc : TaggedResource
{
    public Vpc(string id, string cidr)
    {
        Id = id;
        CidrBlock = cidr;
    }

    public string CidrBlock { get; }

    public override IEnumerable<string>? FilterValues(string name) => name switch
    {
        "vpc-id" => [Id],
        "cidr" or "cidr-block" or "cidr-block-association.cidr-block" => [CidrBlock],
        "state" => ["available"],
        "is-default" => ["false"],
        _ => null,
    };
}

internal sealed class Subnet : TaggedResource
{
    private readonly uint _network;
    private readonly int _size;
    private readonly Stack<int> _freed = new();
    private int _nextOffset = 4; // AWS reserves the first four addresses and the last one.
    private int _used;
    private int _heldElsewhere;

    public Subnet(string id, Vpc vpc, Zone zone, string cidr)
    {
        Id = id;
        Vpc = vpc;
        Zone = zone;
        CidrBlock = cidr;
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !IPAddress.TryParse(cidr[..slash], out var address) ||
            !int.TryParse(cidr[(slash + 1)..], CultureInfo.InvariantCulture, out var prefix) || prefix is < 16 or > 28)
        {
            throw new ArgumentException($"'{cidr}' is not an IPv4 CIDR block between /16 and /28, as EC2 requires of subnets.", nameof(cidr));
        }

        var bytes = address.GetAddressBytes();
        _network = (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
        _size = 1 << (32 - prefix);
    }

    public Vpc Vpc { get; }

    public Zone Zone { get; }

    public string CidrBlock { get; }

    public bool MapPublicIpOnLaunch { get; init; }

    public int Usable => _size - 5;

    public int AvailableAddresses => Math.Max(0, Usable - _used - _heldElsewhere);

    /// <summary>Pretends other tenants (ENIs, load balancers) use addresses so that only <paramref name="available"/> remain.</summary>
    public void SetAvailable(int available) => _heldElsewhere = Math.Max(0, Usable - _used - Math.Clamp(available, 0, Usable));

    public string? Allocate()
    {
        if (AvailableAddresses <= 0)
        {
            return null;
        }

        var offset = _freed.Count > 0 ? _freed.Pop() : _nextOffset++;
        _used++;
        var ip = _network + (uint)offset;
        return string.Create(CultureInfo.InvariantCulture, $"{ip >> 24}.{(ip >> 16) & 255}.{(ip >> 8) & 255}.{ip & 255}");
    }

    public void Release(string ip)
    {
        var parts = ip.Split('.').Select(p => uint.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        var value = parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3];
        _freed.Push((int)(value - _network));
        _used--;
    }

    public SubnetSnapshot Snapshot() => new(Id, Vpc.Id, Zone.Name, CidrBlock, AvailableAddresses, new Dictionary<string, string>(TagMap));

    public override IEnumerable<string>? FilterValues(string name) => name switch
    {
        "subnet-id" => [Id],
        "vpc-id" => [Vpc.Id],
        "availability-zone" or "availabilityZone" => [Zone.Name],
        "availability-zone-id" or "availabilityZoneId" => [Zone.ZoneId],
        "cidr-block" or "cidr" or "cidrBlock" => [CidrBlock],
        "state" => ["available"],
        "default-for-az" or "defaultForAz" => ["false"],
        "map-public-ip-on-launch" => [MapPublicIpOnLaunch ? "true" : "false"],
        "available-ip-address-count" => [AvailableAddresses.ToString(CultureInfo.InvariantCulture)],
        "owner-id" => [],
        _ => null,
    };
}

internal sealed class SecurityGroup : TaggedResource
{
    public SecurityGroup(string id, string name, string description, Vpc vpc)
    {
        Id = id;
        Name = name;
        Description = description;
        Vpc = vpc;
    }

    public string Name { get; }

    public string Description { get; }

    public Vpc Vpc { get; }

    public override IEnumerable<string>? FilterValues(string name) => name switch
    {
        "group-id" => [Id],
        "group-name" => [Name],
        "description" => [Description],
        "vpc-id" => [Vpc.Id],
        "owner-id" => [],
        _ => null,
    };
}

internal sealed class Image : TaggedResource
{
    public required string Name { get; init; }

    public required string Architecture { get; init; }

    public required string OwnerId { get; init; }

    public string? OwnerAlias { get; init; }

    public required DateTimeOffset CreationDate { get; init; }

    public DateTimeOffset? DeprecationTime { get; set; }

    public string Description { get; init; } = "";

    /// <summary><c>windows</c> for Windows images, otherwise null.</summary>
    public string? Platform { get; init; }

    public string RootDeviceName { get; init; } = "/dev/xvda";

    public bool IsPublic { get; init; } = true;

    public bool IsDeprecated(DateTimeOffset now) => DeprecationTime is { } t && t <= now;

    public override IEnumerable<string>? FilterValues(string name) => name switch
    {
        "image-id" => [Id],
        "name" => [Name],
        "architecture" => [Architecture],
        "owner-id" => [OwnerId],
        "owner-alias" => OwnerAlias is null ? [] : [OwnerAlias],
        "state" => ["available"],
        "is-public" => [IsPublic ? "true" : "false"],
        "image-type" => ["machine"],
        "platform" => Platform is null ? [] : [Platform],
        "description" => [Description],
        "virtualization-type" => ["hvm"],
        "root-device-type" => ["ebs"],
        "root-device-name" => [RootDeviceName],
        "hypervisor" => ["xen"],
        "creation-date" => [Xml.Timestamp(CreationDate)],
        _ => null,
    };
}

/// <summary>The part of a launch template version the emulator keeps and launches from.</summary>
internal sealed class LaunchTemplateData
{
    public string? ImageId { get; init; }

    public string? InstanceType { get; init; }

    public string? UserData { get; init; }

    public string? IamInstanceProfileName { get; init; }

    public string? IamInstanceProfileArn { get; init; }

    public List<string> SecurityGroupIds { get; init; } = [];

    public List<string> SecurityGroupNames { get; init; } = [];

    public string? NetworkInterfaceSubnetId { get; init; }

    public List<string> NetworkInterfaceGroups { get; init; } = [];

    public bool? AssociatePublicIpAddress { get; init; }

    public List<BlockDevice> BlockDevices { get; init; } = [];

    public Dictionary<string, string> MetadataOptions { get; init; } = new(StringComparer.Ordinal);

    public bool? MonitoringEnabled { get; init; }

    public string? MarketType { get; init; }

    /// <summary>Tag specifications inside the template data, by resource type.</summary>
    public Dictionary<string, Dictionary<string, string>> TagSpecifications { get; init; } = new(StringComparer.Ordinal);
}

internal sealed record BlockDevice(string DeviceName, int? VolumeSize, string? VolumeType, bool? Encrypted, int? Iops, int? Throughput, bool? DeleteOnTermination, string? KmsKeyId);

internal sealed class LaunchTemplate : TaggedResource
{
    public required string Name { get; init; }

    public required DateTimeOffset CreateTime { get; init; }

    public required string CreatedBy { get; init; }

    public List<LaunchTemplateData> Versions { get; } = [];

    public int DefaultVersion { get; set; } = 1;

    public int LatestVersion => Versions.Count;

    public LaunchTemplateData? Version(string? spec) => spec switch
    {
        null or "" or "$Default" => Versions[DefaultVersion - 1],
        "$Latest" => Versions[^1],
        _ when int.TryParse(spec, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= Versions.Count => Versions[n - 1],
        _ => null,
    };

    public override IEnumerable<string>? FilterValues(string name) => name switch
    {
        "launch-template-name" => [Name],
        "launch-template-id" => [Id],
        "create-time" => [Xml.Timestamp(CreateTime)],
        _ => null,
    };
}

internal sealed class Ec2Instance : TaggedResource
{
    public required string ReservationId { get; init; }

    public required InstanceTypeInfo Type { get; init; }

    public required Subnet Subnet { get; init; }

    public required string ImageId { get; init; }

    public Image? Image { get; init; }

    public required string CapacityType { get; init; }

    public required DateTimeOffset LaunchTime { get; init; }

    public required string PrivateIp { get; init; }

    public required string NetworkInterfaceId { get; init; }

    public string? UserData { get; init; }

    public List<SecurityGroup> Groups { get; init; } = [];

    public string? ProfileArn { get; init; }

    public string? ProfileId { get; init; }

    public string? LaunchTemplateId { get; init; }

    public string? LaunchTemplateName { get; init; }

    public string? LaunchTemplateVersion { get; init; }

    public string? SpotRequestId { get; init; }

    public string? ClientToken { get; init; }

    public string? FleetId { get; init; }

    public LaunchTemplateData? Template { get; init; }

    public InstanceState State { get; set; }

    public string? StateReasonCode { get; set; }

    public string? StateReasonMessage { get; set; }

    public string StateTransitionReason { get; set; } = "";

    public DateTimeOffset? TerminatedAt { get; set; }

    public DateTimeOffset? InterruptionTime { get; set; }

    /// <summary>Bumped on every state change so that stale scheduled transitions are ignored.</summary>
    public int Generation { get; set; }

    public string Zone => Subnet.Zone.Name;

    public string PrivateDnsName(string region) =>
        $"ip-{PrivateIp.Replace('.', '-')}.{(region == "us-east-1" ? "ec2.internal" : region + ".compute.internal")}";

    public bool IsLive => State is InstanceState.Pending or InstanceState.Running;

    public override IEnumerable<string>? FilterValues(string name) => name switch
    {
        "instance-id" => [Id],
        "instance-state-name" => [StateName(State)],
        "instance-state-code" => [((int)State).ToString(CultureInfo.InvariantCulture)],
        "instance-type" => [Type.Name],
        "availability-zone" => [Zone],
        "subnet-id" => [Subnet.Id],
        "vpc-id" => [Subnet.Vpc.Id],
        "image-id" => [ImageId],
        "architecture" => [Type.Architecture],
        "instance-lifecycle" => CapacityType == CapacityTypes.Spot ? ["spot"] : [],
        "private-ip-address" or "network-interface.addresses.private-ip-address" => [PrivateIp],
        "reservation-id" => [ReservationId],
        "spot-instance-request-id" => SpotRequestId is null ? [] : [SpotRequestId],
        "instance.group-id" or "group-id" => Groups.Select(g => g.Id),
        "instance.group-name" or "group-name" => Groups.Select(g => g.Name),
        "iam-instance-profile.arn" => ProfileArn is null ? [] : [ProfileArn],
        "client-token" => ClientToken is null ? [] : [ClientToken],
        "launch-time" => [Xml.Timestamp(LaunchTime)],
        "tenancy" or "placement.tenancy" => ["default"],
        "hypervisor" => [Type.Hypervisor.Length == 0 ? "nitro" : Type.Hypervisor],
        "root-device-type" => ["ebs"],
        "virtualization-type" => ["hvm"],
        "owner-id" => [],
        _ => null,
    };

    public static string StateName(InstanceState state) => state switch
    {
        InstanceState.Pending => "pending",
        InstanceState.Running => "running",
        InstanceState.ShuttingDown => "shutting-down",
        InstanceState.Terminated => "terminated",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };
}

internal sealed class InstanceProfile
{
    public required string Name { get; init; }

    public required string Id { get; init; }

    public required string Path { get; init; }

    public required string Arn { get; init; }

    public required DateTimeOffset CreateDate { get; init; }

    public List<Role> Roles { get; } = [];

    public List<KeyValuePair<string, string>> Tags { get; } = [];
}

internal sealed class Role
{
    public required string Name { get; init; }

    public required string Id { get; init; }

    public required string Path { get; init; }

    public required string Arn { get; init; }

    public required DateTimeOffset CreateDate { get; init; }

    public string AssumeRolePolicyDocument { get; init; } = "";

    public List<KeyValuePair<string, string>> Tags { get; } = [];
}

internal sealed class SsmParameter
{
    public required string Name { get; init; }

    public required string Value { get; set; }

    public string Type { get; set; } = "String";

    public string DataType { get; set; } = "text";

    public long Version { get; set; } = 1;

    public required DateTimeOffset LastModifiedDate { get; set; }
}

namespace Karpenter.Sim.Aws;

/// <summary>
/// The account the AWS emulator starts with, when not its built-in one (<see cref="AwsEmulatorOptions.Network"/>):
/// availability zones, one VPC with its subnets, security groups and instance profiles, each with the tags a user's
/// EC2NodeClass selectors look for. EKS images and their SSM parameters are published for
/// <see cref="AwsEmulatorOptions.KubernetesVersions"/> either way.
/// </summary>
public sealed record AwsNetworkLayout
{
    public string VpcCidr { get; init; } = "10.0.0.0/16";

    /// <summary>Availability zones: name (e.g. <c>us-east-1a</c>) and zone ID (e.g. <c>use1-az1</c>).</summary>
    public IReadOnlyList<(string Name, string Id)> Zones { get; init; } = [];

    public IReadOnlyList<SubnetLayout> Subnets { get; init; } = [];

    public IReadOnlyList<SecurityGroupLayout> SecurityGroups { get; init; } = [];

    /// <summary>Instance profiles (each with a role of the same name with <c>Profile</c> replaced by <c>Role</c>).</summary>
    public IReadOnlyList<string> InstanceProfiles { get; init; } = [];
}

/// <summary>A subnet of the VPC in one zone.</summary>
public sealed record SubnetLayout(string Zone, string Cidr, bool Public, IReadOnlyDictionary<string, string> Tags);

/// <summary>A security group of the VPC.</summary>
public sealed record SecurityGroupLayout(string Name, string Description, IReadOnlyDictionary<string, string> Tags);

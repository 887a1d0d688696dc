using System.Security.Cryptography;
using System.Text;

namespace Karpenter.Sim.Aws.World;

public sealed partial class AwsWorld
{
    // AWS account ids that publish the EKS-optimized images.
    private const string EksAmiOwner = "602401143452";
    private const string BottlerocketAmiOwner = "092701018921";
    private const string WindowsAmiOwner = "801119661308";

    // Two releases per image family: the older one stays available so pinned aliases resolve.
    private static readonly (string Version, DateTimeOffset Created)[] EksReleases =
        [("v20251015", new(2025, 10, 15, 0, 0, 0, TimeSpan.Zero)), ("v20251120", new(2025, 11, 20, 0, 0, 0, TimeSpan.Zero))];

    private static readonly (string Version, DateTimeOffset Created)[] BottlerocketReleases =
        [("1.49.0", new(2025, 10, 20, 0, 0, 0, TimeSpan.Zero)), ("1.50.0", new(2025, 11, 18, 0, 0, 0, TimeSpan.Zero))];

    private static readonly (string Version, DateTimeOffset Created)[] WindowsReleases =
        [("2025.10.14", new(2025, 10, 14, 0, 0, 0, TimeSpan.Zero)), ("2025.11.12", new(2025, 11, 12, 0, 0, 0, TimeSpan.Zero))];

    internal Vpc MainVpc { get; private set; } = null!;

    internal List<Subnet> SubnetList { get; } = [];

    internal List<SecurityGroup> SecurityGroupList { get; } = [];

    internal List<Image> ImageList { get; } = [];

    internal SortedDictionary<string, SsmParameter> Parameters { get; } = new(StringComparer.Ordinal);

    private void Seed()
    {
        if (Options.Network is { } layout)
        {
            SeedNetwork(layout);
        }
        else
        {
            SeedDefaultNetwork();
        }

        var cluster = Options.ClusterName;
        foreach (var k8s in Options.KubernetesVersions)
        {
            SeedAmazonLinux2023(k8s);
            SeedAmazonLinux2(k8s);
            SeedBottlerocket(k8s);
            SeedWindows(k8s);
        }

        // Two images the account owns itself, for name, owner and tag selector terms.
        foreach (var arch in new[] { "x86_64", "arm64" })
        {
            var custom = AddImageInternal($"{cluster}-custom-al2023-{arch}", arch, AccountId, null, EksReleases[1].Created, null, isPublic: false);
            custom.TagMap["karpenter.sh/discovery"] = cluster;
        }
    }

    /// <summary>The account a world file describes (see <see cref="AwsNetworkLayout"/>).</summary>
    private void SeedNetwork(AwsNetworkLayout layout)
    {
        foreach (var (name, id) in layout.Zones)
        {
            ZoneList.Add(new Zone(name, id));
        }

        MainVpc = new Vpc(NewId("vpc"), layout.VpcCidr);
        MainVpc.TagMap["Name"] = Options.ClusterName;
        foreach (var s in layout.Subnets)
        {
            var subnet = new Subnet(NewId("subnet"), MainVpc, ZoneList.First(z => z.Name == s.Zone), s.Cidr) { MapPublicIpOnLaunch = s.Public };
            foreach (var (key, value) in s.Tags)
            {
                subnet.TagMap[key] = value;
            }

            SubnetList.Add(subnet);
        }

        SecurityGroupList.Add(new SecurityGroup(NewId("sg"), "default", "default VPC security group", MainVpc));
        foreach (var g in layout.SecurityGroups)
        {
            var group = new SecurityGroup(NewId("sg"), g.Name, g.Description, MainVpc);
            foreach (var (key, value) in g.Tags)
            {
                group.TagMap[key] = value;
            }

            SecurityGroupList.Add(group);
        }

        var now = Now;
        foreach (var name in layout.InstanceProfiles)
        {
            var roleName = name.Contains("Profile", StringComparison.Ordinal) ? name.Replace("InstanceProfile", "Role", StringComparison.Ordinal).Replace("Profile", "Role", StringComparison.Ordinal) : name + "-role";
            var role = NewRole(roleName, "/");
            Roles[role.Name] = role;
            var profile = NewInstanceProfile(name, "/", now);
            profile.Roles.Add(role);
            Profiles[profile.Name] = profile;
        }
    }

    private void SeedDefaultNetwork()
    {
        var cluster = Options.ClusterName;
        var zoneIdPrefix = ZoneIdPrefix(Region);
        string[] zoneIds = ["az1", "az2", "az4"];
        for (var i = 0; i < 3; i++)
        {
            ZoneList.Add(new Zone(Region + (char)('a' + i), $"{zoneIdPrefix}-{zoneIds[i]}"));
        }

        MainVpc = new Vpc(NewId("vpc"), "10.0.0.0/16");
        MainVpc.TagMap["Name"] = cluster;
        for (var i = 0; i < ZoneList.Count; i++)
        {
            var zone = ZoneList[i];
            var priv = new Subnet(NewId("subnet"), MainVpc, zone, $"10.0.{i * 32}.0/19");
            priv.TagMap["Name"] = $"{cluster}-private-{zone.Name}";
            priv.TagMap["karpenter.sh/discovery"] = cluster;
            priv.TagMap["kubernetes.io/role/internal-elb"] = "1";
            SubnetList.Add(priv);
        }

        for (var i = 0; i < ZoneList.Count; i++)
        {
            var zone = ZoneList[i];
            var pub = new Subnet(NewId("subnet"), MainVpc, zone, $"10.0.{96 + i}.0/24") { MapPublicIpOnLaunch = true };
            pub.TagMap["Name"] = $"{cluster}-public-{zone.Name}";
            pub.TagMap["kubernetes.io/role/elb"] = "1";
            SubnetList.Add(pub);
        }

        SecurityGroupList.Add(new SecurityGroup(NewId("sg"), "default", "default VPC security group", MainVpc));
        var nodes = new SecurityGroup(NewId("sg"), $"{cluster}-node", "Karpenter-managed nodes", MainVpc);
        nodes.TagMap["Name"] = $"{cluster}-node";
        nodes.TagMap["karpenter.sh/discovery"] = cluster;
        SecurityGroupList.Add(nodes);
        var clusterGroup = new SecurityGroup(NewId("sg"), $"eks-cluster-sg-{cluster}", "EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, as well as any managed workloads.", MainVpc);
        clusterGroup.TagMap["Name"] = $"eks-cluster-sg-{cluster}";
        clusterGroup.TagMap["aws:eks:cluster-name"] = cluster;
        clusterGroup.TagMap[$"kubernetes.io/cluster/{cluster}"] = "owned";
        SecurityGroupList.Add(clusterGroup);

        var now = Now;
        var role = NewRole($"KarpenterNodeRole-{cluster}", "/");
        Roles[role.Name] = role;
        var profile = NewInstanceProfile($"KarpenterNodeInstanceProfile-{cluster}", "/", now);
        profile.Roles.Add(role);
        Profiles[profile.Name] = profile;
    }

    private void SeedAmazonLinux2023(string k8s)
    {
        foreach (var (arch, variant) in new[] { ("x86_64", "standard"), ("x86_64", "nvidia"), ("x86_64", "neuron"), ("arm64", "standard"), ("arm64", "nvidia") })
        {
            var root = $"/aws/service/eks/optimized-ami/{k8s}/amazon-linux-2023/{arch}/{variant}";
            Image? latest = null;
            foreach (var (version, created) in EksReleases)
            {
                var name = $"amazon-eks-node-al2023-{arch}-{variant}-{k8s}-{version}";
                latest = AddImageInternal(name, arch, EksAmiOwner, "amazon", created, $"EKS-optimized Kubernetes node based on Amazon Linux 2023, (k8s: {k8s}, {variant})");
                PutParameterInternal($"{root}/{name}/image_id", latest.Id, "aws:ec2:image");
            }

            PutParameterInternal($"{root}/recommended/image_id", latest!.Id, "aws:ec2:image");
            PutParameterInternal($"{root}/recommended/release_version", $"{k8s}.0-{EksReleases[^1].Version[1..]}", "text");
        }
    }

    private void SeedAmazonLinux2(string k8s)
    {
        // EKS publishes no AL2 images from Kubernetes 1.33 on.
        if (int.Parse(k8s.AsSpan(k8s.IndexOf('.', StringComparison.Ordinal) + 1), System.Globalization.CultureInfo.InvariantCulture) >= 33)
        {
            return;
        }

        foreach (var (suffix, arch, prefix) in new[] { ("", "x86_64", "amazon-eks-node"), ("-arm64", "arm64", "amazon-eks-arm64-node"), ("-gpu", "x86_64", "amazon-eks-gpu-node") })
        {
            var root = $"/aws/service/eks/optimized-ami/{k8s}/amazon-linux-2{suffix}";
            Image? latest = null;
            foreach (var (version, created) in EksReleases)
            {
                var name = $"{prefix}-{k8s}-{version}";
                latest = AddImageInternal(name, arch, EksAmiOwner, "amazon", created, $"EKS Kubernetes Worker AMI with AmazonLinux2 image, (k8s: {k8s})");
                PutParameterInternal($"{root}/{name}/image_id", latest.Id, "aws:ec2:image");
            }

            PutParameterInternal($"{root}/recommended/image_id", latest!.Id, "aws:ec2:image");
        }
    }

    private void SeedBottlerocket(string k8s)
    {
        foreach (var flavour in new[] { "", "-nvidia" })
        {
            foreach (var arch in new[] { "x86_64", "arm64" })
            {
                var root = $"/aws/service/bottlerocket/aws-k8s-{k8s}{flavour}/{arch}";
                Image? latest = null;
                foreach (var (version, created) in BottlerocketReleases)
                {
                    var name = $"bottlerocket-aws-k8s-{k8s}{flavour}-{arch}-v{version}-{ShortHash(k8s + flavour + arch + version)}";
                    latest = AddImageInternal(name, arch, BottlerocketAmiOwner, "amazon", created, $"bottlerocket-aws-k8s-{k8s}{flavour}-{arch}-v{version}");
                    PutParameterInternal($"{root}/{version}/image_id", latest.Id, "aws:ec2:image");
                }

                PutParameterInternal($"{root}/latest/image_id", latest!.Id, "aws:ec2:image");
            }
        }
    }

    private void SeedWindows(string k8s)
    {
        foreach (var release in new[] { "2019", "2022", "2025" })
        {
            Image? latest = null;
            foreach (var (version, created) in WindowsReleases)
            {
                var name = $"Windows_Server-{release}-English-Core-EKS_Optimized-{k8s}-{version}";
                latest = AddImageInternal(name, "x86_64", WindowsAmiOwner, "amazon", created, $"Microsoft Windows Server {release} Core optimized for EKS and provided by Amazon", platform: "windows");
            }

            PutParameterInternal($"/aws/service/ami-windows-latest/Windows_Server-{release}-English-Core-EKS_Optimized-{k8s}/image_id", latest!.Id, "aws:ec2:image");
        }
    }

    private Image AddImageInternal(
        string name, string arch, string owner, string? alias, DateTimeOffset created, string? description,
        string? platform = null, bool isPublic = true)
    {
        var image = new Image
        {
            Id = "ami-" + ShortHash(name, 17),
            Name = name,
            Architecture = arch,
            OwnerId = owner,
            OwnerAlias = alias,
            CreationDate = created,
            DeprecationTime = created.AddYears(2),
            Description = description ?? name,
            Platform = platform,
            RootDeviceName = platform == "windows" ? "/dev/sda1" : "/dev/xvda",
            IsPublic = isPublic,
        };
        ImageList.Add(image);
        return image;
    }

    private void PutParameterInternal(string name, string value, string dataType)
    {
        if (Parameters.TryGetValue(name, out var existing))
        {
            existing.Value = value;
            existing.Version++;
            existing.LastModifiedDate = Now;
            return;
        }

        Parameters[name] = new SsmParameter { Name = name, Value = value, DataType = dataType, LastModifiedDate = Now };
    }

    private static string ShortHash(string text, int digits = 8) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..digits];

    /// <summary>EC2's zone-id prefix: us-east-1 → use1, eu-central-1 → euc1, ap-southeast-2 → apse2.</summary>
    internal static string ZoneIdPrefix(string region)
    {
        var parts = region.Split('-');
        var direction = string.Join("", parts[1..^1].Select(p => p switch
        {
            "northeast" => "ne",
            "southeast" => "se",
            "northwest" => "nw",
            "southwest" => "sw",
            _ => p[..1],
        }));
        return parts[0] + direction + parts[^1];
    }
}

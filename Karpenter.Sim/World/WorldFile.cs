using System.Net;
using System.Text.RegularExpressions;
using Karpenter.Sim.Aws;
using Karpenter.Sim.Scenarios;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Karpenter.Sim.World;

/// <summary>
/// A world description (<c>--world FILE</c> of <c>simulate</c> and <c>sandbox</c>): the cluster's name, region and
/// Kubernetes version, the availability zones, the VPC's subnets and security groups with their tags, the instance
/// profiles, and the instance-type catalog. EKS images and their SSM parameters are published for the Kubernetes
/// version. Fields left out take the default world's values (<see cref="SimulatedWorldOptions"/>), so an empty file
/// is the default world; <c>examples/worlds/default.yaml</c> spells the default out. Mistakes are reported as
/// <see cref="ScenarioException"/>s with the file position, as scenario files' are.
/// </summary>
public static partial class WorldFile
{
    private static readonly string[] TopFields = ["clusterName", "region", "kubernetesVersion", "catalog", "vpcCidr", "zones", "subnets", "securityGroups", "instanceProfiles"];
    private static readonly string[] ZoneFields = ["name", "id"];
    private static readonly string[] SubnetFields = ["zone", "cidr", "public", "tags"];
    private static readonly string[] GroupFields = ["name", "description", "tags"];

    /// <summary>The default world's zones (a, b, c) sit in these zone IDs, as in us-east-1 for many accounts.</summary>
    private static readonly int[] DefaultZoneIds = [1, 2, 4];

    /// <summary>Reads a world file and applies it to <paramref name="options"/>; relative catalog paths are relative to the file.</summary>
    public static void Apply(string path, SimulatedWorldOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScenarioException($"cannot read the world file {path}: {e.Message}", e);
        }

        Apply(text, path, Path.GetDirectoryName(Path.GetFullPath(path)) ?? Directory.GetCurrentDirectory(), options);
    }

    /// <summary>Reads world text (<paramref name="file"/> names it in messages) and applies it to <paramref name="options"/>.</summary>
    public static void Apply(string text, string file, string baseDirectory, SimulatedWorldOptions options)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(options);
        var context = new ScenarioReader.Context(file, baseDirectory);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new ScenarioException(context.At(e.Start), $"not valid YAML: {e.Message}", e);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return;
        }

        var root = context.Mapping(stream.Documents[0].RootNode, "the world");
        context.OnlyFields(root, TopFields, "the world");
        var cluster = context.String(root, "clusterName") ?? options.ClusterName;
        if (!DnsLabel().IsMatch(cluster) || cluster.Length > 100)
        {
            throw new ScenarioException(context.At(root.Children[new YamlScalarNode("clusterName")]), $"'clusterName' must be lower-case letters, digits and '-' (was '{cluster}')");
        }

        var region = context.String(root, "region") ?? options.Region;
        if (!Region().IsMatch(region))
        {
            throw new ScenarioException(context.At(root.Children[new YamlScalarNode("region")]), $"'region' must be an AWS region such as us-east-1 or eu-west-2 (was '{region}')");
        }

        var version = context.String(root, "kubernetesVersion") ?? options.KubernetesVersion;
        if (!MinorVersion().IsMatch(version))
        {
            throw new ScenarioException(context.At(root.Children[new YamlScalarNode("kubernetesVersion")]), $"'kubernetesVersion' must be a minor version such as \"1.32\" (was '{version}')");
        }

        options.ClusterName = cluster;
        options.Region = region;
        options.KubernetesVersion = version;
        if (context.String(root, "catalog") is { } catalog && catalog != "embedded")
        {
            var full = Path.GetFullPath(Path.Combine(baseDirectory, catalog));
            if (!File.Exists(full))
            {
                throw new ScenarioException(context.At(root.Children[new YamlScalarNode("catalog")]), $"the catalog file {full} does not exist");
            }

            options.InstanceTypeCatalogPath = full;
        }

        var network = Network(context, root, cluster, region);
        options.Network = network;
    }

    /// <summary>The default world's account for <paramref name="cluster"/> in <paramref name="region"/>, as the AWS emulator builds it.</summary>
    private static AwsNetworkLayout Network(ScenarioReader.Context context, YamlMappingNode root, string cluster, string region)
    {
        var vpcCidr = context.String(root, "vpcCidr") ?? "10.0.0.0/16";
        if (!IPNetwork.TryParse(vpcCidr, out var vpc) || vpc.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || vpc.PrefixLength is < 16 or > 28)
        {
            throw new ScenarioException(context.At(root.Children[new YamlScalarNode("vpcCidr")]), $"'vpcCidr' must be an IPv4 CIDR block between /16 and /28 (was '{vpcCidr}')");
        }

        var zones = context.List(root, "zones", (c, node) =>
        {
            var map = c.Mapping(node, "a zone");
            c.OnlyFields(map, ZoneFields, "a zone");
            var name = c.String(map, "name") ?? throw new ScenarioException(c.At(map), "a zone needs a 'name' such as " + region + "a");
            if (!name.StartsWith(region, StringComparison.Ordinal) || name.Length != region.Length + 1 || !char.IsAsciiLetterLower(name[^1]))
            {
                throw new ScenarioException(c.At(map), $"zone '{name}' is not a zone of region {region} (such as {region}a)");
            }

            return (Name: name, Id: c.String(map, "id") ?? $"{Aws.World.AwsWorld.ZoneIdPrefix(region)}-az{name[^1] - 'a' + 1}", Node: node);
        });
        if (!root.Children.ContainsKey(new YamlScalarNode("zones")))
        {
            zones = [.. "abc".Select((letter, i) => (Name: region + letter, Id: $"{Aws.World.AwsWorld.ZoneIdPrefix(region)}-az{DefaultZoneIds[i]}", Node: (YamlNode)root))];
        }

        Unique(context, zones.Select(z => (z.Name, z.Node)), "zone");
        var subnets = context.List(root, "subnets", (c, node) =>
        {
            var map = c.Mapping(node, "a subnet");
            c.OnlyFields(map, SubnetFields, "a subnet");
            var zone = c.String(map, "zone") ?? throw new ScenarioException(c.At(map), "a subnet needs the 'zone' it is in");
            if (!zones.Any(z => z.Name == zone))
            {
                throw new ScenarioException(c.At(map), $"subnet zone '{zone}' is not one of the world's zones ({string.Join(", ", zones.Select(z => z.Name))})");
            }

            var cidr = c.String(map, "cidr") ?? throw new ScenarioException(c.At(map), "a subnet needs a 'cidr' inside the VPC's " + vpcCidr);
            if (!IPNetwork.TryParse(cidr, out var block) || block.PrefixLength is < 16 or > 28 || block.PrefixLength < vpc.PrefixLength || !vpc.Contains(block.BaseAddress))
            {
                throw new ScenarioException(c.At(map), $"subnet cidr '{cidr}' must be an IPv4 block between /16 and /28 inside the VPC's {vpcCidr}");
            }

            var isPublic = c.String(map, "public") is { } p ? p switch
            {
                "true" => true,
                "false" => false,
                _ => throw new ScenarioException(c.At(map), $"'public' must be true or false (was '{p}')"),
            } : false;
            return (Layout: new SubnetLayout(zone, cidr, isPublic, c.StringMap(map, "tags")), Node: node);
        });
        var subnetLayouts = root.Children.ContainsKey(new YamlScalarNode("subnets"))
            ? subnets.Select(s => s.Layout).ToList()
            : DefaultSubnets(cluster, zones.Select(z => z.Name).ToList());
        var overlapping = subnetLayouts.SelectMany((a, i) => subnetLayouts.Skip(i + 1).Select(b => (a, b)))
            .FirstOrDefault(p => IPNetwork.Parse(p.a.Cidr).Contains(IPNetwork.Parse(p.b.Cidr).BaseAddress) || IPNetwork.Parse(p.b.Cidr).Contains(IPNetwork.Parse(p.a.Cidr).BaseAddress));
        if (overlapping.a is not null)
        {
            throw new ScenarioException(context.At(root), $"subnets {overlapping.a.Cidr} and {overlapping.b.Cidr} overlap");
        }

        var groups = context.List(root, "securityGroups", (c, node) =>
        {
            var map = c.Mapping(node, "a security group");
            c.OnlyFields(map, GroupFields, "a security group");
            var name = c.String(map, "name") ?? throw new ScenarioException(c.At(map), "a security group needs a 'name'");
            return (Layout: new SecurityGroupLayout(name, c.String(map, "description") ?? name, c.StringMap(map, "tags")), Node: node);
        });
        Unique(context, groups.Select(g => (g.Layout.Name, g.Node)), "security group");
        var profiles = context.List(root, "instanceProfiles", (c, node) =>
            node is YamlScalarNode { Value: { Length: > 0 } name } ? (Name: name, Node: node) : throw new ScenarioException(c.At(node), "an instance profile is a name"));
        Unique(context, profiles.Select(p => (p.Name, p.Node)), "instance profile");
        return new AwsNetworkLayout
        {
            VpcCidr = vpcCidr,
            Zones = [.. zones.Select(z => (z.Name, z.Id))],
            Subnets = subnetLayouts,
            SecurityGroups = root.Children.ContainsKey(new YamlScalarNode("securityGroups")) ? [.. groups.Select(g => g.Layout)] : DefaultSecurityGroups(cluster),
            InstanceProfiles = root.Children.ContainsKey(new YamlScalarNode("instanceProfiles")) ? [.. profiles.Select(p => p.Name)] : [$"KarpenterNodeInstanceProfile-{cluster}"],
        };
    }

    /// <summary>The default world's subnets: a private /19 per zone tagged for discovery, and a public /24 per zone.</summary>
    internal static List<SubnetLayout> DefaultSubnets(string cluster, IReadOnlyList<string> zones)
    {
        var subnets = new List<SubnetLayout>();
        for (var i = 0; i < zones.Count; i++)
        {
            subnets.Add(new SubnetLayout(zones[i], $"10.0.{i * 32}.0/19", false, new Dictionary<string, string>
            {
                ["Name"] = $"{cluster}-private-{zones[i]}",
                ["karpenter.sh/discovery"] = cluster,
                ["kubernetes.io/role/internal-elb"] = "1",
            }));
        }

        for (var i = 0; i < zones.Count; i++)
        {
            subnets.Add(new SubnetLayout(zones[i], $"10.0.{96 + i}.0/24", true, new Dictionary<string, string>
            {
                ["Name"] = $"{cluster}-public-{zones[i]}",
                ["kubernetes.io/role/elb"] = "1",
            }));
        }

        return subnets;
    }

    /// <summary>The default world's security groups: the nodes' (tagged for discovery) and the EKS cluster's.</summary>
    internal static List<SecurityGroupLayout> DefaultSecurityGroups(string cluster) =>
    [
        new($"{cluster}-node", "Karpenter-managed nodes", new Dictionary<string, string> { ["Name"] = $"{cluster}-node", ["karpenter.sh/discovery"] = cluster }),
        new($"eks-cluster-sg-{cluster}", "EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, as well as any managed workloads.", new Dictionary<string, string>
        {
            ["Name"] = $"eks-cluster-sg-{cluster}",
            ["aws:eks:cluster-name"] = cluster,
            [$"kubernetes.io/cluster/{cluster}"] = "owned",
        }),
    ];

    private static void Unique(ScenarioReader.Context context, IEnumerable<(string Name, YamlNode Node)> items, string what)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, node) in items)
        {
            if (!seen.Add(name))
            {
                throw new ScenarioException(context.At(node), $"{what} '{name}' is declared twice");
            }
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")]
    private static partial Regex Region();

    [GeneratedRegex("^1\\.[0-9]{2}$")]
    private static partial Regex MinorVersion();
}

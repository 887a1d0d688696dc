using Karpenter.Sim.Aws;
using Karpenter.Sim.Scenarios;
using Karpenter.Sim.World;
using Karpenter.Tests.Sim.Scenarios;

namespace Karpenter.Tests.Sim.World;

/// <summary>
/// World files (<c>--world</c>): the example that spells out the default world seeds the AWS emulator exactly as the
/// built-in default does, another world gets its own cluster, region, zones and tags, and mistakes are reported with
/// their position.
/// </summary>
public sealed class WorldFileTests
{
    private static string Worlds => Path.Combine(ScenarioReaderTests.RepositoryRoot(), "examples", "scenarios", "worlds");

    [Fact]
    public async Task The_default_world_file_seeds_the_same_account_as_the_built_in_default()
    {
        var options = new SimulatedWorldOptions();
        WorldFile.Apply(Path.Combine(Worlds, "default.yaml"), options);
        Assert.Equal(("my-cluster", "us-east-1", "1.32", (string?)null), (options.ClusterName, options.Region, options.KubernetesVersion, options.InstanceTypeCatalogPath));

        await using var builtIn = await AwsEmulator.StartAsync(new AwsEmulatorOptions { ClusterName = "my-cluster" });
        await using var described = await AwsEmulator.StartAsync(new AwsEmulatorOptions { ClusterName = "my-cluster", Network = options.Network });

        Assert.Equal(Describe(builtIn), Describe(described));
    }

    [Fact]
    public async Task Another_world_has_its_own_cluster_region_zones_subnets_groups_and_default_instance_profile()
    {
        var options = new SimulatedWorldOptions();
        WorldFile.Apply(Path.Combine(Worlds, "two-zones-eu.yaml"), options);
        Assert.Equal(("shop", "eu-west-1", "1.33"), (options.ClusterName, options.Region, options.KubernetesVersion));

        await using var aws = await AwsEmulator.StartAsync(new AwsEmulatorOptions { ClusterName = options.ClusterName, Region = options.Region, Network = options.Network });
        var world = Describe(aws);

        Assert.Equal("eu-west-1a euw1-az1; eu-west-1b euw1-az2", world.Zones);
        Assert.Equal("eu-west-1a 10.0.0.0/20 private karpenter.sh/discovery=shop,tier=private; eu-west-1b 10.0.16.0/20 private karpenter.sh/discovery=shop,tier=private", world.Subnets);
        Assert.Equal("default ; shop-nodes karpenter.sh/discovery=shop", world.Groups);
        Assert.Equal("KarpenterNodeInstanceProfile-shop:KarpenterNodeRole-shop", world.Profiles);
    }

    [Fact]
    public void An_empty_world_file_is_the_default_world()
    {
        var options = new SimulatedWorldOptions();
        WorldFile.Apply("# nothing\n", "empty.yaml", Worlds, options);

        Assert.Equal("my-cluster", options.ClusterName);
        Assert.Null(options.Network);
    }

    [Theory]
    [InlineData("clusterName: shop\nzone: []\n", "bad.yaml:2:1: unknown field 'zone' in the world (did you mean 'zones'?); known fields: clusterName, region, kubernetesVersion, catalog, vpcCidr, zones, subnets, securityGroups, instanceProfiles")]
    [InlineData("region: Europe\n", "bad.yaml:1:9: 'region' must be an AWS region such as us-east-1 or eu-west-2 (was 'Europe')")]
    [InlineData("zones: [{ name: us-east-1a }]\nsubnets:\n  - { zone: us-east-1b, cidr: 10.0.0.0/20 }\n", "bad.yaml:3:5: subnet zone 'us-east-1b' is not one of the world's zones (us-east-1a)")]
    [InlineData("subnets:\n  - { zone: us-east-1a, cidr: 10.1.0.0/20 }\n", "bad.yaml:2:5: subnet cidr '10.1.0.0/20' must be an IPv4 block between /16 and /28 inside the VPC's 10.0.0.0/16")]
    [InlineData("subnets:\n  - { zone: us-east-1a, cidr: 10.0.0.0/20 }\n  - { zone: us-east-1b, cidr: 10.0.8.0/24 }\n", "bad.yaml:1:1: subnets 10.0.0.0/20 and 10.0.8.0/24 overlap")]
    [InlineData("securityGroups: [{ name: a }, { name: a }]\n", "bad.yaml:1:31: security group 'a' is declared twice")]
    [InlineData("kubernetesVersion: 1.3x\n", "bad.yaml:1:20: 'kubernetesVersion' must be a minor version such as \"1.32\" (was '1.3x')")]
    [InlineData("zones: [{ name: eu-west-1a }]\n", "bad.yaml:1:9: zone 'eu-west-1a' is not a zone of region us-east-1 (such as us-east-1a)")]
    public void A_mistake_is_reported_with_its_position(string text, string message)
    {
        var e = Assert.Throws<ScenarioException>(() => WorldFile.Apply(text, "bad.yaml", Worlds, new SimulatedWorldOptions()));
        Assert.Equal(message, e.Message);
    }

    private static (string Zones, string Subnets, string Groups, string Profiles) Describe(AwsEmulator aws)
    {
        var w = aws.World;
        static string Tags(IReadOnlyDictionary<string, string> tags) => string.Join(",", tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"));
        return (
            string.Join("; ", w.Zones.Select(z => $"{z.Name} {z.ZoneId}")),
            string.Join("; ", w.SubnetList.Select(s => $"{s.Zone.Name} {s.CidrBlock} {(s.MapPublicIpOnLaunch ? "public" : "private")} {Tags(s.Tags)}")),
            string.Join("; ", w.SecurityGroupList.Select(g => $"{g.Name} {Tags(g.Tags)}")),
            string.Join("; ", w.InstanceProfiles().Select(p => $"{p.Key}:{p.Value}")));
    }
}

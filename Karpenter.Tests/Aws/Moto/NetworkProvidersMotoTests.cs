using Amazon.EC2;
using Amazon.EC2.Model;
using Karpenter.Aws.SecurityGroups;
using Karpenter.Aws.Subnets;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Aws.Moto;

/// <summary>Subnet and security-group selector terms resolved against moto_server through the real EC2 client.</summary>
[Collection(MotoTests.Name)]
public sealed class NetworkProvidersMotoTests(MotoServerFixture moto) : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private Karpenter.Aws.Sdk.AwsClients _clients = null!;

    public async Task InitializeAsync()
    {
        await moto.ResetAsync();
        _clients = moto.Clients(_time);
    }

    public Task DisposeAsync()
    {
        _clients?.Dispose();
        return Task.CompletedTask;
    }

    private async Task<(string Vpc, string A, string B, string C)> ExpectDiscoverySubnets()
    {
        var ec2 = _clients.Ec2;
        var vpc = (await ec2.CreateVpcAsync(new CreateVpcRequest { CidrBlock = "10.0.0.0/16" })).Vpc.VpcId;
        async Task<string> Subnet(string cidr, string zone, params (string Key, string Value)[] tags) =>
            (await ec2.CreateSubnetAsync(new CreateSubnetRequest
            {
                VpcId = vpc,
                CidrBlock = cidr,
                AvailabilityZone = zone,
                TagSpecifications = [new TagSpecification { ResourceType = ResourceType.Subnet, Tags = [.. tags.Select(t => new Tag(t.Key, t.Value))] }],
            })).Subnet.SubnetId;
        var a = await Subnet("10.0.0.0/20", "us-east-1a", ("karpenter.sh/discovery", "test-cluster"), ("tier", "private"));
        var b = await Subnet("10.0.16.0/24", "us-east-1a", ("karpenter.sh/discovery", "test-cluster"));
        var c = await Subnet("10.0.32.0/20", "us-east-1b", ("karpenter.sh/discovery", "other-cluster"));
        return (vpc, a, b, c);
    }

    [SkippableFact]
    public async Task Tag_terms_select_only_matching_subnets_and_a_star_matches_any_value()
    {
        var (_, a, b, c) = await ExpectDiscoverySubnets();
        var provider = new SubnetProvider(_clients.Ec2, _time, Microsoft.Extensions.Options.Options.Create(moto.Options()));

        var exact = await provider.ListAsync([new SubnetSelector(Tags: new Dictionary<string, string> { ["karpenter.sh/discovery"] = "test-cluster" })], default);
        Assert.Equal(new[] { a, b }.Order(), exact.Select(s => s.Id).Order());

        var any = await provider.ListAsync([new SubnetSelector(Tags: new Dictionary<string, string> { ["karpenter.sh/discovery"] = "*" })], default);
        Assert.Equal(new[] { a, b, c }.Order(), any.Select(s => s.Id).Order());

        var both = await provider.ListAsync([new SubnetSelector(Tags: new Dictionary<string, string> { ["karpenter.sh/discovery"] = "test-cluster", ["tier"] = "private" })], default);
        Assert.Equal([a], both.Select(s => s.Id));
    }

    [SkippableFact]
    public async Task Id_terms_and_tag_terms_are_ORed_and_deduplicated()
    {
        var (_, a, _, c) = await ExpectDiscoverySubnets();
        var provider = new SubnetProvider(_clients.Ec2, _time, Microsoft.Extensions.Options.Options.Create(moto.Options()));
        var subnets = await provider.ListAsync(
            [new SubnetSelector(Id: a), new SubnetSelector(Id: c), new SubnetSelector(Tags: new Dictionary<string, string> { ["tier"] = "private" })], default);
        Assert.Equal(new[] { a, c }.Order(), subnets.Select(s => s.Id).Order());
        Assert.All(subnets, s => Assert.False(string.IsNullOrEmpty(s.ZoneId)));
    }

    [SkippableFact]
    public async Task Terms_that_match_nothing_give_an_empty_list()
    {
        await ExpectDiscoverySubnets();
        var provider = new SubnetProvider(_clients.Ec2, _time, Microsoft.Extensions.Options.Options.Create(moto.Options()));
        Assert.Empty(await provider.ListAsync([new SubnetSelector(Tags: new Dictionary<string, string> { ["karpenter.sh/discovery"] = "nobody" })], default));
    }

    [SkippableFact]
    public async Task The_zonal_subnet_for_launch_has_the_most_free_addresses_counting_launches_in_flight()
    {
        var (_, a, b, _) = await ExpectDiscoverySubnets();
        var provider = new SubnetProvider(_clients.Ec2, _time, Microsoft.Extensions.Options.Options.Create(moto.Options()));
        var subnets = await provider.ListAsync([new SubnetSelector(Tags: new Dictionary<string, string> { ["karpenter.sh/discovery"] = "test-cluster" })], default);
        Assert.Equal(a, provider.ZonalSubnetsForLaunch(subnets)["us-east-1a"].Id); // a /20 has more free addresses than a /24

        var gap = subnets.Single(s => s.Id == a).AvailableIpAddressCount - subnets.Single(s => s.Id == b).AvailableIpAddressCount;
        provider.MarkLaunched(a, gap + 1);
        Assert.Equal(b, provider.ZonalSubnetsForLaunch(subnets)["us-east-1a"].Id);
    }

    [SkippableFact]
    public async Task Subnets_are_cached_until_the_refresh_interval_passes()
    {
        var (vpc, a, b, _) = await ExpectDiscoverySubnets();
        var provider = new SubnetProvider(_clients.Ec2, _time, Microsoft.Extensions.Options.Options.Create(moto.Options()));
        var terms = new[] { new SubnetSelector(Tags: new Dictionary<string, string> { ["karpenter.sh/discovery"] = "test-cluster" }) };
        Assert.Equal(2, (await provider.ListAsync(terms, default)).Count);
        await _clients.Ec2.CreateSubnetAsync(new CreateSubnetRequest
        {
            VpcId = vpc,
            CidrBlock = "10.0.48.0/24",
            AvailabilityZone = "us-east-1c",
            TagSpecifications = [new TagSpecification { ResourceType = ResourceType.Subnet, Tags = [new Tag("karpenter.sh/discovery", "test-cluster")] }],
        });
        Assert.Equal(2, (await provider.ListAsync(terms, default)).Count);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(3, (await provider.ListAsync(terms, default)).Count);
    }

    [SkippableFact]
    public async Task Security_groups_resolve_by_id_name_and_tags()
    {
        var (vpc, _, _, _) = await ExpectDiscoverySubnets();
        var ec2 = _clients.Ec2;
        async Task<string> Group(string name, params (string Key, string Value)[] tags) =>
            (await ec2.CreateSecurityGroupAsync(new CreateSecurityGroupRequest
            {
                GroupName = name,
                Description = name,
                VpcId = vpc,
                TagSpecifications = tags.Length == 0 ? null
                    : [new TagSpecification { ResourceType = ResourceType.SecurityGroup, Tags = [.. tags.Select(t => new Tag(t.Key, t.Value))] }],
            })).GroupId;
        var nodes = await Group("nodes", ("karpenter.sh/discovery", "test-cluster"));
        var extra = await Group("extra");
        await Group("unrelated", ("karpenter.sh/discovery", "other"));
        var provider = new SecurityGroupProvider(ec2, _time);

        var byTag = await provider.ListAsync([new SecurityGroupSelector(Tags: new Dictionary<string, string> { ["karpenter.sh/discovery"] = "test-cluster" })], default);
        Assert.Equal([nodes], byTag.Select(g => g.Id));
        var byIdAndName = await provider.ListAsync([new SecurityGroupSelector(Id: nodes), new SecurityGroupSelector(Name: "extra")], default);
        Assert.Equal(new[] { nodes, extra }.Order(), byIdAndName.Select(g => g.Id).Order());
        Assert.Contains(byIdAndName, g => g.Name == "extra");
        Assert.Empty(await provider.ListAsync([new SecurityGroupSelector(Name: "missing")], default));
    }
}

using Amazon.EC2;
using Amazon.EC2.Model;
using Karpenter.Sim.Aws.World;
using InstanceState = Karpenter.Sim.Aws.World.InstanceState;

namespace Karpenter.Tests.Sim.Aws;

/// <summary>CreateFleet (instant) as Karpenter launches with it (aws-provider.md §1.6), through the real SDK.</summary>
public sealed class FleetTests
{
    private static readonly string[] GeneralPurpose = ["m5.large", "m6i.large", "c5.large", "c6i.large", "r5.large"];

    [Fact]
    public async Task Spot_fleet_launches_one_instance_in_the_cheapest_pool_and_fills_in_the_override()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var response = await h.LaunchAsync("spot", GeneralPurpose);

        Assert.True(response.Errors is null || response.Errors.Count == 0);
        var launched = Assert.Single(response.Instances);
        var id = Assert.Single(launched.InstanceIds);
        Assert.Equal("spot", launched.Lifecycle.Value);

        var world = h.Emulator.World;
        var cheapest = GeneralPurpose.SelectMany(t => world.Zones.Select(z => (Type: t, Zone: z.Name, Price: world.SpotPrice(t, z.Name)!.Value)))
            .OrderBy(p => p.Price).First();
        Assert.Equal(cheapest.Type, launched.InstanceType.Value);
        Assert.Equal(cheapest.Zone, launched.LaunchTemplateAndOverrides.Overrides.AvailabilityZone);
        Assert.StartsWith("subnet-", launched.LaunchTemplateAndOverrides.Overrides.SubnetId, StringComparison.Ordinal);

        var instance = Assert.Single(Assert.Single((await h.Ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [id] })).Reservations).Instances);
        Assert.Equal(InstanceStateName.Pending, instance.State.Name);
        Assert.StartsWith("sir-", instance.SpotInstanceRequestId, StringComparison.Ordinal);
        Assert.Equal(InstanceLifecycleType.Spot, instance.InstanceLifecycle);
        Assert.Equal(cheapest.Zone, instance.Placement.AvailabilityZone);
        Assert.Contains(instance.Tags, t => t.Key == "karpenter.sh/nodepool" && t.Value == "default");
        Assert.EndsWith(".ec2.internal", instance.PrivateDnsName, StringComparison.Ordinal);
        Assert.Contains("instance-profile/KarpenterNodeInstanceProfile-test-cluster", instance.IamInstanceProfile.Arn, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Instances_boot_on_the_clock_and_keep_the_launch_template_user_data()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var world = h.Emulator.World;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var events = world.WatchInstancesAsync(cts.Token).GetAsyncEnumerator(cts.Token);

        var id = Assert.Single(Assert.Single((await h.LaunchAsync("on-demand", "m5.large")).Instances).InstanceIds);
        Assert.True(await events.MoveNextAsync());
        Assert.Equal((InstanceEventKind.Launched, id), (events.Current.Kind, events.Current.Instance.InstanceId));

        h.Clock.Advance(TimeSpan.FromSeconds(9));
        world.Tick();
        Assert.Equal(InstanceState.Pending, world.FindInstance(id)!.State);
        h.Clock.Advance(TimeSpan.FromSeconds(1));
        world.Tick();

        var snapshot = world.FindInstance(id)!;
        Assert.Equal(InstanceState.Running, snapshot.State);
        Assert.Equal(EmulatorHarness.UserData, snapshot.UserData);
        Assert.Equal("m5.large", snapshot.InstanceType);
        Assert.Equal($"aws:///{snapshot.AvailabilityZone}/{id}", snapshot.ProviderId);
        Assert.True(await events.MoveNextAsync());
        Assert.Equal(InstanceEventKind.Running, events.Current.Kind);
        await events.DisposeAsync();
    }

    [Fact]
    public async Task An_insufficient_capacity_pool_is_reported_per_override_and_the_fleet_launches_elsewhere()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var world = h.Emulator.World;
        var cheapest = world.Zones.Select(z => (Zone: z.Name, Price: world.SpotPrice("m5.large", z.Name)!.Value)).MinBy(p => p.Price).Zone;
        world.SetInsufficientCapacity("m5.large", cheapest, "spot", h.Clock.GetUtcNow(), h.Clock.GetUtcNow().AddMinutes(10));

        var response = await h.LaunchAsync("spot", "m5.large");

        var error = Assert.Single(response.Errors);
        Assert.Equal("InsufficientInstanceCapacity", error.ErrorCode);
        Assert.Equal(("m5.large", cheapest), (error.LaunchTemplateAndOverrides.Overrides.InstanceType.Value, error.LaunchTemplateAndOverrides.Overrides.AvailabilityZone));
        Assert.Equal("spot", error.Lifecycle.Value);
        Assert.NotEqual(cheapest, Assert.Single(response.Instances).LaunchTemplateAndOverrides.Overrides.AvailabilityZone);
    }

    [Fact]
    public async Task When_every_pool_is_out_of_capacity_nothing_launches_and_every_override_is_an_error()
    {
        await using var h = await EmulatorHarness.StartAsync();
        h.Emulator.World.SetInsufficientCapacity(null, null, "on-demand", h.Clock.GetUtcNow(), h.Clock.GetUtcNow().AddMinutes(10));

        var response = await h.LaunchAsync("on-demand", "m5.large", "c5.large");

        Assert.True(response.Instances is null || response.Instances.Count == 0);
        Assert.Equal(6, response.Errors.Count);
        Assert.All(response.Errors, e => Assert.Equal("InsufficientInstanceCapacity", e.ErrorCode));
        Assert.Empty(h.Emulator.World.Instances());
    }

    [Fact]
    public async Task A_capacity_window_applies_only_between_its_start_and_end_on_the_clock()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var t0 = h.Clock.GetUtcNow();
        h.Emulator.World.SetInsufficientCapacity("m5.large", null, null, t0.AddMinutes(1), t0.AddMinutes(2));

        Assert.Single((await h.LaunchAsync("on-demand", "m5.large")).Instances);
        h.Clock.Advance(TimeSpan.FromSeconds(90));
        Assert.True((await h.LaunchAsync("on-demand", "m5.large")).Instances is null or { Count: 0 });
        h.Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Single((await h.LaunchAsync("on-demand", "m5.large")).Instances);
    }

    [Fact]
    public async Task A_pool_limit_is_used_up_by_live_instances_and_freed_by_termination()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var world = h.Emulator.World;
        foreach (var zone in world.Zones)
        {
            world.SetPoolCapacity("m5.large", zone.Name, "on-demand", zone.Name == "us-east-1a" ? 1 : 0);
        }

        var first = Assert.Single(Assert.Single((await h.LaunchAsync("on-demand", "m5.large")).Instances).InstanceIds);
        Assert.Equal("us-east-1a", world.FindInstance(first)!.AvailabilityZone);
        Assert.Equal(3, (await h.LaunchAsync("on-demand", "m5.large")).Errors.Count);

        await h.Ec2.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = [first] });
        Assert.Single((await h.LaunchAsync("on-demand", "m5.large")).Instances);
    }

    [Fact]
    public async Task On_demand_lowest_price_picks_the_cheapest_type()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var response = await h.LaunchAsync("on-demand", "m5.xlarge", "c5.large", "r5.large");
        Assert.Equal("c5.large", Assert.Single(response.Instances).InstanceType.Value);
    }

    [Fact]
    public async Task A_batched_request_returns_several_instance_ids()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var response = await h.LaunchAsync("spot", 3, "m5.large", "m6i.large");
        Assert.Equal(3, response.Instances.Sum(i => i.InstanceIds.Count));
        Assert.Equal(3, h.Emulator.World.Instances().Count);
    }

    [Fact]
    public async Task A_missing_launch_template_is_reported_in_the_error_set()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var response = await h.Ec2.CreateFleetAsync(new CreateFleetRequest
        {
            Type = FleetType.Instant,
            TargetCapacitySpecification = new TargetCapacitySpecificationRequest { DefaultTargetCapacityType = "on-demand", TotalTargetCapacity = 1 },
            LaunchTemplateConfigs =
            [
                new FleetLaunchTemplateConfigRequest
                {
                    LaunchTemplateSpecification = new FleetLaunchTemplateSpecificationRequest { LaunchTemplateName = "karpenter.k8s.aws/gone", Version = "$Latest" },
                    Overrides = [new FleetLaunchTemplateOverridesRequest { InstanceType = "m5.large", AvailabilityZone = "us-east-1a" }],
                },
            ],
        });
        Assert.Equal("InvalidLaunchTemplateName.NotFoundException", Assert.Single(response.Errors).ErrorCode);
    }

    [Fact]
    public async Task Launches_use_subnet_addresses_and_termination_frees_them_after_shutdown()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var world = h.Emulator.World;
        var id = Assert.Single(Assert.Single((await h.LaunchAsync("on-demand", "m5.large")).Instances).InstanceIds);
        var subnetId = world.FindInstance(id)!.SubnetId;
        Assert.Equal(8186, world.Subnets().Single(s => s.SubnetId == subnetId).AvailableIpAddressCount);

        var change = Assert.Single((await h.Ec2.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = [id] })).TerminatingInstances);
        Assert.Equal((InstanceStateName.Pending, InstanceStateName.ShuttingDown), (change.PreviousState.Name, change.CurrentState.Name));
        Assert.Equal(8186, world.Subnets().Single(s => s.SubnetId == subnetId).AvailableIpAddressCount);

        h.Clock.Advance(TimeSpan.FromSeconds(20));
        world.Tick();
        Assert.Equal(InstanceState.Terminated, world.FindInstance(id)!.State);
        Assert.Equal(8187, world.Subnets().Single(s => s.SubnetId == subnetId).AvailableIpAddressCount);

        var live = await h.Ec2.DescribeInstancesAsync(new DescribeInstancesRequest
        {
            InstanceIds = [id],
            Filters = [new Filter("instance-state-name", ["pending", "running", "stopping", "stopped", "shutting-down"])],
        });
        Assert.True(live.Reservations is null || live.Reservations.Count == 0);

        h.Clock.Advance(TimeSpan.FromHours(1));
        world.Tick();
        var gone = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.Ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [id] }));
        Assert.Equal("InvalidInstanceID.NotFound", gone.ErrorCode);
    }

    [Fact]
    public async Task A_subnet_without_free_addresses_is_reported_as_InsufficientFreeAddressesInSubnet()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var world = h.Emulator.World;
        foreach (var subnet in world.Subnets())
        {
            world.SetSubnetAvailableAddresses(subnet.SubnetId, 0);
        }

        var response = await h.LaunchAsync("on-demand", "m5.large");
        Assert.All(response.Errors, e => Assert.Equal("InsufficientFreeAddressesInSubnet", e.ErrorCode));
        Assert.Equal(3, response.Errors.Count);
    }

    [Fact]
    public async Task Garbage_collection_listing_ANDs_repeated_tag_key_filters_and_pages()
    {
        await using var h = await EmulatorHarness.StartAsync();
        await h.LaunchAsync("spot", 6, "m5.large");
        await h.Ec2.CreateTagsAsync(new CreateTagsRequest
        {
            Resources = h.Emulator.World.Instances().Take(4).Select(i => i.InstanceId).ToList(),
            Tags = [new Tag("karpenter.k8s.aws/ec2nodeclass", "default")],
        });

        var ids = new List<string>();
        var pages = 0;
        await foreach (var page in h.Ec2.Paginators.DescribeInstances(new DescribeInstancesRequest
        {
            Filters =
            [
                new Filter("tag-key", ["karpenter.sh/nodepool"]),
                new Filter("tag-key", ["karpenter.k8s.aws/ec2nodeclass"]),
                new Filter("tag:eks:eks-cluster-name", ["test-cluster"]),
                new Filter("instance-state-name", ["pending", "running", "stopping", "stopped", "shutting-down"]),
            ],
            MaxResults = 5,
        }).Responses)
        {
            pages++;
            ids.AddRange((page.Reservations ?? []).SelectMany(r => r.Instances).Select(i => i.InstanceId));
        }

        Assert.Equal(4, ids.Count);
        Assert.Equal(1, pages);

        var combination = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.Ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [ids[0]], MaxResults = 5 }));
        Assert.Equal("InvalidParameterCombination", combination.ErrorCode);
    }

    [Fact]
    public async Task Tags_added_after_registration_are_visible_in_DescribeTags()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var id = Assert.Single(Assert.Single((await h.LaunchAsync("on-demand", "m5.large")).Instances).InstanceIds);
        await h.Ec2.CreateTagsAsync(new CreateTagsRequest { Resources = [id], Tags = [new Tag("Name", "ip-10-0-0-4.ec2.internal"), new Tag("karpenter.sh/nodeclaim", "default-abcde")] });

        var tags = (await h.Ec2.DescribeTagsAsync(new DescribeTagsRequest { Filters = [new Filter("resource-id", [id]), new Filter("key", ["Name", "karpenter.sh/nodeclaim"])] })).Tags;
        Assert.Equal(["Name", "karpenter.sh/nodeclaim"], tags.Select(t => t.Key).Order());

        var missing = await Assert.ThrowsAsync<AmazonEC2Exception>(() => h.Ec2.CreateTagsAsync(new CreateTagsRequest { Resources = ["i-00000000000000000"], Tags = [new Tag("a", "b")] }));
        Assert.Equal("InvalidInstanceID.NotFound", missing.ErrorCode);
    }
}

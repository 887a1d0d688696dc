using Karpenter.Aws.CloudProvider;
using Karpenter.Aws.Instances;
using Karpenter.Aws.InstanceTypes;
using Karpenter.Aws.LaunchTemplates;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Scheduling;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Sim.Aws.World;
using CapacityTypes = Karpenter.Entities.WellKnown.CapacityTypes;

namespace Karpenter.Tests.Aws.CloudProvider;

/// <summary>The AWS cloud provider end to end against our emulator: NodeClass → launch template → fleet → NodeClaim, and back.</summary>
public sealed class AwsCloudProviderTests
{
    [Fact]
    public async Task A_resolved_NodeClass_is_ready_with_subnets_groups_amis_and_a_created_instance_profile()
    {
        await using var h = await AwsProviderHarness.StartAsync();

        var nodeClass = await h.ReadyNodeClassAsync();

        Assert.Equal(3, nodeClass.Status.Subnets!.Count);
        Assert.Equal(3, nodeClass.Status.Subnets.Select(s => s.Zone).Distinct().Count());
        Assert.NotEmpty(nodeClass.Status.SecurityGroups!);
        Assert.Contains(nodeClass.Status.Amis!, a => a.Requirements.Any(r => r.Key == Labels.Arch && r.Values!.Contains("amd64")));
        Assert.Contains(nodeClass.Status.Amis!, a => a.Requirements.Any(r => r.Key == Labels.Arch && r.Values!.Contains("arm64")));
        Assert.False(string.IsNullOrEmpty(nodeClass.Status.InstanceProfile));
        Assert.Equal("KarpenterNodeRole-test-cluster", h.Emulator.World.InstanceProfiles()[nodeClass.Status.InstanceProfile!]);
        foreach (var type in new[] { ConditionTypes.SubnetsReady, ConditionTypes.SecurityGroupsReady, ConditionTypes.AmisReady,
            ConditionTypes.InstanceProfileReady, ConditionTypes.ValidationSucceeded, ConditionTypes.Ready })
        {
            Assert.Equal("True", nodeClass.GetCondition(type)?.Status);
        }
    }

    [Fact]
    public async Task Create_launches_one_tagged_instance_from_a_launch_template_and_returns_the_launched_NodeClaim()
    {
        await using var h = await AwsProviderHarness.StartAsync();
        var nodeClass = await h.ReadyNodeClassAsync();

        var launched = await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("default-abc12"), default));

        var instanceId = launched.Status.ProviderId!.Split('/').Last();
        var instance = h.Emulator.World.FindInstance(instanceId)!;
        Assert.Equal($"aws:///{instance.AvailabilityZone}/{instanceId}", launched.Status.ProviderId);
        Assert.Equal(instance.ImageId, launched.Status.ImageId);
        Assert.Contains(nodeClass.Status.Amis!, a => a.Id == instance.ImageId);
        Assert.Equal(instance.InstanceType, launched.Metadata.Labels[Labels.InstanceType]);
        Assert.Equal(instance.AvailabilityZone, launched.Metadata.Labels[Labels.TopologyZone]);
        Assert.Equal(instance.CapacityType, launched.Metadata.Labels[Labels.CapacityType]);
        Assert.Equal("amd64", launched.Metadata.Labels[Labels.Arch]);
        Assert.True(launched.Status.Capacity!.ContainsKey("cpu"));
        Assert.True(launched.Status.Allocatable!.ContainsKey("pods"));
        Assert.Equal("default", launched.Metadata.Labels[Labels.NodePool]);

        // Tags as upstream: the NodeClass's own, ownership, NodePool, cluster and NodeClass.
        Assert.Equal("owned", instance.Tags[$"kubernetes.io/cluster/{EmulatedAws.ClusterName}"]);
        Assert.Equal("default", instance.Tags[Labels.NodePool]);
        Assert.Equal("default", instance.Tags[Labels.Ec2NodeClass]);
        Assert.Equal(EmulatedAws.ClusterName, instance.Tags["eks:eks-cluster-name"]);
        Assert.Equal("autoscaling", instance.Tags["team"]);

        // From a template named by its content, with the NodeClass's groups, profile and AL2023 user data.
        Assert.StartsWith(LaunchTemplateProvider.NamePrefix, instance.LaunchTemplateName);
        Assert.Equal(nodeClass.Status.SecurityGroups!.Select(g => g.Id).Order(), instance.SecurityGroupIds.Order());
        Assert.EndsWith("/" + nodeClass.Status.InstanceProfile, instance.IamInstanceProfileArn);
        Assert.Contains("apiVersion: node.eks.aws/v1alpha1", instance.UserData);
        Assert.Contains("karpenter.sh/unregistered", instance.UserData);
        // One fleet for the launch, besides the NodeClass validation's DryRun.
        Assert.Equal(2, h.Emulator.Faults.CallCount("CreateFleet"));
    }

    [Fact]
    public async Task Identical_launches_within_the_batch_window_share_one_CreateFleet_call()
    {
        await using var h = await AwsProviderHarness.StartAsync();
        await h.ReadyNodeClassAsync();
        // A first launch makes the template and warms the caches, so the next ones reach the batcher together.
        await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("default-first"), default));
        var fleets = h.Emulator.Faults.CallCount("CreateFleet");

        var claims = Enumerable.Range(0, 4).Select(i => h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim($"default-{i}"), default)).ToList();
        // The clock moves 10 ms per 50 ms of real time, so a loaded machine cannot stretch the launches past the 35 ms window.
        var launched = await h.RunSlowlyAsync(Task.WhenAll(claims), TimeSpan.FromMilliseconds(50));

        Assert.Equal(4, launched.Select(c => c.Status.ProviderId).Distinct().Count());
        Assert.Equal(fleets + 1, h.Emulator.Faults.CallCount("CreateFleet"));
        Assert.Equal(1, h.Emulator.Faults.CallCount("CreateLaunchTemplate"));
    }

    [Fact]
    public async Task Spot_uses_price_capacity_optimized_and_on_demand_the_cheapest_type()
    {
        await using var h = await AwsProviderHarness.StartAsync();
        await h.ReadyNodeClassAsync();
        const string OnDemandOnly = """
              - key: karpenter.sh/capacity-type
                operator: In
                values: ["on-demand"]
            """;
        const string SpotAllowed = """
              - key: karpenter.sh/capacity-type
                operator: In
                values: ["spot", "on-demand"]
            """;

        var onDemand = await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("od", OnDemandOnly), default));
        var spot = await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("spot", SpotAllowed), default));

        Assert.Equal(CapacityTypes.OnDemand, onDemand.Metadata.Labels[Labels.CapacityType]);
        var types = await h.CloudProvider.GetInstanceTypesAsync(NodePool(), default);
        var claim = AwsProviderHarness.NodeClaim("od", OnDemandOnly);
        var cheapest = LaunchFilters.CompatibleAvailable(types, LaunchFilters.ClaimRequirements(claim), Resources.FromList(claim.Spec.Resources!.Requests))
            .OrderBy(t => t.Offerings.Where(o => o.CapacityType == CapacityTypes.OnDemand).Min(o => o.Price)).First();
        Assert.Equal(cheapest.Name, onDemand.Metadata.Labels[Labels.InstanceType]);
        Assert.Equal(CapacityTypes.Spot, spot.Metadata.Labels[Labels.CapacityType]);
        Assert.Equal("spot", h.Emulator.World.FindInstance(spot.Status.ProviderId!.Split('/').Last())!.CapacityType);
    }

    [Fact]
    public async Task Insufficient_capacity_marks_the_pools_and_the_launch_moves_to_other_pools()
    {
        await using var h = await AwsProviderHarness.StartAsync();
        await h.ReadyNodeClassAsync();
        const string OnlyM5Large = """
              - key: node.kubernetes.io/instance-type
                operator: In
                values: ["m5.large", "m6i.large"]
              - key: karpenter.sh/capacity-type
                operator: In
                values: ["on-demand"]
            """;
        var now = h.Time.GetUtcNow();
        // m5.large is out everywhere: the fleet reports it per override and launches the other type.
        h.Emulator.World.SetInsufficientCapacity("m5.large", null, CapacityTypes.OnDemand, now, now.AddHours(1));

        var launched = await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("ice", OnlyM5Large), default));

        Assert.Equal("m6i.large", launched.Metadata.Labels[Labels.InstanceType]);
        var unavailable = h.Get<UnavailableOfferings>();
        var zones = h.Emulator.World.Zones.Select(z => z.Name).ToList();
        Assert.Contains(zones, z => unavailable.IsUnavailable(CapacityTypes.OnDemand, "m5.large", z));

        // Now m6i.large is out too: the first fleet fails, its pools are marked, and nothing else is left.
        h.Emulator.World.SetInsufficientCapacity("m6i.large", null, CapacityTypes.OnDemand, now, now.AddHours(1));
        var failed = await Assert.ThrowsAsync<InsufficientCapacityException>(() =>
            h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("ice2", OnlyM5Large), default)));
        Assert.Contains(zones, z => unavailable.IsUnavailable(CapacityTypes.OnDemand, "m6i.large", z));
        Assert.NotEmpty(failed.Message);
    }

    [Fact]
    public async Task Get_list_and_delete_follow_the_instance_until_it_is_gone()
    {
        await using var h = await AwsProviderHarness.StartAsync();
        await h.ReadyNodeClassAsync();
        var launched = await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("default-life"), default));
        var providerId = launched.Status.ProviderId!;

        var got = await h.RunAsync(h.CloudProvider.GetAsync(providerId, default));
        Assert.Equal(providerId, got.Status.ProviderId);
        Assert.Equal(launched.Metadata.Labels[Labels.InstanceType], got.Metadata.Labels[Labels.InstanceType]);
        var listed = Assert.Single(await h.CloudProvider.ListAsync(default));
        Assert.Equal(providerId, listed.Status.ProviderId);

        await h.RunAsync(h.CloudProvider.DeleteAsync(launched, default));
        Assert.Equal(InstanceState.ShuttingDown, h.Emulator.World.FindInstance(providerId.Split('/').Last())!.State);
        // Deleting again while it shuts down is fine; once terminated the NodeClaim is not found.
        await h.RunAsync(h.CloudProvider.DeleteAsync(launched, default));
        h.Time.Advance(TimeSpan.FromMinutes(1));
        await Assert.ThrowsAsync<NodeClaimNotFoundException>(() => h.RunAsync(h.CloudProvider.DeleteAsync(launched, default)));
        await Assert.ThrowsAsync<NodeClaimNotFoundException>(() => h.RunAsync(h.CloudProvider.GetAsync(providerId, default)));
        Assert.Empty(await h.CloudProvider.ListAsync(default));
        await Assert.ThrowsAsync<NodeClaimNotFoundException>(() =>
            h.RunAsync(h.CloudProvider.GetAsync("aws:///us-east-1a/i-0123456789abcdef0", default)));
    }

    [Fact]
    public async Task A_NodeClass_whose_selectors_match_nothing_is_not_ready_and_nothing_launches_from_it()
    {
        await using var h = await AwsProviderHarness.StartAsync();
        var nodeClass = AwsProviderHarness.ParseNodeClass(AwsProviderHarness.NodeClassYaml.Replace(
            "karpenter.sh/discovery: test-cluster\n  securityGroupSelectorTerms", "karpenter.sh/discovery: nowhere\n  securityGroupSelectorTerms", StringComparison.Ordinal));
        Assert.Equal("nowhere", nodeClass.Spec.SubnetSelectorTerms[0].Tags!["karpenter.sh/discovery"]);

        await h.ResolveAsync(nodeClass);

        var subnets = nodeClass.GetCondition(ConditionTypes.SubnetsReady)!;
        Assert.Equal("False", subnets.Status);
        Assert.Equal("SubnetsNotFound", subnets.Reason);
        Assert.Equal("SubnetSelector did not match any Subnets: [{tags: {karpenter.sh/discovery: nowhere}}]", subnets.Message);
        Assert.Equal("False", nodeClass.GetCondition(ConditionTypes.Ready)!.Status);
        Assert.Empty(await h.CloudProvider.GetInstanceTypesAsync(NodePool(), default));
        await Assert.ThrowsAsync<NodeClassNotReadyException>(() => h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("x"), default));
        Assert.Equal(0, h.Emulator.Faults.CallCount("CreateFleet"));
    }

    [Fact]
    public async Task Expired_credentials_make_the_NodeClass_not_ready_with_a_reason_naming_them()
    {
        await using var h = await AwsProviderHarness.StartAsync(provider: o => o.MaxAttempts = 1);
        h.Emulator.Faults.RejectCredentials(CredentialProblem.Expired);

        var nodeClass = await h.ResolveAsync(AwsProviderHarness.ParseNodeClass(AwsProviderHarness.NodeClassYaml));

        var subnets = nodeClass.GetCondition(ConditionTypes.SubnetsReady)!;
        Assert.Equal("False", subnets.Status);
        Assert.Equal("AWSCredentialsInvalid", subnets.Reason);
        Assert.Contains("RequestExpired", subnets.Message, StringComparison.Ordinal);
        Assert.Equal("False", nodeClass.GetCondition(ConditionTypes.Ready)!.Status);
        await Assert.ThrowsAsync<NodeClassNotReadyException>(() => h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("x"), default));
    }

    [Fact]
    public async Task A_new_AMI_release_drifts_the_NodeClaims_launched_from_the_old_one()
    {
        await using var h = await AwsProviderHarness.StartAsync();
        var nodeClass = await h.ReadyNodeClassAsync();
        var launched = await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("default-drift"), default));
        Assert.Null(await h.RunAsync(h.CloudProvider.IsDriftedAsync(launched, default)));

        // Publish a newer AL2023 image behind the recommended parameter, and let the parameter cache (24 h) expire.
        var parameter = $"/aws/service/eks/optimized-ami/{h.Aws.Options.KubernetesVersion}/amazon-linux-2023/x86_64/standard/recommended/image_id";
        h.Emulator.World.PublishImage($"amazon-eks-node-al2023-x86_64-standard-{h.Aws.Options.KubernetesVersion}-v29990101", "x86_64", parameter);
        h.Time.Advance(TimeSpan.FromHours(25));
        await h.ResolveAsync(nodeClass);

        Assert.Equal(DriftReasons.AmiDrift, await h.RunAsync(h.CloudProvider.IsDriftedAsync(launched, default)));
    }

    [Fact]
    public async Task A_new_security_group_or_a_subnet_leaving_the_selectors_is_drift()
    {
        await using var h = await AwsProviderHarness.StartAsync();
        var nodeClass = await h.ReadyNodeClassAsync();
        var launched = await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("default-net"), default));
        var discovery = new Dictionary<string, string> { ["karpenter.sh/discovery"] = EmulatedAws.ClusterName };

        h.Emulator.World.AddSecurityGroup("extra-nodes", discovery);
        h.Time.Advance(TimeSpan.FromMinutes(6));
        await h.ResolveAsync(nodeClass);
        Assert.Equal(DriftReasons.SecurityGroupDrift, await h.RunAsync(h.CloudProvider.IsDriftedAsync(launched, default)));

        // With the groups matching again, a NodeClass whose subnets no longer include the instance's is subnet drift.
        var instanceSubnet = h.Emulator.World.FindInstance(launched.Status.ProviderId!.Split('/').Last())!.SubnetId;
        nodeClass.Status.SecurityGroups = [.. nodeClass.Status.SecurityGroups!.Where(g => g.Name != "extra-nodes")];
        nodeClass.Status.Subnets = [.. nodeClass.Status.Subnets!.Where(s => s.Id != instanceSubnet)];
        Assert.Equal(DriftReasons.SubnetDrift, await h.RunAsync(h.CloudProvider.IsDriftedAsync(launched, default)));
    }

    [Fact]
    public async Task Changing_a_static_field_of_the_NodeClass_is_NodeClassDrift()
    {
        await using var h = await AwsProviderHarness.StartAsync();
        var nodeClass = await h.ReadyNodeClassAsync();
        nodeClass.Metadata.Annotations = new Dictionary<string, string>
        {
            [Annotations.Ec2NodeClassHash] = Karpenter.Aws.NodeClasses.Hash.NodeClassHash.Compute(nodeClass),
            [Annotations.Ec2NodeClassHashVersion] = Karpenter.Aws.NodeClasses.Hash.NodeClassHash.Version,
        };
        var launched = await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("default-static"), default));
        Assert.Equal(nodeClass.Metadata.Annotations[Annotations.Ec2NodeClassHash], launched.Metadata.Annotations[Annotations.Ec2NodeClassHash]);

        nodeClass.Spec.Tags!["team"] = "other";
        nodeClass.Metadata.Annotations[Annotations.Ec2NodeClassHash] = Karpenter.Aws.NodeClasses.Hash.NodeClassHash.Compute(nodeClass);

        Assert.Equal(DriftReasons.NodeClassDrift, await h.RunAsync(h.CloudProvider.IsDriftedAsync(launched, default)));
    }

    [Fact]
    public async Task Throttled_fleet_calls_are_retried_by_the_client()
    {
        await using var h = await AwsProviderHarness.StartAsync();
        await h.ReadyNodeClassAsync();
        var fleets = h.Emulator.Faults.CallCount("CreateFleet");
        h.Emulator.Faults.Throttle("CreateFleet", count: 2);

        var launched = await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("throttled"), default));

        Assert.NotNull(launched.Status.ProviderId);
        Assert.Equal(fleets + 3, h.Emulator.Faults.CallCount("CreateFleet"));
    }

    [Fact]
    public async Task A_launch_that_fails_after_creating_the_instance_leaves_it_listed_for_garbage_collection()
    {
        await using var h = await AwsProviderHarness.StartAsync(provider: o => o.MaxAttempts = 1);
        await h.ReadyNodeClassAsync();
        h.Emulator.Faults.FailLaunchesAfterCreation(1);

        var failed = await Assert.ThrowsAsync<CreateInstanceException>(() =>
            h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("leaky"), default)));
        Assert.Equal("AWSError", failed.Reason);
        Assert.Contains("InternalError", failed.Message, StringComparison.Ordinal);

        // The instance exists though the call failed: List (what garbage collection reads) shows it, and Delete removes it.
        var leaked = Assert.Single(await h.CloudProvider.ListAsync(default));
        Assert.Null(leaked.Metadata.Name);
        Assert.Equal("default", leaked.Metadata.Labels[Labels.NodePool]);
        await h.RunAsync(h.CloudProvider.DeleteAsync(leaked, default));
        Assert.Equal(InstanceState.ShuttingDown, h.Emulator.World.FindInstance(leaked.Status.ProviderId!.Split('/').Last())!.State);
    }

    private static NodePool NodePool() => k8s.KubernetesYaml.Deserialize<NodePool>("""
        apiVersion: karpenter.sh/v1
        kind: NodePool
        metadata:
          name: default
        spec:
          template:
            spec:
              nodeClassRef:
                group: karpenter.k8s.aws
                kind: EC2NodeClass
                name: default
              requirements: []
        """);
}

using Amazon.EC2.Model;
using Karpenter.Aws.InstanceProfiles;
using Karpenter.Aws.NodeClasses;
using Karpenter.Aws.NodeClasses.Hash;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;

namespace Karpenter.Tests.Aws.NodeClasses;

/// <summary>The nodeclass and nodeclass.hash controllers against both emulators: status, conditions, hash, finalizer and cleanup.</summary>
public sealed class NodeClassControllerTests
{
    private static async Task<EC2NodeClass> CreateAsync(AwsProviderHarness h, string yaml = AwsProviderHarness.NodeClassYaml)
    {
        var nodeClass = AwsProviderHarness.ParseNodeClass(yaml);
        nodeClass.Metadata.Uid = null;
        nodeClass.Metadata.Generation = null;
        return await h.KubeClient.CreateAsync(nodeClass);
    }

    private static async Task<EC2NodeClass> ReconcileAsync(AwsProviderHarness h, string name = "default")
    {
        var current = await h.KubeClient.GetAsync<EC2NodeClass>(name);
        await h.RunAsync(h.Get<NodeClassController>().ReconcileAsync(current, default));
        return (await h.KubeClient.TryGetAsync<EC2NodeClass>(name))!;
    }

    [Fact]
    public async Task A_NodeClass_gets_its_finalizer_resolved_status_ready_conditions_and_hash()
    {
        await using var h = await AwsProviderHarness.StartAsync(withKube: true);
        await CreateAsync(h);

        var reconciled = await ReconcileAsync(h);
        await h.Get<NodeClassHashController>().ReconcileAsync(reconciled, default);
        var hashed = await h.KubeClient.GetAsync<EC2NodeClass>("default");

        Assert.Contains(Finalizers.AwsTermination, reconciled.Metadata.Finalizers);
        Assert.Equal(3, reconciled.Status.Subnets!.Count);
        Assert.NotEmpty(reconciled.Status.SecurityGroups!);
        Assert.NotEmpty(reconciled.Status.Amis!);
        Assert.False(string.IsNullOrEmpty(reconciled.Status.InstanceProfile));
        Assert.True(reconciled.IsReady());
        Assert.All(reconciled.Status.Conditions!, c => Assert.Equal(reconciled.Metadata.Generation, c.ObservedGeneration));
        Assert.Equal(NodeClassHash.Compute(hashed), hashed.Metadata.Annotations[Annotations.Ec2NodeClassHash]);
        Assert.Equal(NodeClassHash.Version, hashed.Metadata.Annotations[Annotations.Ec2NodeClassHashVersion]);
    }

    [Fact]
    public async Task An_alias_with_no_release_and_a_missing_role_say_so_in_the_conditions()
    {
        await using var h = await AwsProviderHarness.StartAsync(withKube: true);
        await CreateAsync(h, AwsProviderHarness.NodeClassYaml
            .Replace("alias: al2023@latest", "alias: al2023@v19990101", StringComparison.Ordinal)
            .Replace("role: KarpenterNodeRole-test-cluster", "role: NoSuchRole", StringComparison.Ordinal));

        var reconciled = await ReconcileAsync(h);

        var ready = reconciled.GetCondition(ConditionTypes.Ready)!;
        Assert.Equal("False", ready.Status);
        var amis = reconciled.GetCondition(ConditionTypes.AmisReady)!;
        Assert.Equal("False", amis.Status);
        Assert.Equal("AMINotFound", amis.Reason);
        Assert.Contains("al2023@v19990101", amis.Message, StringComparison.Ordinal);
        var profile = reconciled.GetCondition(ConditionTypes.InstanceProfileReady)!;
        Assert.Equal("False", profile.Status);
        Assert.Contains("NoSuchRole", profile.Message, StringComparison.Ordinal);
        Assert.Equal("False", reconciled.GetCondition(ConditionTypes.ValidationSucceeded)!.Status);
    }

    [Fact]
    public async Task Deletion_waits_for_the_NodeClaims_then_deletes_the_instance_profile_and_launch_templates()
    {
        await using var h = await AwsProviderHarness.StartAsync(withKube: true);
        await CreateAsync(h);
        var reconciled = await ReconcileAsync(h);
        h.NodeClasses.Put(reconciled);
        await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("default-x"), default));
        var claim = await h.KubeClient.CreateAsync(AwsProviderHarness.NodeClaim("default-x"));
        var profile = reconciled.Status.InstanceProfile!;
        Assert.True(h.Emulator.World.InstanceProfiles().ContainsKey(profile));
        Assert.NotEmpty(await TemplatesAsync(h));

        await h.KubeClient.DeleteAsync<EC2NodeClass>("default");
        var waiting = await ReconcileAsync(h);
        Assert.NotNull(waiting);
        Assert.Contains(Finalizers.AwsTermination, waiting.Metadata.Finalizers);
        Assert.True(h.Emulator.World.InstanceProfiles().ContainsKey(profile));

        await h.KubeClient.DeleteAsync<NodeClaim>(claim.Metadata.Name);
        var gone = await ReconcileAsync(h);

        Assert.Null(gone);
        Assert.False(h.Emulator.World.InstanceProfiles().ContainsKey(profile));
        Assert.Empty(await TemplatesAsync(h));
    }

    [Fact]
    public async Task Garbage_collection_deletes_the_cluster_profiles_nothing_uses()
    {
        await using var h = await AwsProviderHarness.StartAsync(withKube: true);
        await CreateAsync(h);
        var used = (await ReconcileAsync(h)).Status.InstanceProfile!;
        var orphan = await h.Get<InstanceProfileProvider>().EnsureAsync("deleted-class", "uid-orphan", "KarpenterNodeRole-test-cluster", null, default);
        Assert.True(h.Emulator.World.InstanceProfiles().ContainsKey(orphan));

        await h.RunAsync(h.Get<InstanceProfileGarbageCollector>().ReconcileAsync(default));

        Assert.False(h.Emulator.World.InstanceProfiles().ContainsKey(orphan));
        Assert.True(h.Emulator.World.InstanceProfiles().ContainsKey(used));
        // Profiles Karpenter did not create (outside its path) are never touched.
        Assert.True(h.Emulator.World.InstanceProfiles().ContainsKey("KarpenterNodeInstanceProfile-test-cluster"));
    }

    private static async Task<List<LaunchTemplate>> TemplatesAsync(AwsProviderHarness h) =>
        (await h.Aws.Clients.Ec2.DescribeLaunchTemplatesAsync(new DescribeLaunchTemplatesRequest
        {
            Filters = [new Filter { Name = $"tag:{Labels.Ec2NodeClass}", Values = ["default"] }],
        })).LaunchTemplates ?? [];
}

using Amazon.EC2.Model;
using Karpenter.Aws.LaunchTemplates;
using Karpenter.Aws.Refresh;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Tests.Aws.LaunchTemplates;

/// <summary>Launch templates against our emulator: named by content, tagged, reused, cleaned up when unused, re-made when missing.</summary>
public sealed class LaunchTemplateProviderTests
{
    private static async Task<List<LaunchTemplate>> TemplatesAsync(AwsProviderHarness h) =>
        (await h.Aws.Clients.Ec2.DescribeLaunchTemplatesAsync(new DescribeLaunchTemplatesRequest())).LaunchTemplates ?? [];

    [Fact]
    public async Task Templates_are_tagged_reused_for_the_same_content_and_deleted_a_minute_after_their_last_use()
    {
        await using var h = await AwsProviderHarness.StartAsync();
        await h.ReadyNodeClassAsync();
        await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("a"), default));
        await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("b"), default));

        var template = Assert.Single(await TemplatesAsync(h));
        Assert.StartsWith(LaunchTemplateProvider.NamePrefix, template.LaunchTemplateName);
        Assert.Contains(template.Tags, t => t.Key == Labels.Ec2NodeClass && t.Value == "default");
        Assert.Contains(template.Tags, t => t.Key == "eks:eks-cluster-name" && t.Value == EmulatedAws.ClusterName);
        Assert.Equal(1, h.Emulator.Faults.CallCount("CreateLaunchTemplate"));

        var cleanup = h.Get<LaunchTemplateCleanupController>();
        await h.RunAsync(cleanup.ReconcileAsync(default));
        Assert.Single(await TemplatesAsync(h));
        h.Time.Advance(LaunchTemplateProvider.CacheTtl + TimeSpan.FromSeconds(1));
        await h.RunAsync(cleanup.ReconcileAsync(default));
        Assert.Empty(await TemplatesAsync(h));

        // The next launch makes it again.
        await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("c"), default));
        Assert.Equal(template.LaunchTemplateName, Assert.Single(await TemplatesAsync(h)).LaunchTemplateName);
    }

    [Fact]
    public async Task A_template_deleted_behind_the_cache_is_made_again_when_the_fleet_cannot_find_it()
    {
        await using var h = await AwsProviderHarness.StartAsync();
        await h.ReadyNodeClassAsync();
        await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("a"), default));
        var template = Assert.Single(await TemplatesAsync(h));
        await h.Aws.Clients.Ec2.DeleteLaunchTemplateAsync(new DeleteLaunchTemplateRequest { LaunchTemplateId = template.LaunchTemplateId });

        var launched = await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("b"), default));

        Assert.NotNull(launched.Status.ProviderId);
        Assert.Equal(2, h.Emulator.Faults.CallCount("CreateLaunchTemplate"));
        Assert.Single(await TemplatesAsync(h));
    }
}

using Amazon.EC2.Model;
using Karpenter.Aws.CloudProvider;
using Karpenter.Aws.NodeClasses;
using Karpenter.Core.CloudProvider;
using Karpenter.Entities.WellKnown;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Aws.Moto;

/// <summary>
/// The launch path against moto_server, an EC2 we did not write: NodeClass resolution, a launch template, an instant
/// CreateFleet, then Get, List and Delete. moto answers neither DryRun nor the Pricing API, so validation's DryRun is off
/// and prices come from the static table.
/// </summary>
[Collection(MotoTests.Name)]
public sealed class CloudProviderMotoTests(MotoServerFixture moto)
{
    [SkippableFact]
    public async Task A_NodeClaim_launches_through_a_launch_template_and_an_instant_fleet_and_is_found_listed_and_terminated()
    {
        await moto.ResetAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = new MemoryNodeClassStore();
        var services = new ServiceCollection().AddLogging().AddSingleton<TimeProvider>(time);
        AwsProviderHarness.Compose(services, moto.Options(o => o.DisableDryRun = true), store);
        await using var provider = services.BuildServiceProvider();
        using var clients = moto.Clients(time);
        var subnets = (await clients.Ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest
        {
            Filters = [new Filter { Name = "default-for-az", Values = ["true"] }],
        })).Subnets.OrderBy(s => s.AvailabilityZone, StringComparer.Ordinal).Take(2).ToList();
        var group = (await clients.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest
        {
            Filters = [new Filter { Name = "group-name", Values = ["default"] }],
        })).SecurityGroups[0];
        var nodeClass = AwsProviderHarness.ParseNodeClass($"""
            apiVersion: karpenter.k8s.aws/v1
            kind: EC2NodeClass
            metadata:
              name: default
              uid: 2f6d1a3c-0000-4000-8000-000000000002
              generation: 1
            spec:
              amiFamily: AL2023
              instanceProfile: KarpenterNodeInstanceProfile
              amiSelectorTerms:
              - id: {MotoServerFixture.Images[1].Id}
              - id: {MotoServerFixture.Images[2].Id}
              subnetSelectorTerms:
              - id: {subnets[0].SubnetId}
              - id: {subnets[1].SubnetId}
              securityGroupSelectorTerms:
              - id: {group.GroupId}
            """);
        await AwsProviderHarness.PumpAsync(time, provider.GetRequiredService<NodeClassStatusResolver>().ResolveAsync(nodeClass, default));
        Assert.True(nodeClass.IsReady(), string.Join("; ", nodeClass.Status.Conditions!.Select(c => $"{c.Type}={c.Status} {c.Reason}: {c.Message}")));
        store.Put(nodeClass);
        var cloud = provider.GetRequiredService<AwsCloudProvider>();
        const string Requirements = """
              - key: node.kubernetes.io/instance-type
                operator: In
                values: ["m5.large", "m5.xlarge"]
              - key: karpenter.sh/capacity-type
                operator: In
                values: ["on-demand"]
            """;

        var launch = cloud.CreateAsync(AwsProviderHarness.NodeClaim("moto-1", Requirements), default);
        await AwsProviderHarness.PumpAsync(time, launch);
        var launched = await launch;

        var instanceId = launched.Status.ProviderId!.Split('/').Last();
        Assert.StartsWith("i-", instanceId, StringComparison.Ordinal);
        Assert.True(launched.Metadata.Labels[Labels.InstanceType] is "m5.large" or "m5.xlarge");
        Assert.Equal(MotoServerFixture.Images[1].Id, launched.Status.ImageId);
        var described = (await clients.Ec2.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [instanceId] })).Reservations[0].Instances[0];
        Assert.Contains(described.Tags, t => t.Key == Labels.NodePool && t.Value == "default");
        Assert.Contains(described.Tags, t => t.Key == "eks:eks-cluster-name" && t.Value == "test-cluster");
        var templates = (await clients.Ec2.DescribeLaunchTemplatesAsync(new DescribeLaunchTemplatesRequest())).LaunchTemplates;
        Assert.Contains(templates, t => t.LaunchTemplateName.StartsWith("karpenter.k8s.aws/", StringComparison.Ordinal));

        var got = cloud.GetAsync(launched.Status.ProviderId, default);
        await AwsProviderHarness.PumpAsync(time, got);
        Assert.Equal(launched.Status.ProviderId, (await got).Status.ProviderId);
        Assert.Equal(launched.Status.ProviderId, Assert.Single(await cloud.ListAsync(default)).Status.ProviderId);

        var delete = cloud.DeleteAsync(launched, default);
        await AwsProviderHarness.PumpAsync(time, delete);
        await delete;
        // moto terminates at once: the instance is gone for Get, and deleting again is NodeClaimNotFound.
        var again = cloud.DeleteAsync(launched, default);
        await AwsProviderHarness.PumpAsync(time, again);
        await Assert.ThrowsAsync<NodeClaimNotFoundException>(() => again);
    }
}

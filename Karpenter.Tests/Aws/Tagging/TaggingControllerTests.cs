using k8s.Models;
using Karpenter.Aws.Tagging;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;

namespace Karpenter.Tests.Aws.Tagging;

/// <summary>The tagging controller: a registered NodeClaim's instance gets its Name and nodeclaim tags, once.</summary>
public sealed class TaggingControllerTests
{
    [Fact]
    public async Task A_registered_NodeClaims_instance_is_tagged_with_the_node_name_and_the_NodeClaim_is_marked()
    {
        await using var h = await AwsProviderHarness.StartAsync(withKube: true);
        await h.ReadyNodeClassAsync();
        var launched = await h.RunAsync(h.CloudProvider.CreateAsync(AwsProviderHarness.NodeClaim("default-tag"), default));
        var instanceId = launched.Status.ProviderId!.Split('/').Last();
        var claim = await h.KubeClient.CreateAsync(AwsProviderHarness.NodeClaim("default-tag"));
        claim.Status = launched.Status;
        claim.Status.NodeName = "ip-10-0-0-1.ec2.internal";
        var controller = h.Get<TaggingController>();

        // Not registered yet: nothing is tagged.
        Assert.False(TaggingController.IsTaggable(claim));
        await h.RunAsync(controller.ReconcileAsync(claim, default));
        Assert.False(h.Emulator.World.FindInstance(instanceId)!.Tags.ContainsKey("Name"));

        claim.Status.Conditions = [new V1Condition { Type = ConditionTypes.Registered, Status = "True", Reason = "Registered", LastTransitionTime = h.Time.GetUtcNow().UtcDateTime }];
        await h.RunAsync(controller.ReconcileAsync(claim, default));

        var tags = h.Emulator.World.FindInstance(instanceId)!.Tags;
        Assert.Equal("ip-10-0-0-1.ec2.internal", tags["Name"]);
        Assert.Equal("default-tag", tags["karpenter.sh/nodeclaim"]);
        Assert.Equal(EmulatedAws.ClusterName, tags["eks:eks-cluster-name"]);
        var marked = await h.KubeClient.GetAsync<NodeClaim>("default-tag");
        Assert.Equal("true", marked.Metadata.Annotations[Annotations.InstanceTagged]);
        marked.Status = claim.Status;
        Assert.False(TaggingController.IsTaggable(marked));
    }
}

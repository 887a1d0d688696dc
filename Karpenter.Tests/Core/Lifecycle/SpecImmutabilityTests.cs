using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Tests.Core.Lifecycle.Support;

namespace Karpenter.Tests.Core.Lifecycle;

/// <summary>A NodeClaim's spec is what was launched: the CRD's <c>self == oldSelf</c> rule refuses any change.</summary>
public sealed class SpecImmutabilityTests : LifecycleTest
{
    [Fact]
    public async Task Changing_a_launched_NodeClaims_spec_is_refused_by_the_api_server()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("immutable"));
        var changed = KubeObjects.DeepClone(launched);
        changed.Spec.Taints = [new Taint { Key = "late", Effect = Taints.EffectNoSchedule }];

        var error = await Assert.ThrowsAsync<KubeInvalidException>(() => Env.Client.PatchFromAsync(launched, changed));

        Assert.Contains("spec is immutable", error.Message, StringComparison.Ordinal);
        Assert.Null((await ExpectNodeClaimAsync(launched.Metadata.Name)).Spec.Taints);
    }

    [Fact]
    public async Task Labels_and_status_of_a_NodeClaim_may_still_change()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("mutable-metadata"));

        var relabelled = await Env.UpdateAsync(launched, nc => nc.Metadata.Labels["team"] = "data");

        Assert.Equal("data", relabelled.Metadata.Labels["team"]);
    }
}

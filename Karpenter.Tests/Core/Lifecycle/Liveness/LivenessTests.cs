using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Tests.Core.Lifecycle.Support;

namespace Karpenter.Tests.Core.Lifecycle.Liveness;

public sealed class LivenessTests : LifecycleTest
{
    [Fact]
    public async Task A_launched_NodeClaim_waits_for_its_node_until_the_registration_timeout()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("waits"));

        var result = await Env.LifecycleAsync(launched);

        Assert.NotNull(result.RequeueAfter);
        Assert.InRange(result.RequeueAfter!.Value, TimeSpan.FromMinutes(14), TimeSpan.FromMinutes(15));
    }

    [Fact]
    public async Task An_instance_that_never_becomes_a_node_is_terminated_after_fifteen_minutes()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("never-boots"));
        Env.Clock.Advance(TimeSpan.FromMinutes(14));
        await Env.LifecycleAsync(launched);
        Assert.Null((await ExpectNodeClaimAsync(launched.Metadata.Name)).Metadata.DeletionTimestamp);

        Env.Clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        await Env.LifecycleAsync(launched);

        var evt = Env.Events.ExpectEvent(EventReasons.RegistrationTimeout, launched.Metadata.Name);
        Assert.Contains(launched.Status.ProviderId!, evt.Message, StringComparison.Ordinal);
        var deleting = await ExpectNodeClaimAsync(launched.Metadata.Name);
        Assert.NotNull(deleting.Metadata.DeletionTimestamp);
        await ExpectFinalizedAsync(launched);
        Assert.Empty(await Env.Cloud.MachinesAsync());
        Assert.Equal(1, Env.Cloud.CreateCount);
    }
}

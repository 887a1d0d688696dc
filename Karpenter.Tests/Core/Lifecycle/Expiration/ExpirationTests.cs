using Karpenter.Core.Lifecycle.Expiration;
using Karpenter.Entities.WellKnown;
using Karpenter.Tests.Core.Lifecycle.Support;

namespace Karpenter.Tests.Core.Lifecycle.Expiration;

public sealed class ExpirationTests : LifecycleTest
{
    [Fact]
    public async Task A_NodeClaim_is_requeued_for_its_expiry_and_deleted_once_it_passes()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("expires", configure: nc => nc.Spec.ExpireAfter = "1h"));

        var early = await Env.ReconcileAsync<ExpirationController>(launched);

        Assert.NotNull(early.RequeueAfter);
        Assert.InRange(early.RequeueAfter!.Value, TimeSpan.FromMinutes(59), TimeSpan.FromHours(1));
        Assert.Null((await ExpectNodeClaimAsync(launched.Metadata.Name)).Metadata.DeletionTimestamp);

        Env.Clock.Advance(TimeSpan.FromHours(1));
        await Env.ReconcileAsync<ExpirationController>(launched);

        Assert.NotNull((await ExpectNodeClaimAsync(launched.Metadata.Name)).Metadata.DeletionTimestamp);
        Assert.Contains("expireAfter 1h0m0s", Env.Events.ExpectEvent(EventReasons.Expired, launched.Metadata.Name).Message, StringComparison.Ordinal);
        await ExpectFinalizedAsync(launched);
        Assert.Empty(await Env.Cloud.MachinesAsync());
    }

    [Fact]
    public async Task A_NodeClaim_that_never_expires_is_left_alone()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("forever", configure: nc => nc.Spec.ExpireAfter = "Never"));
        Env.Clock.Advance(TimeSpan.FromDays(400));

        var result = await Env.ReconcileAsync<ExpirationController>(launched);

        Assert.Null(result.RequeueAfter);
        Assert.Null((await ExpectNodeClaimAsync(launched.Metadata.Name)).Metadata.DeletionTimestamp);
    }

    [Fact]
    public async Task The_default_expiry_is_thirty_days()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("default-expiry"));

        Assert.Equal("720h", launched.Spec.ExpireAfter);
        var result = await Env.ReconcileAsync<ExpirationController>(launched);
        Assert.InRange(result.RequeueAfter!.Value, TimeSpan.FromHours(719), TimeSpan.FromHours(720));
    }
}

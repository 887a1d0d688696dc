using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Conditions;
using Karpenter.Tests.Core.Lifecycle.Support;

namespace Karpenter.Tests.Core.Lifecycle.Launch;

/// <summary>An operator killed between the cloud provider's create and the status write, then restarted.</summary>
public sealed class CrashSafetyTests : LifecycleTest
{
    [Fact]
    public async Task A_restarted_operator_adopts_the_machine_its_predecessor_launched_instead_of_launching_another()
    {
        var created = await Env.CreateAsync(ControllerEnvironment.NodeClaim("crashed"));
        await Env.KillDuringLaunchAsync(created);
        Assert.Single(await Env.Cloud.MachinesAsync());
        Assert.Null((await ExpectNodeClaimAsync(created.Metadata.Name)).Status.ProviderId);

        Env.Clock.Advance(TimeSpan.FromSeconds(20));
        await using var successor = await ControllerEnvironment.StartAsync(sharing: Env);
        await successor.LifecycleAsync(created);

        var launched = await ExpectNodeClaimAsync(created.Metadata.Name);
        ExpectCondition(launched, ConditionTypes.Launched, ConditionStatus.True);
        var machine = Assert.Single(await Env.Cloud.MachinesAsync());
        Assert.Equal(machine.Status.ProviderId, launched.Status.ProviderId);
        Assert.Equal(1, Env.Cloud.CreateCount);
    }

    [Fact]
    public async Task A_NodeClaim_deleted_before_its_launch_was_recorded_still_has_its_machine_terminated()
    {
        var created = await Env.CreateAsync(ControllerEnvironment.NodeClaim("crashed-then-deleted"));
        await Env.KillDuringLaunchAsync(created);
        await Env.Client.DeleteAsync<Karpenter.Entities.V1.NodeClaim>(created.Metadata.Name);

        Env.Clock.Advance(TimeSpan.FromSeconds(20));
        await using var successor = await ControllerEnvironment.StartAsync(sharing: Env);
        for (var i = 0; i < 3 && await successor.GetAsync<Karpenter.Entities.V1.NodeClaim>(created.Metadata.Name) is not null; i++)
        {
            await successor.LifecycleAsync(created);
        }

        await ExpectNodeClaimGoneAsync(created.Metadata.Name);
        Assert.Empty(await Env.Cloud.MachinesAsync());
        Assert.Equal(1, Env.Cloud.CreateCount);
        Assert.DoesNotContain(successor.Events.All, e => e.Reason == EventReasons.LaunchFailed);
    }
}

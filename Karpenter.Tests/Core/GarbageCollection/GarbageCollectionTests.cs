using k8s.Models;
using Karpenter.Core.GarbageCollection;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Controllers;
using Karpenter.Tests.Core.Lifecycle.Support;

namespace Karpenter.Tests.Core.GarbageCollection;

public sealed class GarbageCollectionTests : LifecycleTest
{
    private Task<ReconcileResult> CollectAsync() => Env.Get<NodeClaimGarbageCollector>().ReconcileAsync(CancellationToken.None);

    /// <summary>An instance launched for a NodeClaim the cluster never recorded (a crash, or a NodeClaim removed by hand).</summary>
    private async Task<NodeClaim> LeakedInstanceAsync(string name) =>
        await Env.Cloud.Inner.CreateAsync(ControllerEnvironment.NodeClaim(name), CancellationToken.None);

    [Fact]
    public async Task An_instance_no_NodeClaim_records_is_terminated_once_it_is_30_seconds_old_with_its_node()
    {
        var leaked = await LeakedInstanceAsync("ghost");
        var node = await Env.CreateAsync(ControllerEnvironment.Node("node-ghost", leaked.Status.ProviderId!));

        await CollectAsync();
        Assert.Single(await Env.Cloud.MachinesAsync());

        Env.Clock.Advance(TimeSpan.FromSeconds(29));
        await CollectAsync();
        Assert.Single(await Env.Cloud.MachinesAsync());

        Env.Clock.Advance(TimeSpan.FromSeconds(2));
        await CollectAsync();
        Assert.Empty(await Env.Cloud.MachinesAsync());
        Assert.Null(await Env.SettledAsync<V1Node>(node.Metadata.Name));
    }

    [Fact]
    public async Task Instances_of_recorded_NodeClaims_and_of_NodeClaims_still_launching_are_left_alone()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("recorded"));
        var unrecorded = await Env.CreateAsync(ControllerEnvironment.NodeClaim("unrecorded"));
        await Env.KillDuringLaunchAsync(unrecorded);
        Env.Clock.Advance(TimeSpan.FromMinutes(5));

        await CollectAsync();
        await CollectAsync();

        Assert.Equal(2, (await Env.Cloud.MachinesAsync()).Count);
        Assert.Null((await ExpectNodeClaimAsync(launched.Metadata.Name)).Metadata.DeletionTimestamp);
    }

    [Fact]
    public async Task An_operator_killed_between_the_launch_and_its_status_write_ends_with_exactly_one_instance_after_restart_and_collection()
    {
        var created = await Env.CreateAsync(ControllerEnvironment.NodeClaim("crashed"));
        await Env.KillDuringLaunchAsync(created);
        Env.Clock.Advance(TimeSpan.FromMinutes(1));
        await using var successor = await ControllerEnvironment.StartAsync(sharing: Env);

        // Collection before and after the successor's launch: the instance is adopted, never collected or doubled.
        await successor.Get<NodeClaimGarbageCollector>().ReconcileAsync(CancellationToken.None);
        await successor.LifecycleAsync(created);
        Env.Clock.Advance(TimeSpan.FromMinutes(1));
        await successor.Get<NodeClaimGarbageCollector>().ReconcileAsync(CancellationToken.None);

        var machine = Assert.Single(await Env.Cloud.MachinesAsync());
        Assert.Equal(machine.Status.ProviderId, (await ExpectNodeClaimAsync(created.Metadata.Name)).Status.ProviderId);
        Assert.Equal(1, Env.Cloud.CreateCount);
    }

    [Fact]
    public async Task A_NodeClaim_whose_instance_is_gone_is_deleted_with_an_event_and_then_finalized()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("vanished"));
        await Env.Cloud.Inner.DeleteAsync(launched, CancellationToken.None);

        await CollectAsync();

        var deleting = await ExpectNodeClaimAsync(launched.Metadata.Name);
        Assert.NotNull(deleting.Metadata.DeletionTimestamp);
        Env.Events.ExpectEvent(EventReasons.GarbageCollected, launched.Metadata.Name);
        await ExpectFinalizedAsync(launched);
    }

    [Fact]
    public async Task A_NodeClaim_whose_node_is_still_Ready_is_kept_even_if_the_provider_does_not_list_its_instance()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("ready"));
        var node = await Env.CreateAsync(ControllerEnvironment.Node("node-ready", launched.Status.ProviderId!));
        await Env.LifecycleAsync(launched);
        await Env.MakeReadyAsync(node);
        await Env.Cloud.Inner.DeleteAsync(launched, CancellationToken.None);

        await CollectAsync();

        Assert.Null((await ExpectNodeClaimAsync(launched.Metadata.Name)).Metadata.DeletionTimestamp);
        Env.Events.ExpectNoEvent(EventReasons.GarbageCollected, launched.Metadata.Name);
    }

    [Fact]
    public async Task It_runs_every_10_seconds_for_its_first_20_passes_then_every_2_minutes()
    {
        for (var i = 1; i < NodeClaimGarbageCollector.FastRuns; i++)
        {
            Assert.Equal(TimeSpan.FromSeconds(10), (await CollectAsync()).RequeueAfter);
        }

        Assert.Equal(TimeSpan.FromMinutes(2), (await CollectAsync()).RequeueAfter);
        Assert.Equal(TimeSpan.FromMinutes(2), (await CollectAsync()).RequeueAfter);
    }
}

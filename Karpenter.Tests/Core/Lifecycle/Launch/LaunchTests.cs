using Karpenter.Core.CloudProvider;
using Karpenter.Core.Lifecycle;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Conditions;
using Karpenter.Tests.Core.Lifecycle.Support;

namespace Karpenter.Tests.Core.Lifecycle.Launch;

public sealed class LaunchTests : LifecycleTest
{
    [Fact]
    public async Task The_finalizer_is_on_the_NodeClaim_before_the_cloud_is_asked()
    {
        var finalizerSeen = false;
        Env.Cloud.CreateFailure = nc =>
        {
            finalizerSeen = nc.Metadata.Finalizers?.Contains(Finalizers.Termination) == true;
            return null;
        };

        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("finalizer-first"));

        Assert.True(finalizerSeen, "the cloud provider was asked to launch a NodeClaim without the termination finalizer");
        Assert.Contains(Finalizers.Termination, launched.Metadata.Finalizers);
    }

    [Fact]
    public async Task A_launch_records_the_machine_in_status_and_the_labels_it_resolved()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("records"));

        Assert.StartsWith("fake:///", launched.Status.ProviderId, StringComparison.Ordinal);
        Assert.Equal("fake-image", launched.Status.ImageId);
        Assert.Equal("fake-it-1", launched.Metadata.Labels[Labels.InstanceType]);
        Assert.Equal(CapacityTypes.OnDemand, launched.Metadata.Labels[Labels.CapacityType]);
        Assert.True(launched.Metadata.Labels.ContainsKey(Labels.TopologyZone));
        Assert.Equal("default", launched.Metadata.Labels[Labels.NodePool]);
        Assert.NotNull(launched.Status.Capacity);
        Assert.NotNull(launched.Status.Allocatable);
        ExpectCondition(launched, ConditionTypes.Registered, ConditionStatus.False, "NodeNotFound");
        ExpectCondition(launched, ConditionTypes.Initialized, ConditionStatus.False, "NodeNotFound");
        ExpectCondition(launched, ConditionTypes.Ready, ConditionStatus.False);
        Assert.Equal(1, Env.Cloud.CreateCount);
    }

    [Fact]
    public async Task A_launched_NodeClaim_is_never_launched_again()
    {
        var launched = await ExpectLaunchedAsync(ControllerEnvironment.NodeClaim("once"));

        await Env.LifecycleAsync(launched);
        await Env.LifecycleAsync(launched);

        Assert.Equal(1, Env.Cloud.CreateCount);
        Assert.Single(await Env.Cloud.MachinesAsync());
    }

    [Fact]
    public async Task A_failed_status_write_after_a_launch_does_not_launch_a_second_machine()
    {
        var created = await Env.CreateAsync(ControllerEnvironment.NodeClaim("status-conflict"));
        var rule = Env.Server.Faults.ForceConflicts(10, resource: "nodeclaims/status", verb: "patch");

        var first = await Env.LifecycleAsync(created);
        var second = await Env.LifecycleAsync(created);
        Assert.True(first.Requeue && second.Requeue, "a conflicting status write is retried");
        Assert.Null((await ExpectNodeClaimAsync(created.Metadata.Name)).Status.ProviderId);
        rule.Remove();
        await Env.LifecycleAsync(created);

        var launched = await ExpectNodeClaimAsync(created.Metadata.Name);
        ExpectCondition(launched, ConditionTypes.Launched, ConditionStatus.True);
        Assert.Equal(1, Env.Cloud.CreateCount);
    }

    [Fact]
    public async Task A_launch_that_keeps_failing_is_retried_and_deleted_with_an_event_after_five_minutes()
    {
        Env.Cloud.CreateFailure = _ => new InvalidOperationException("RequestLimitExceeded: throttled");
        var created = await Env.CreateAsync(ControllerEnvironment.NodeClaim("keeps-failing"));

        var first = await Env.LifecycleAsync(created);
        var failing = await ExpectNodeClaimAsync(created.Metadata.Name);

        Assert.True(first.Requeue);
        ExpectCondition(failing, ConditionTypes.Launched, ConditionStatus.False, EventReasons.LaunchFailed);
        Assert.Contains("RequestLimitExceeded", failing.Condition(ConditionTypes.Launched)!.Message, StringComparison.Ordinal);
        Env.Events.ExpectEvent(EventReasons.LaunchFailed, created.Metadata.Name);

        Env.Clock.Advance(TimeSpan.FromMinutes(4));
        await Env.LifecycleAsync(created);
        Assert.Null((await ExpectNodeClaimAsync(created.Metadata.Name)).Metadata.DeletionTimestamp);

        Env.Clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        await Env.LifecycleAsync(created);
        Env.Events.ExpectEvent(EventReasons.LaunchTimeout, created.Metadata.Name);
        await ExpectFinalizedAsync(created);
        Assert.Empty(await Env.Cloud.MachinesAsync());
    }

    [Fact]
    public async Task A_NodeClaim_no_capacity_can_satisfy_is_deleted_with_an_event()
    {
        var created = await Env.CreateAsync(ControllerEnvironment.NodeClaim("impossible", configure: nc =>
            nc.Spec.Requirements[1] = new NodeClaimRequirement { Key = Labels.InstanceType, Operator = "In", Values = ["no-such-type"] }));

        await Env.LifecycleAsync(created);

        var evt = Env.Events.ExpectEvent(EventReasons.InsufficientCapacityError, created.Metadata.Name);
        Assert.Contains("no-such-type", evt.Message, StringComparison.Ordinal);
        await ExpectFinalizedAsync(created);
        Assert.Empty(await Env.Cloud.MachinesAsync());
    }

    [Fact]
    public async Task A_NodeClaim_whose_NodePool_is_gone_is_deleted_without_launching()
    {
        var created = await Env.CreateAsync(ControllerEnvironment.NodeClaim("orphan", nodePool: "deleted-pool"));

        await Env.LifecycleAsync(created);

        Env.Events.ExpectEvent(EventReasons.NodePoolNotFound, created.Metadata.Name);
        await ExpectFinalizedAsync(created);
        Assert.Equal(0, Env.Cloud.CreateCount);
    }

    [Fact]
    public async Task A_NodeClaim_whose_NodeClass_is_not_ready_is_deleted_without_launching()
    {
        await NodeClassAsync("broken", ConditionStatus.False);
        var created = await Env.CreateAsync(ControllerEnvironment.NodeClaim("not-ready-class", configure: nc =>
            nc.Spec.NodeClassRef = NodeClassReference.Ec2NodeClass("broken")));

        await Env.LifecycleAsync(created);

        var evt = Env.Events.ExpectEvent(EventReasons.NodeClassNotReady, created.Metadata.Name);
        Assert.Contains("broken", evt.Message, StringComparison.Ordinal);
        await ExpectFinalizedAsync(created);
        Assert.Equal(0, Env.Cloud.CreateCount);
    }

    [Fact]
    public async Task A_NodeClaim_whose_NodeClass_does_not_exist_is_deleted_without_launching()
    {
        var created = await Env.CreateAsync(ControllerEnvironment.NodeClaim("missing-class", configure: nc =>
            nc.Spec.NodeClassRef = NodeClassReference.Ec2NodeClass("nowhere")));

        await Env.LifecycleAsync(created);

        Env.Events.ExpectEvent(EventReasons.NodeClassNotReady, created.Metadata.Name);
        await ExpectFinalizedAsync(created);
        Assert.Equal(0, Env.Cloud.CreateCount);
    }

    [Fact]
    public async Task A_provider_reporting_its_NodeClass_not_ready_gets_the_NodeClaim_deleted()
    {
        Env.Cloud.CreateFailure = _ => new NodeClassNotReadyException("EC2NodeClass default has no resolved subnets");
        var created = await Env.CreateAsync(ControllerEnvironment.NodeClaim("provider-says-not-ready"));

        await Env.LifecycleAsync(created);

        Env.Events.ExpectEvent(EventReasons.NodeClassNotReady, created.Metadata.Name);
        await ExpectFinalizedAsync(created);
    }

    [Fact]
    public async Task NodeClaims_of_another_provider_are_left_alone()
    {
        var created = await Env.CreateAsync(ControllerEnvironment.NodeClaim("foreign", configure: nc =>
            nc.Spec.NodeClassRef = new NodeClassReference { Group = "karpenter.azure.com", Kind = "AKSNodeClass", Name = "default" }));

        await Env.LifecycleAsync(created);

        var stored = await ExpectNodeClaimAsync(created.Metadata.Name);
        Assert.Null(stored.Metadata.Finalizers);
        Assert.Equal(0, Env.Cloud.CreateCount);
    }
}

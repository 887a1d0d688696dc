using Karpenter.Core.Lifecycle;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Conditions;

namespace Karpenter.Tests.Core.Lifecycle.Support;

/// <summary>
/// Base of the Core controller suites: a fresh <see cref="ControllerEnvironment"/> per test, a Ready NodePool
/// <c>default</c> and EC2NodeClass <c>default</c>, and the NodeClaim expectations.
/// </summary>
public abstract class LifecycleTest : IAsyncLifetime
{
    internal ControllerEnvironment Env { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Env = await ControllerEnvironment.StartAsync();
        var nodeClass = await Env.CreateAsync(ControllerEnvironment.NodeClass("default"));
        await Env.SetStatusAsync(nodeClass, n => n.Status.Conditions = [Condition(ConditionTypes.Ready, ConditionStatus.True)]);
        var pool = await Env.CreateAsync(ControllerEnvironment.NodePool("default"));
        await Env.SetStatusAsync(pool, p => p.Status.Conditions = [Condition(ConditionTypes.Ready, ConditionStatus.True)]);
    }

    public virtual async Task DisposeAsync() => await Env.DisposeAsync();

    internal static k8s.Models.V1Condition Condition(string type, string status, string reason = "Test") => new()
    {
        Type = type,
        Status = status,
        Reason = reason,
        Message = string.Empty,
        LastTransitionTime = new DateTime(2026, 3, 4, 0, 0, 0, DateTimeKind.Utc),
    };

    /// <summary>Creates a NodeClaim and runs the lifecycle controller on it once; returns its stored state.</summary>
    internal async Task<NodeClaim> ExpectLaunchedAsync(NodeClaim nodeClaim)
    {
        var created = await Env.CreateAsync(nodeClaim);
        await Env.LifecycleAsync(created);
        var launched = await ExpectNodeClaimAsync(created.Metadata.Name);
        ExpectCondition(launched, ConditionTypes.Launched, ConditionStatus.True);
        return launched;
    }

    internal async Task<NodeClaim> ExpectNodeClaimAsync(string name) =>
        await Env.GetAsync<NodeClaim>(name) ?? throw new Xunit.Sdk.XunitException($"NodeClaim {name} does not exist");

    internal async Task ExpectNodeClaimGoneAsync(string name)
    {
        var found = await Env.GetAsync<NodeClaim>(name);
        Assert.True(found is null, $"NodeClaim {name} still exists (finalizers: {string.Join(", ", found?.Metadata.Finalizers ?? [])}, deleting: {found?.Metadata.DeletionTimestamp is not null})");
    }

    internal static void ExpectCondition(NodeClaim nodeClaim, string type, string status, string? reason = null)
    {
        var condition = nodeClaim.Condition(type);
        Assert.True(condition is not null, $"NodeClaim {nodeClaim.Metadata.Name} has no {type} condition");
        Assert.True(condition.Status == status, $"{type} is {condition.Status} ({condition.Reason}: {condition.Message}), expected {status}");
        if (reason is not null)
        {
            Assert.Equal(reason, condition.Reason);
        }
    }

    /// <summary>Runs the lifecycle controller until the deleted NodeClaim is gone (each pass is one reconcile).</summary>
    internal async Task ExpectFinalizedAsync(NodeClaim nodeClaim, int maxPasses = 5)
    {
        for (var i = 0; i < maxPasses && await Env.GetAsync<NodeClaim>(nodeClaim.Metadata.Name) is not null; i++)
        {
            await Env.LifecycleAsync(nodeClaim);
        }

        await ExpectNodeClaimGoneAsync(nodeClaim.Metadata.Name);
    }

    internal async Task<EC2NodeClass> NodeClassAsync(string name, string readyStatus)
    {
        var nodeClass = await Env.CreateAsync(ControllerEnvironment.NodeClass(name));
        return await Env.SetStatusAsync(nodeClass, n => n.Status.Conditions = [Condition(ConditionTypes.Ready, readyStatus, "SubnetsNotFound")]);
    }
}

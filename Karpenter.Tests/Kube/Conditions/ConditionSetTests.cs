using k8s.Models;
using Karpenter.Kube.Conditions;

namespace Karpenter.Tests.Kube.Conditions;

public sealed class ConditionSetTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly ConditionSet _set = new("Ready", "Launched", "Registered");
    private readonly List<V1Condition> _conditions = [];

    [Fact]
    public void Initialize_adds_every_condition_as_unknown()
    {
        Assert.True(_set.Initialize(_conditions, 1, T0));

        Assert.Equal(["Launched", "Registered", "Ready"], _conditions.Select(c => c.Type));
        Assert.All(_conditions, c => Assert.Equal(ConditionStatus.Unknown, c.Status));
        Assert.False(_set.Initialize(_conditions, 1, T0));
    }

    [Fact]
    public void Root_is_true_only_when_every_dependent_is_true()
    {
        _set.Initialize(_conditions, 1, T0);
        _set.SetTrue(_conditions, "Launched", 1, T0);
        Assert.True(ConditionList.IsUnknown(_conditions, "Ready"));

        _set.SetTrue(_conditions, "Registered", 1, T0.AddSeconds(5));

        Assert.True(ConditionList.IsTrue(_conditions, "Ready"));
        Assert.Equal(T0.AddSeconds(5).UtcDateTime, ConditionList.Get(_conditions, "Ready")!.LastTransitionTime);
    }

    [Fact]
    public void Root_is_false_with_the_failing_dependents_reason()
    {
        _set.Initialize(_conditions, 1, T0);
        _set.SetTrue(_conditions, "Launched", 1, T0);

        _set.SetFalse(_conditions, "Registered", "NodeNotFound", "no node registered", 1, T0);

        var ready = ConditionList.Get(_conditions, "Ready")!;
        Assert.Equal((ConditionStatus.False, "NodeNotFound", "no node registered"), (ready.Status, ready.Reason, ready.Message));
    }

    [Fact]
    public void Transition_time_moves_only_when_the_status_changes()
    {
        ConditionList.Set(_conditions, "Drifted", ConditionStatus.True, "AMIDrift", "old ami", 1, T0);

        var changed = ConditionList.Set(_conditions, "Drifted", ConditionStatus.True, "SubnetDrift", "old subnet", 2, T0.AddMinutes(1));

        Assert.True(changed);
        var c = ConditionList.Get(_conditions, "Drifted")!;
        Assert.Equal(T0.UtcDateTime, c.LastTransitionTime);
        Assert.Equal((2L, "SubnetDrift"), (c.ObservedGeneration!.Value, c.Reason));
        Assert.False(ConditionList.Set(_conditions, "Drifted", ConditionStatus.True, "SubnetDrift", "old subnet", 2, T0.AddMinutes(2)));

        ConditionList.Set(_conditions, "Drifted", ConditionStatus.False, "NotDrifted", null, 2, T0.AddMinutes(3).AddMilliseconds(250));
        Assert.Equal(T0.AddMinutes(3).UtcDateTime, ConditionList.Get(_conditions, "Drifted")!.LastTransitionTime);
        Assert.True(ConditionList.Remove(_conditions, "Drifted"));
        Assert.Empty(_conditions);
    }
}

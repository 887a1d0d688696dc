using k8s.Models;
using Karpenter.Core.Disruption;
using Karpenter.Entities.V1;

namespace Karpenter.Tests.Core.Disruption;

public sealed class DisruptionBudgetsTests
{
    // Saturday 2026-01-03 10:30 UTC.
    private static readonly DateTimeOffset Now = new(2026, 1, 3, 10, 30, 0, TimeSpan.Zero);

    public static TheoryData<string, int, int, int> CountsAndPercentages => new()
    {
        // nodes, pool size, already disrupting, expected
        { "10%", 10, 0, 1 },
        { "10%", 15, 0, 2 },   // 1.5 rounds up
        { "10%", 1, 0, 1 },    // 0.1 rounds up
        { "10%", 0, 0, 0 },
        { "100%", 7, 0, 7 },
        { "0%", 7, 0, 0 },
        { "0", 7, 0, 0 },
        { "1", 7, 0, 1 },
        { "3", 7, 1, 2 },      // a node already disrupting counts
        { "1", 7, 2, 0 },      // never below zero
        { "50%", 5, 1, 2 },    // ceil(2.5) - 1
    };

    [Theory]
    [MemberData(nameof(CountsAndPercentages))]
    public void Budget_nodes_are_a_count_or_a_percentage_rounded_up_minus_what_is_disrupting(string nodes, int poolSize, int disrupting, int expected)
    {
        var pool = Pool(new Budget { Nodes = nodes });
        var allowed = DisruptionBudgets.Allowed([pool], Nodes("default", poolSize, disrupting), DisruptionReason.Underutilized, Now);
        Assert.Equal(expected, allowed["default"]);
    }

    public static TheoryData<string, string, int> Schedules => new()
    {
        // schedule, duration, expected allowed of 10 nodes with a "0" budget in the window and a default 100% budget
        { "0 9 * * *", "2h", 0 },       // 09:00–11:00: inside
        { "0 9 * * *", "1h", 10 },      // 09:00–10:00: over
        { "0 11 * * *", "8h", 10 },     // not started today; yesterday's ended 19:00
        { "0 22 * * *", "14h", 0 },     // started yesterday 22:00, runs to 12:00
        { "@daily", "11h", 0 },         // midnight + 11h
        { "0 9 * * 1-5", "10h", 10 },   // weekdays only; it is Saturday
        { "30 10 * * *", "1h", 0 },     // starts exactly now
    };

    [Theory]
    [MemberData(nameof(Schedules))]
    public void A_scheduled_budget_applies_only_in_its_window(string schedule, string duration, int expected)
    {
        var pool = Pool(new Budget { Nodes = "0", Schedule = schedule, Duration = duration }, new Budget { Nodes = "100%" });
        var allowed = DisruptionBudgets.Allowed([pool], Nodes("default", 10, 0), DisruptionReason.Drifted, Now);
        Assert.Equal(expected, allowed["default"]);
    }

    [Theory]
    [InlineData(DisruptionReason.Drifted, 0)]
    [InlineData(DisruptionReason.Empty, 5)]
    [InlineData(DisruptionReason.Underutilized, 2)]
    public void Budgets_apply_to_their_reasons_and_the_most_restrictive_wins(DisruptionReason reason, int expected)
    {
        var pool = Pool(
            new Budget { Nodes = "0", Reasons = [DisruptionReason.Drifted] },
            new Budget { Nodes = "2", Reasons = [DisruptionReason.Underutilized] },
            new Budget { Nodes = "50%" });
        var allowed = DisruptionBudgets.Allowed([pool], Nodes("default", 10, 0), reason, Now);
        Assert.Equal(expected, allowed["default"]);
    }

    [Fact]
    public void An_unparsable_schedule_fails_closed()
    {
        var pool = Pool(new Budget { Nodes = "100%", Schedule = "61 * * * *", Duration = "1h" });
        var allowed = DisruptionBudgets.Allowed([pool], Nodes("default", 10, 0), DisruptionReason.Empty, Now);
        Assert.Equal(0, allowed["default"]);
    }

    [Fact]
    public void Each_NodePool_counts_only_its_own_nodes()
    {
        var a = Named("a", new Budget { Nodes = "50%" });
        var b = Named("b", new Budget { Nodes = "50%" });
        var allowed = DisruptionBudgets.Allowed([a, b], [.. Nodes("a", 4, 1), .. Nodes("b", 10, 0)], DisruptionReason.Empty, Now);
        Assert.Equal(1, allowed["a"]);
        Assert.Equal(5, allowed["b"]);
    }

    private static NodePool Pool(params Budget[] budgets) => Named("default", budgets);

    private static NodePool Named(string name, params Budget[] budgets) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new NodePoolSpec { Disruption = new Karpenter.Entities.V1.Disruption { Budgets = [.. budgets] } },
    };

    private static IEnumerable<BudgetNode> Nodes(string pool, int count, int disrupting) =>
        Enumerable.Range(0, count).Select(i => new BudgetNode(pool, i < disrupting));
}

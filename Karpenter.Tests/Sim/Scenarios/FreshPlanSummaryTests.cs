using Karpenter.Sim.Scenarios;
using Karpenter.Sim.Scenarios.Reports;

namespace Karpenter.Tests.Sim.Scenarios;

/// <summary>
/// The fresh-plan reference in the report: cost ÷ plan (what provisioning and consolidation leave on the table) and
/// plan ÷ bound (packing and the bound's looseness), at the settled peak, time-averaged over settled samples, and at the end.
/// </summary>
public sealed class FreshPlanSummaryTests
{
    [Fact]
    public void The_peak_is_the_bounds_settled_peak_and_settled_samples_are_averaged()
    {
        Sample[] samples =
        [
            At(1, cost: 0.50, bound: 0.10, plan: null, settled: false),
            At(2, cost: 0.40, bound: 0.30, plan: 0.36, settled: true),
            At(3, cost: 0.33, bound: 0.30, plan: 0.33, settled: true),
            At(4, cost: 0.20, bound: 0.10, plan: 0.12, settled: true),
            At(5, cost: 0.30, bound: 0.10, plan: 0.15, settled: false),
        ];

        var summary = ScenarioRunner.SummariseFreshPlan(samples);

        Assert.Equal(3, summary.SettledSamples);
        Assert.Equal(0.27, summary.SettledFreshPlanPerHour!.Value, 9);
        Assert.Equal(0.31 / 0.27, summary.SettledCostOverPlan!.Value, 9);
        Assert.Equal(0.27 / (0.70 / 3), summary.SettledPlanOverBound!.Value, 9);
        Assert.Equal(ScenarioRunner.SummariseBound(samples, TimeSpan.FromMinutes(5), null).PeakAt, summary.Peak!.At);
        Assert.Equal(1.0, summary.Peak.CostOverPlan!.Value, 9);
        Assert.Equal(1.1, summary.Peak.PlanOverBound!.Value, 9);
        Assert.Equal("2 × t3a.large spot", summary.Peak.PlanBuys);
        Assert.Equal("3 × t3.medium spot", summary.Peak.Runs);
        Assert.Equal(TimeSpan.FromMinutes(5), summary.AtEnd!.At);
        Assert.Equal(2.0, summary.AtEnd.CostOverPlan!.Value, 9);
        Assert.Equal(1.5, summary.AtEnd.PlanOverBound!.Value, 9);
    }

    [Fact]
    public void The_summary_rows_name_both_ratios_and_what_the_plan_buys()
    {
        Sample[] samples = [At(1, cost: 0.40, bound: 0.30, plan: 0.32, settled: true)];

        var rows = SummaryRows.Of(Report(samples, ScenarioRunner.SummariseFreshPlan(samples)));

        var peak = Assert.Single(rows, r => r.Name == "fresh plan at the settled peak").Value;
        Assert.Equal("$0.320 at 1m00s: cost ÷ plan 1.25, plan ÷ bound 1.07; runs 3 × t3.medium spot, plan buys 2 × t3a.large spot", peak);
        Assert.Contains(rows, r => r.Name == "fresh plan, settled (time-averaged)" && r.Value.Contains("cost ÷ plan 1.25", StringComparison.Ordinal));
    }

    [Fact]
    public void A_run_that_never_settles_has_no_ratio_at_the_peak()
    {
        Sample[] samples = [At(1, cost: 0.40, bound: 0.30, plan: null, settled: false)];

        var summary = ScenarioRunner.SummariseFreshPlan(samples);

        Assert.Null(summary.Peak);
        Assert.Null(summary.AtEnd);
        Assert.Null(summary.SettledCostOverPlan);
        Assert.Contains(SummaryRows.Of(Report(samples, summary)), r => r.Name == "fresh plan, settled (time-averaged)" && r.Value == "n/a (never settled)");
    }

    private static Sample At(int minute, double cost, double? bound, double? plan, bool settled) => new()
    {
        At = TimeSpan.FromMinutes(minute),
        PendingPods = 0,
        RunningPods = 6,
        Nodes = 3,
        ReadyNodes = 3,
        Instances = 3,
        CostPerHour = cost,
        CpuUtilisation = 0,
        MemoryUtilisation = 0,
        InstancesByType = new Dictionary<string, int> { ["t3.medium spot"] = 3 },
        LowerBoundPerHour = bound,
        Settled = settled,
        FreshPlan = plan is null ? null : new FreshPlan(plan, 6, "2 × t3a.large spot", 0, null),
    };

    private static RunReport Report(IReadOnlyList<Sample> samples, FreshPlanSummary plan) => new()
    {
        Scenario = "s",
        Duration = TimeSpan.FromMinutes(1),
        Speed = 60,
        WallTime = TimeSpan.FromSeconds(2),
        Samples = samples,
        PodsCreated = 6,
        PodsScheduled = 6,
        PodsPendingAtEnd = 0,
        InstanceTypes = [],
        CostPerHourAtEnd = samples[^1].CostPerHour,
        CostOverRun = 0.01,
        MeanCpuUtilisation = 0,
        MeanMemoryUtilisation = 0,
        KarpenterEvents = [],
        Problems = [],
        FreshPlan = plan,
    };
}

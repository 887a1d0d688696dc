using Karpenter.Sim.Scenarios;
using Karpenter.Sim.Scenarios.Reports;

namespace Karpenter.Tests.Sim.Scenarios;

/// <summary>Cost against the lower bound in the report: at the end, time-averaged over settled samples, and at the settled peak.</summary>
public sealed class BoundSummaryTests
{
    [Fact]
    public void Settled_samples_are_averaged_and_the_peak_is_the_last_settled_sample_of_the_largest_bound()
    {
        Sample[] samples =
        [
            At(1, cost: 0.50, bound: 0.10, settled: false),
            At(2, cost: 0.40, bound: 0.30, settled: true),
            At(3, cost: 0.33, bound: 0.30, settled: true),
            At(4, cost: 0.20, bound: 0.10, settled: true),
            At(5, cost: 0.30, bound: 0.10, settled: false),
        ];

        var summary = ScenarioRunner.SummariseBound(samples, TimeSpan.FromMinutes(5), problem: null);

        Assert.Equal(3, summary.SettledSamples);
        Assert.Equal(0.31, summary.SettledCostPerHour!.Value, 9);
        Assert.Equal(0.70 / 3, summary.SettledLowerBoundPerHour!.Value, 9);
        Assert.Equal(0.31 / (0.70 / 3), summary.SettledRatio!.Value, 9);
        Assert.Equal(TimeSpan.FromMinutes(3), summary.PeakAt);
        Assert.Equal(1.1, summary.PeakRatio!.Value, 9);
        Assert.Equal(0.10, summary.LowerBoundAtEnd);
        Assert.Equal(3.0, summary.RatioAtEnd!.Value, 9);
        Assert.Contains("5m", summary.SettledDefinition, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_that_never_settles_or_has_no_bound_says_so_instead_of_a_ratio()
    {
        var summary = ScenarioRunner.SummariseBound([At(1, 0.2, null, false)], TimeSpan.FromMinutes(5), "no NodePool offers instance types");

        Assert.Null(summary.SettledRatio);
        Assert.Null(summary.PeakRatio);
        Assert.Null(summary.RatioAtEnd);
        Assert.Equal("no NodePool offers instance types", summary.Problem);
        var report = Report(summary);
        Assert.Contains(SummaryRows.Of(report), r => r.Name.StartsWith("cost ÷ bound, settled", StringComparison.Ordinal) && r.Value == "n/a (never settled)");
    }

    private static Sample At(int minute, double cost, double? bound, bool settled) => new()
    {
        At = TimeSpan.FromMinutes(minute),
        PendingPods = 0,
        RunningPods = 1,
        Nodes = 1,
        ReadyNodes = 1,
        Instances = 1,
        CostPerHour = cost,
        CpuUtilisation = 0,
        MemoryUtilisation = 0,
        InstancesByType = new Dictionary<string, int>(),
        LowerBoundPerHour = bound,
        Settled = settled,
    };

    private static RunReport Report(BoundSummary bound) => new()
    {
        Scenario = "s",
        Duration = TimeSpan.FromMinutes(1),
        Speed = 60,
        WallTime = TimeSpan.FromSeconds(2),
        Samples = [At(1, 0.2, null, false)],
        PodsCreated = 1,
        PodsScheduled = 1,
        PodsPendingAtEnd = 0,
        InstanceTypes = [],
        CostPerHourAtEnd = 0.2,
        CostOverRun = 0.01,
        MeanCpuUtilisation = 0,
        MeanMemoryUtilisation = 0,
        KarpenterEvents = [],
        Problems = [],
        Bound = bound,
    };
}

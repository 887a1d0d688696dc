using System.Globalization;

namespace Karpenter.Sim.Scenarios.Reports;

/// <summary>The summary of a run as (name, value) rows, shared by the terminal table and the HTML report.</summary>
public static class SummaryRows
{
    public static IReadOnlyList<(string Name, string Value)> Of(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var launched = report.InstanceTypes.Sum(t => t.Launched);
        var terminated = report.InstanceTypes.Sum(t => t.Terminated);
        var rows = new List<(string, string)>
        {
            ("simulated time", ScenarioReader.Format(report.Duration)),
            ("wall time", string.Create(CultureInfo.InvariantCulture, $"{report.WallTime.TotalSeconds:0.0} s at {report.Speed:0.#}x (effective {report.EffectiveSpeed:0.#}x)")),
            ("pods created", Count(report.PodsCreated)),
            ("pods scheduled", Count(report.PodsScheduled)),
            ("pods pending at the end", Count(report.PodsPendingAtEnd)),
            ("time to schedule p50", Seconds(report.TimeToScheduleP50Seconds)),
            ("time to schedule p99", Seconds(report.TimeToScheduleP99Seconds)),
            ("time to schedule max", Seconds(report.TimeToScheduleMaxSeconds)),
            ("instances launched", Count(launched)),
            ("instances terminated", Count(terminated)),
            ("cost per hour at the end", Dollars(report.CostPerHourAtEnd)),
            ("cost over the run", Dollars(report.CostOverRun)),
            ("mean CPU utilisation", Percent(report.MeanCpuUtilisation)),
            ("mean memory utilisation", Percent(report.MeanMemoryUtilisation)),
        };
        if (report.Bound is { } bound)
        {
            rows.Add(("lower bound per hour at the end", bound.LowerBoundAtEnd is { } b ? Dollars(b) : "n/a"));
            rows.Add(("cost ÷ bound at the end", Ratio(bound.RatioAtEnd)));
            rows.Add(("cost ÷ bound, settled (time-averaged)", bound.SettledRatio is { } r
                ? string.Create(CultureInfo.InvariantCulture, $"{Ratio(r)} ({Dollars(bound.SettledCostPerHour ?? 0)} ÷ {Dollars(bound.SettledLowerBoundPerHour ?? 0)} over {bound.SettledSamples} samples)")
                : "n/a (never settled)"));
            rows.Add(("cost ÷ bound at the settled peak", bound.PeakRatio is { } p && bound.PeakAt is { } at
                ? string.Create(CultureInfo.InvariantCulture, $"{Ratio(p)} ({Dollars(bound.PeakCostPerHour ?? 0)} ÷ {Dollars(bound.PeakLowerBoundPerHour ?? 0)} at {ScenarioReader.Format(at)})")
                : "n/a"));
        }

        if (report.FreshPlan is { } plan)
        {
            rows.Add(("fresh plan, settled (time-averaged)", plan.SettledFreshPlanPerHour is { } f
                ? string.Create(CultureInfo.InvariantCulture, $"{Dollars(f)}: cost ÷ plan {Ratio(plan.SettledCostOverPlan)}, plan ÷ bound {Ratio(plan.SettledPlanOverBound)}")
                : "n/a (never settled)"));
            rows.Add(("fresh plan at the settled peak", Point(plan.Peak)));
            rows.Add(("fresh plan at the end", Point(plan.AtEnd)));
        }

        return rows;
    }

    private static string Point(FreshPlanPoint? p) => p is null
        ? "n/a"
        : string.Create(CultureInfo.InvariantCulture, $"{Dollars(p.FreshPlanPerHour)} at {ScenarioReader.Format(p.At)}: cost ÷ plan {Ratio(p.CostOverPlan)}, plan ÷ bound {Ratio(p.PlanOverBound)}; runs {Or(p.Runs)}, plan buys {Or(p.PlanBuys)}{(p.Unplaced > 0 ? $" ({p.Unplaced} pods unplaced)" : string.Empty)}");

    private static string Or(string s) => s.Length == 0 ? "nothing" : s;

    private static string Ratio(double? r) => r is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v:0.00}") : "n/a";

    private static string Count(int n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Seconds(double? s) => s is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v:0.#} s") : "n/a";

    private static string Dollars(double d) => string.Create(CultureInfo.InvariantCulture, $"${d:0.000}");

    private static string Percent(double r) => string.Create(CultureInfo.InvariantCulture, $"{r * 100:0.#} %");
}

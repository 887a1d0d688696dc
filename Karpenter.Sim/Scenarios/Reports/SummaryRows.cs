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
        return
        [
            ("simulated time", ScenarioReader.Format(report.Duration)),
            ("wall time", string.Create(CultureInfo.InvariantCulture, $"{report.WallTime.TotalSeconds:0.0} s at {report.Speed:0.#}x")),
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
        ];
    }

    private static string Count(int n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Seconds(double? s) => s is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v:0.#} s") : "n/a";

    private static string Dollars(double d) => string.Create(CultureInfo.InvariantCulture, $"${d:0.000}");

    private static string Percent(double r) => string.Create(CultureInfo.InvariantCulture, $"{r * 100:0.#} %");
}

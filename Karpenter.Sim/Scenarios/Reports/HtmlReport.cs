using System.Globalization;
using System.Net;
using System.Text;

namespace Karpenter.Sim.Scenarios.Reports;

/// <summary>
/// A self-contained HTML page for a run: the summary, charts over time (nodes, pods, cost per hour, utilisation) as
/// inline SVG, instance types, problems and Karpenter's events. No script, no stylesheet or font from the network.
/// </summary>
public static class HtmlReport
{
    private const int Width = 720;
    private const int Height = 220;
    private const int Left = 56;
    private const int Bottom = 28;
    private const int Top = 12;
    private const int Right = 12;

    public static string Render(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var html = new StringBuilder();
        html.Append($$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Simulation: {{Encode(report.Scenario)}}</title>
            <style>
            body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#1f2328;max-width:60rem}
            table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left}
            th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
            svg{background:#fff;border:1px solid #d0d7de;margin:.5rem 0}.problem{color:#cf222e}
            code{background:#f6f8fa;padding:0 .2rem}
            </style></head><body>
            <h1>Simulation: {{Encode(report.Scenario)}}</h1>
            """);
        if (report.Description is { } description)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p>{Encode(description)}</p>\n");
        }

        html.Append("<h2>Summary</h2>\n<table>\n");
        foreach (var (name, value) in SummaryRows.Of(report))
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><th>{Encode(name)}</th><td class=\"n\">{Encode(value)}</td></tr>\n");
        }

        html.Append("</table>\n");
        if (report.Bound is { } bound)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p>Lower bound: {Encode(bound.Assumptions)}. Ratios are cost ÷ bound; {Encode(bound.SettledDefinition)}.</p>\n");
        }

        if (report.FreshPlan is { } plan)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p>Fresh plan: {Encode(plan.Assumptions)}. Cost ÷ plan above 1 is what provisioning and consolidation leave on the table; plan ÷ bound is packing plus the bound's looseness.</p>\n");
        }

        if (report.Problems.Count > 0)
        {
            html.Append("<h2>Problems</h2>\n<ul>\n");
            foreach (var problem in report.Problems)
            {
                html.Append(CultureInfo.InvariantCulture, $"<li class=\"problem\">{Encode(problem)}</li>\n");
            }

            html.Append("</ul>\n");
        }

        html.Append("<h2>Over time</h2>\n");
        var samples = report.Samples;
        html.Append(Chart("Nodes", samples, [("nodes", "#0969da", s => s.Nodes), ("ready", "#1a7f37", s => s.ReadyNodes), ("instances", "#8250df", s => s.Instances)], report.Duration, "0"));
        html.Append(Chart("Pods", samples, [("running", "#1a7f37", s => s.RunningPods), ("pending", "#cf222e", s => s.PendingPods)], report.Duration, "0"));
        html.Append(Chart("Cost per hour (USD)", samples, [("cost/h", "#bf8700", s => s.CostPerHour), ("lower bound", "#57606a", s => s.LowerBoundPerHour ?? double.NaN), ("fresh plan", "#1a7f37", s => s.FreshPlan?.PerHour ?? double.NaN)], report.Duration, "0.00"));
        html.Append(Chart("Utilisation of allocatable (%)", samples, [("cpu", "#0969da", s => s.CpuUtilisation * 100), ("memory", "#8250df", s => s.MemoryUtilisation * 100)], report.Duration, "0"));

        html.Append("<h2>Instances by type</h2>\n<table><tr><th>type</th><th>capacity</th><th>launched</th><th>terminated</th><th>running at end</th></tr>\n");
        foreach (var type in report.InstanceTypes)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{Encode(type.InstanceType)}</td><td>{Encode(type.CapacityType)}</td><td class=\"n\">{type.Launched}</td><td class=\"n\">{type.Terminated}</td><td class=\"n\">{type.RunningAtEnd}</td></tr>\n");
        }

        html.Append("</table>\n<h2>Karpenter events</h2>\n");
        if (report.KarpenterEvents.Count == 0)
        {
            html.Append("<p>None.</p>\n");
        }
        else
        {
            html.Append("<ul>\n");
            foreach (var e in report.KarpenterEvents)
            {
                html.Append(CultureInfo.InvariantCulture, $"<li><code>{Encode(e)}</code></li>\n");
            }

            html.Append("</ul>\n");
        }

        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static string Chart(string title, IReadOnlyList<Sample> samples, (string Name, string Color, Func<Sample, double> Value)[] series, TimeSpan duration, string format)
    {
        var svg = new StringBuilder();
        var max = Math.Max(1e-9, samples.Count == 0 ? 1 : series.Max(s => samples.Select(s.Value).Where(v => !double.IsNaN(v)).DefaultIfEmpty(0).Max()));
        var top = NiceCeiling(max);
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        var span = Math.Max(1, duration.TotalSeconds);
        double X(TimeSpan t) => Left + (t.TotalSeconds / span * plotWidth);
        double Y(double v) => Top + plotHeight - (v / top * plotHeight);

        svg.Append(CultureInfo.InvariantCulture, $"<h3>{Encode(title)}</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"{Encode(title)}\">\n");
        for (var i = 0; i <= 4; i++)
        {
            var v = top * i / 4;
            var y = Y(v);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{y:0.#}\" x2=\"{Width - Right}\" y2=\"{y:0.#}\" stroke=\"#eaeef2\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{y + 4:0.#}\" font-size=\"11\" text-anchor=\"end\" fill=\"#57606a\">{v.ToString(format, CultureInfo.InvariantCulture)}</text>\n");
        }

        for (var i = 0; i <= 6; i++)
        {
            var t = TimeSpan.FromSeconds(span * i / 6);
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(t):0.#}\" y=\"{Height - 8}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#57606a\">{ScenarioReader.Format(t)}</text>");
        }

        var legendX = Left + 8;
        foreach (var (name, color, value) in series)
        {
            var plotted = samples.Where(s => !double.IsNaN(value(s))).ToList();
            if (plotted.Count > 0)
            {
                var points = string.Join(' ', plotted.Select(s => string.Create(CultureInfo.InvariantCulture, $"{X(s.At):0.#},{Y(value(s)):0.#}")));
                svg.Append(CultureInfo.InvariantCulture, $"\n<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{points}\"/>");
            }

            svg.Append(CultureInfo.InvariantCulture, $"\n<rect x=\"{legendX}\" y=\"{Top + 2}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{legendX + 14}\" y=\"{Top + 11}\" font-size=\"11\">{Encode(name)}</text>");
            legendX += 24 + (name.Length * 7);
        }

        svg.Append("\n</svg>\n");
        return svg.ToString();
    }

    private static double NiceCeiling(double value)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1, 2, 2.5, 5, 10 })
        {
            if (step * magnitude >= value)
            {
                return step * magnitude;
            }
        }

        return 10 * magnitude;
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}

using System.Globalization;
using Karpenter.Sim.Scenarios;
using Karpenter.Sim.Scenarios.Reports;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Karpenter.Sim.Commands;

/// <summary>
/// What <c>simulate</c> shows while it runs: on a terminal a live Spectre.Console panel (simulated time, pods, nodes by
/// type and capacity type, cost per hour, Karpenter's latest events); otherwise one plain line every few simulated
/// minutes and one per Karpenter event. Then the summary table.
/// </summary>
internal sealed class LiveView
{
    private const int MaxPlainEvents = 5;
    private static readonly TimeSpan PlainInterval = TimeSpan.FromMinutes(5);
    private readonly TextWriter _output;
    private readonly bool _interactive;
    private readonly List<string> _latest = [];
    private TimeSpan _lastPlain = TimeSpan.MinValue;

    private LiveView(TextWriter output, bool interactive)
    {
        _output = output;
        _interactive = interactive;
    }

    public static LiveView Create(TextWriter output) =>
        new(output, ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive);

    public async Task IntroAsync(Scenario scenario, double speed)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"Simulating '{scenario.Name}' ({ScenarioReader.Format(scenario.Duration)} at {speed:0.#}x, about {scenario.Duration.TotalSeconds / speed:0} s): {scenario.Manifests.Count} manifest(s), {scenario.Workloads.Count} workload(s), {scenario.Timeline.Count} timeline step(s), {scenario.CloudEvents.Count} cloud event(s).");
        if (_interactive)
        {
            AnsiConsole.MarkupLine(Markup.Escape(text));
        }
        else
        {
            await _output.WriteLineAsync(text);
        }
    }

    public async Task<RunReport> RunAsync(SimulationSession session, CancellationToken cancellationToken)
    {
        if (!_interactive)
        {
            return await session.RunAsync(Plain, cancellationToken);
        }

        RunReport? result = null;
        await AnsiConsole.Live(new Text("starting the emulators and the operator…")).AutoClear(false).StartAsync(async context =>
        {
            result = await session.RunAsync(
                (sample, events) =>
                {
                    Remember(events);
                    context.UpdateTarget(BuildPanel(sample, session.Scenario));
                    context.Refresh();
                },
                cancellationToken);
        });
        return result!;
    }

    public async Task SummaryAsync(RunReport report)
    {
        var rows = SummaryRows.Of(report);
        if (_interactive)
        {
            var table = new Table().Title("Summary").AddColumn("").AddColumn(new TableColumn("").RightAligned());
            foreach (var (name, value) in rows)
            {
                table.AddRow(Markup.Escape(name), Markup.Escape(value));
            }

            AnsiConsole.Write(table);
            var types = new Table().Title("Instances by type").AddColumns("type", "capacity", "launched", "terminated", "running at end");
            foreach (var t in report.InstanceTypes)
            {
                types.AddRow(t.InstanceType, t.CapacityType, Count(t.Launched), Count(t.Terminated), Count(t.RunningAtEnd));
            }

            AnsiConsole.Write(types);
            foreach (var problem in report.Problems)
            {
                AnsiConsole.MarkupLine($"[red]![/] {Markup.Escape(problem)}");
            }

            return;
        }

        await _output.WriteLineAsync("Summary");
        var width = rows.Max(r => r.Name.Length);
        foreach (var (name, value) in rows)
        {
            await _output.WriteLineAsync($"  {name.PadRight(width)}  {value}");
        }

        await _output.WriteLineAsync("Instances by type (launched / terminated / running at end)");
        foreach (var t in report.InstanceTypes)
        {
            await _output.WriteLineAsync($"  {t.InstanceType,-16} {t.CapacityType,-9} {t.Launched,4} {t.Terminated,4} {t.RunningAtEnd,4}");
        }

        foreach (var problem in report.Problems)
        {
            await _output.WriteLineAsync($"  ! {problem}");
        }
    }

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Line(Sample s) => string.Create(
        CultureInfo.InvariantCulture,
        $"[{ScenarioReader.Format(s.At),8}] pods {s.RunningPods} running, {s.PendingPods} pending | nodes {s.ReadyNodes}/{s.Nodes} ready, {s.Instances} instances | ${s.CostPerHour:0.000}/h | cpu {s.CpuUtilisation * 100:0}% mem {s.MemoryUtilisation * 100:0}% | {s.Speed:0.#}x");

    private void Plain(Sample sample, IReadOnlyList<string> events)
    {
        foreach (var e in events.Take(MaxPlainEvents))
        {
            _output.WriteLine("  karpenter: " + e);
        }

        if (events.Count > MaxPlainEvents)
        {
            _output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  karpenter: … and {events.Count - MaxPlainEvents} more event(s)"));
        }

        if (_lastPlain == TimeSpan.MinValue || sample.At - _lastPlain >= PlainInterval)
        {
            _output.WriteLine(Line(sample));
            _lastPlain = sample.At;
        }
    }

    private void Remember(IReadOnlyList<string> events)
    {
        _latest.AddRange(events);
        if (_latest.Count > 8)
        {
            _latest.RemoveRange(0, _latest.Count - 8);
        }
    }

    private Panel BuildPanel(Sample s, Scenario scenario)
    {
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow(new Markup("[bold]simulated time[/]"), new Text($"{ScenarioReader.Format(s.At)} of {ScenarioReader.Format(scenario.Duration)}"));
        grid.AddRow(new Markup("[bold]pods[/]"), new Markup(string.Create(CultureInfo.InvariantCulture, $"[green]{s.RunningPods} running[/], [red]{s.PendingPods} pending[/]")));
        grid.AddRow(new Markup("[bold]nodes[/]"), new Text(string.Create(CultureInfo.InvariantCulture, $"{s.ReadyNodes} ready of {s.Nodes}; {s.Instances} instances")));
        grid.AddRow(new Markup("[bold]cost[/]"), new Text(string.Create(CultureInfo.InvariantCulture, $"${s.CostPerHour:0.000} per hour") + (s.LowerBoundPerHour is { } b ? string.Create(CultureInfo.InvariantCulture, $" (lower bound ${b:0.000})") : string.Empty)));
        grid.AddRow(new Markup("[bold]clock[/]"), new Text(string.Create(CultureInfo.InvariantCulture, $"{s.Speed:0.#}x")));
        grid.AddRow(new Markup("[bold]utilisation[/]"), new Text(string.Create(CultureInfo.InvariantCulture, $"cpu {s.CpuUtilisation * 100:0}%, memory {s.MemoryUtilisation * 100:0}%")));
        var types = new Table().Border(TableBorder.Simple).AddColumns("instances", "count");
        foreach (var (type, count) in s.InstancesByType)
        {
            types.AddRow(Markup.Escape(type), Count(count));
        }

        var events = new Rows(_latest.Count == 0 ? [new Text("(no Karpenter events yet)")] : _latest.Select(e => (IRenderable)new Text(e)));
        return new Panel(new Rows(grid, types, new Markup("[bold]latest Karpenter events[/]"), events)).Header(Markup.Escape(scenario.Name));
    }
}

using System.CommandLine;
using System.Diagnostics.Metrics;
using System.Globalization;
using Karpenter.Core.CloudProvider;
using Karpenter.Operator.Hosting;
using Karpenter.Sim.Clock;
using Karpenter.Sim.Scenarios;
using Karpenter.Sim.Scenarios.Reports;
using Karpenter.Sim.World;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Sim.Commands;

/// <summary>
/// <c>simulate [SCENARIO.yaml]</c>: both emulators, the simulated cluster and the whole operator on an accelerated
/// clock, playing a scenario (the built-in default one without a file); a live view while it runs, then the summary,
/// <c>--output json</c>, and a self-contained HTML report. Exit codes: 0 done, 1 the world or the operator could not
/// start, 2 a bad scenario (with the file position), 3 pods were still pending at the end.
/// </summary>
internal static class SimulateCommand
{
    public static Command Create()
    {
        var scenarioArgument = new Argument<FileInfo?>("scenario") { Description = "A scenario file (YAML); without one, the built-in default scenario.", Arity = ArgumentArity.ZeroOrOne };
        var speed = new Option<double?>("--speed") { Description = "Simulated seconds per real second (overrides the scenario's speed)." };
        var output = new Option<string>("--output") { Description = "text (live view and summary table) or json (the report on standard output).", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");
        var worldFile = new Option<FileInfo?>("--world") { Description = "A world description (YAML: cluster name, region, zones, subnets, security groups, instance profiles, catalog); default: the sandbox's default world." };
        var noPacing = new Option<bool>("--no-pacing") { Description = "Keep the clock at full speed even when the operator lags behind it (by default it slows down until the operator catches up)." };
        var report = new Option<FileInfo?>("--report") { Description = "Where to write the HTML report (default: simulation-<scenario>.html in the current directory)." };
        var command = new Command("simulate", "Run the operator against the emulators and a simulated cluster on a scenario, and report what it did and cost.")
        {
            scenarioArgument, speed, output, report, noPacing, worldFile,
        };
        command.SetAction(async (parseResult, ct) =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            Scenario scenario;
            try
            {
                scenario = parseResult.GetValue(scenarioArgument) is { } file ? ScenarioReader.ReadFile(file.FullName) : ScenarioReader.ReadDefault();
            }
            catch (ScenarioException e)
            {
                await stderr.WriteLineAsync($"karpenter-sim simulate: {e.Message}");
                return 2;
            }

            var world = parseResult.GetValue(worldFile)?.FullName;
            try
            {
                if (world is not null)
                {
                    WorldFile.Apply(world, new SimulatedWorldOptions());
                }
            }
            catch (ScenarioException e)
            {
                await stderr.WriteLineAsync($"karpenter-sim simulate: {e.Message}");
                return 2;
            }

            var json = parseResult.GetValue(output) == "json";
            var view = json ? null : LiveView.Create(stdout);
            var reportFile = parseResult.GetValue(report)?.FullName ?? Path.GetFullPath($"simulation-{scenario.Name}.html");
            var session = new SimulationSession(scenario, parseResult.GetValue(speed) ?? scenario.Speed) { Pacing = !parseResult.GetValue(noPacing), WorldFile = world };
            RunReport result;
            try
            {
                if (view is null)
                {
                    result = await session.RunAsync(null, ct);
                }
                else
                {
                    await view.IntroAsync(scenario, session.Speed);
                    result = await view.RunAsync(session, ct);
                }
            }
            catch (ScenarioException e)
            {
                await stderr.WriteLineAsync($"karpenter-sim simulate: {e.Message}");
                return 2;
            }
            catch (SimulationStartException e)
            {
                await stderr.WriteLineAsync($"karpenter-sim simulate: {e.Message}");
                return 1;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await stderr.WriteLineAsync("karpenter-sim simulate: interrupted.");
                return 130;
            }

            await File.WriteAllTextAsync(reportFile, HtmlReport.Render(result), CancellationToken.None);
            if (json)
            {
                await stdout.WriteLineAsync(JsonReport.Render(result));
                await stderr.WriteLineAsync($"HTML report: {reportFile}");
            }
            else
            {
                await view!.SummaryAsync(result);
                await stdout.WriteLineAsync($"HTML report: {reportFile}");
            }

            if (result.PodsPendingAtEnd > 0)
            {
                await stderr.WriteLineAsync($"karpenter-sim simulate: {result.PodsPendingAtEnd.ToString(CultureInfo.InvariantCulture)} pod(s) were never scheduled; see the problems in the report.");
                return 3;
            }

            return 0;
        });
        return command;
    }
}

/// <summary>The world or the operator could not start (a port, a setting, the operator's option validation).</summary>
internal sealed class SimulationStartException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>One simulation: a world on an accelerated clock with the operator in it, running one scenario.</summary>
internal sealed class SimulationSession(Scenario scenario, double speed)
{
    /// <summary>An item waiting this long (simulated) in one of the operator's work queues means it lags.</summary>
    private static readonly TimeSpan BacklogWait = TimeSpan.FromSeconds(2);

    /// <summary>This many items waiting over all the operator's work queues means it lags.</summary>
    private const long BacklogDepth = 200;

    public double Speed { get; } = speed;

    /// <summary>Slow the clock while the world or the operator lags behind it (<see cref="ClockGovernor"/>).</summary>
    public bool Pacing { get; init; } = true;

    /// <summary>See <see cref="ScenarioRunOptions.SettleWindow"/>.</summary>
    public TimeSpan SettleWindow { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A world description to start from (see <see cref="World.WorldFile"/>); null: the default world.</summary>
    public string? WorldFile { get; init; }

    /// <summary>See <see cref="ScenarioRunOptions.SampleInterval"/>.</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Called with the world at every sample (tests check invariants such as NodePool limits here).</summary>
    public Action<SimulatedWorld, Sample>? Observe { get; init; }

    /// <summary>Called with the world after the scenario's end, before it stops (tests look for leaked instances here).</summary>
    public Func<SimulatedWorld, CancellationToken, Task>? AtEnd { get; init; }

    public Scenario Scenario { get; } = scenario;

    /// <summary>The operator's and the world's warnings and errors (kept out of the live view).</summary>
    public CollectedLogs Logs { get; } = new();

    /// <summary>The simulated cluster's and the emulators' warnings and errors, kept apart from the operator's.</summary>
    public CollectedLogs WorldLogs { get; } = new();

    public async Task<RunReport> RunAsync(Action<Sample, IReadOnlyList<string>>? onSample, CancellationToken cancellationToken)
    {
        using var loggers = new LoggerFactory([WorldLogs]);
        SimulatedWorld world;
        try
        {
            var options = new SimulatedWorldOptions { Speed = Speed, LoggerFactory = loggers };
            if (WorldFile is not null)
            {
                World.WorldFile.Apply(WorldFile, options);
            }

            options.InstanceTypeCatalogPath = Scenario.CatalogPath ?? options.InstanceTypeCatalogPath;
            world = await SimulatedWorld.StartAsync(options, cancellationToken);
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidOperationException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new SimulationStartException($"the simulated world could not start: {e.Message}", e);
        }

        await using (world)
        {
            Microsoft.AspNetCore.Builder.WebApplication app;
            try
            {
                app = await OperatorLauncher.StartAsync(world, settings: Scenario.Settings.ToDictionary(s => s.Key, s => (string?)s.Value, StringComparer.Ordinal), logging: b =>
                {
                    b.ClearProviders();
                    b.AddProvider(Logs);
                }, cancellationToken: cancellationToken);
            }
            catch (OperatorSettingsException e) when (Scenario.SettingsPosition is { } position)
            {
                throw new ScenarioException(position, $"the operator refused the scenario's settings: {string.Join("; ", e.Problems)}", e);
            }
            catch (OperatorSettingsException e)
            {
                throw new SimulationStartException($"the operator refused its settings: {string.Join("; ", e.Problems)}", e);
            }
            catch (OptionsValidationException e)
            {
                throw new SimulationStartException($"the operator refused its options: {string.Join("; ", e.Failures)}", e);
            }
            catch (TimeoutException e)
            {
                throw new SimulationStartException($"the operator did not get ready: {e.Message}", e);
            }

            var probe = new LowerBoundProbe(world, app.Services.GetRequiredService<ICloudProvider>());
            var freshPlan = new FreshPlanProbe(world, app.Services.GetRequiredService<ICloudProvider>());
            using var backlog = new OperatorBacklog(app.Services.GetRequiredService<IMeterFactory>(), BacklogWait, BacklogDepth);
            await using var governor = Pacing && world.AcceleratedClock is { } clock ? new ClockGovernor(clock, [backlog.Pressure]) : null;
            governor?.Start();
            var runner = new ScenarioRunner(Scenario, world, new ScenarioRunOptions
            {
                OnSample = (sample, events) =>
                {
                    Observe?.Invoke(world, sample);
                    onSample?.Invoke(sample, events);
                },
                LowerBound = probe.EstimateAsync,
                FreshPlan = freshPlan.PlanAsync,
                SettleWindow = SettleWindow,
                SampleInterval = SampleInterval,
            });
            var report = await runner.RunAsync(cancellationToken);
            if (AtEnd is { } atEnd)
            {
                await atEnd(world, cancellationToken);
            }

            string[] conflicts = [.. new[] { ("operator", Logs.ConflictSummary()), ("simulated cluster", WorldLogs.ConflictSummary()) }
                .Where(c => c.Item2 is not null).Select(c => $"log: {c.Item1}: {c.Item2}")];
            return report with
            {
                Problems = [.. report.Problems, .. conflicts, .. Logs.Entries.TakeLast(20).Select(l => "log: " + l), .. WorldLogs.Entries.TakeLast(10).Select(l => "log: simulated cluster: " + l)],
                ReconcileConflicts = Logs.Conflicts,
            };
        }
    }
}

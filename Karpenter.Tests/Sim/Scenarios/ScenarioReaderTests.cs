using System.Text.Json.Nodes;
using Karpenter.Sim.Scenarios;

namespace Karpenter.Tests.Sim.Scenarios;

/// <summary>Scenario files: what they mean, and the message a user gets for each kind of mistake (with the file position).</summary>
public sealed class ScenarioReaderTests
{
    private static readonly string[] SeedFiles = ["ec2nodeclass-default-ec2.yaml", "nodepool-general-purpose.yaml"];

    [Fact]
    public void The_default_scenario_holds_the_seed_manifests_as_they_are_three_workloads_and_a_spot_interruption()
    {
        var scenario = ScenarioReader.ReadDefault();

        Assert.Equal("default", scenario.Name);
        Assert.Equal(TimeSpan.FromHours(1), scenario.Duration);
        Assert.Equal(60, scenario.Speed);
        Assert.Null(scenario.CatalogPath);
        var seed = Path.Combine(RepositoryRoot(), "examples", "scenarios");
        var expected = SeedFiles
            .Select(f => ScenarioReader.Read($"manifests: [{{file: {f}}}]", "inline.yaml", seed).Manifests.Single().Body.ToJsonString())
            .ToList();
        Assert.Equal(expected, scenario.Manifests.Select(m => m.Body.ToJsonString()));
        Assert.Equal(["web", "api", "batch"], scenario.Workloads.Select(w => w.Name));
        Assert.Contains(scenario.Timeline, s => s is ScaleStep { Workload: "web", Replicas: 30 } && s.At == TimeSpan.FromMinutes(5));
        Assert.Single(scenario.CloudEvents.OfType<SpotInterruption>());
    }

    [Fact]
    public void Every_example_scenario_reads()
    {
        var directory = Path.Combine(RepositoryRoot(), "examples", "scenarios");
        var files = Directory.GetFiles(directory, "*.yaml").Where(f => IsScenario(f)).ToList();
        Assert.True(files.Count >= 4, $"expected the example scenarios in {directory}");
        foreach (var file in files)
        {
            var scenario = ScenarioReader.ReadFile(file);
            Assert.NotEmpty(scenario.Manifests);
        }
    }

    [Fact]
    public void A_full_scenario_reads_into_its_model()
    {
        var scenario = Read("""
            name: demo
            duration: 1h30m
            speed: 120
            settings: { FEATURE_GATES: SpotToSpotConsolidation=true }
            manifests:
              - inline: { apiVersion: karpenter.sh/v1, kind: NodePool, metadata: { name: a }, spec: {} }
            workloads:
              - name: web
                namespace: shop
                replicas: 3
                cpu: 500m
                memory: 1Gi
                nodeSelector: { karpenter.sh/capacity-type: spot }
                tolerations: [{ key: dedicated, operator: Exists }]
                topologySpreadConstraints: [{ maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule }]
                disruptionBudget: { minAvailable: 50% }
            timeline:
              - { at: 20m, delete: { workload: web } }
              - { at: 10m, scale: { workload: web, replicas: 9 } }
            cloud:
              - { at: 5m, until: 15m, insufficientCapacity: { instanceType: m5.large, capacityType: spot } }
              - { at: 12m, spotInterruption: { count: 2 } }
            """);

        Assert.Equal(TimeSpan.FromMinutes(90), scenario.Duration);
        Assert.Equal(120, scenario.Speed);
        Assert.Equal("SpotToSpotConsolidation=true", scenario.Settings["FEATURE_GATES"]);
        var web = Assert.Single(scenario.Workloads);
        Assert.Equal(("shop", 3, "500m", "1Gi"), (web.Namespace, web.Replicas, web.Cpu, web.Memory));
        Assert.Equal("spot", web.NodeSelector["karpenter.sh/capacity-type"]);
        Assert.Equal("50%", web.DisruptionBudget!.MinAvailable);
        Assert.Equal("DoNotSchedule", web.TopologySpreadConstraints![0]!["whenUnsatisfiable"]!.GetValue<string>());
        Assert.IsType<ScaleStep>(scenario.Timeline[0]);
        Assert.IsType<DeleteStep>(scenario.Timeline[1]);
        Assert.Equal(new InsufficientCapacity(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15), "m5.large", null, "spot", scenario.CloudEvents[0].Position), scenario.CloudEvents[0]);
        Assert.Equal(2, Assert.IsType<SpotInterruption>(scenario.CloudEvents[1]).Count);
    }

    [Theory]
    [InlineData("name: x\nworkloads:\n  - name: web\n    replica: 3\n", "s.yaml:4:5: unknown field 'replica' in a workload (did you mean 'replicas'?)")]
    [InlineData("name: x\nduraton: 1h\n", "s.yaml:2:1: unknown field 'duraton' in the scenario (did you mean 'duration'?)")]
    [InlineData("name: x\nduration: an hour\n", "s.yaml:2:11: 'duration' must be a duration such as 90s, 10m or 1h30m")]
    [InlineData("name: x\nworkloads: [{name: web, replicas: many}]\n", "s.yaml:2:35: 'replicas' must be a whole number (was 'many')")]
    [InlineData("name: x\nworkloads: [{name: web, cpu: lots}]\n", "s.yaml:2:30: 'cpu' must be a Kubernetes quantity")]
    [InlineData("name: x\ntimeline: [{at: 1m, scale: {workload: api, replicas: 2}}]\n", "s.yaml:2:12: the timeline names workload 'api', which the scenario does not declare (declared: none)")]
    [InlineData("name: x\nduration: 10m\nworkloads: [{name: a}]\ntimeline: [{at: 20m, delete: {workload: a}}]\n", "s.yaml:4:12: this happens after the end of the scenario (duration 10m00s)")]
    [InlineData("name: x\ncloud: [{at: 5m, insufficientCapacity: {zone: us-east-1a}}]\n", "s.yaml:2:9: insufficientCapacity needs 'until', later than 'at'")]
    [InlineData("name: x\nmanifests: [{file: missing.yaml}]\n", "s.yaml:2:20: cannot read the manifest file 'missing.yaml'")]
    [InlineData("name: x\nmanifests:\n  - inline: {kind: NodePool, metadata: {name: a}}\n", "s.yaml:3:13: the object has no 'apiVersion'")]
    [InlineData("name: x\nworkloads: [{name: Web}]\n", "s.yaml:2:20: workload name 'Web' must be a DNS label")]
    [InlineData("name: x\nworkloads:\n  - name: a\n    disruptionBudget: {minAvailable: 1, maxUnavailable: 1}\n", "s.yaml:4:23: a disruption budget has exactly one of")]
    [InlineData("name: x\nworkloads: [\n", "s.yaml:3:1: not valid YAML")]
    [InlineData("name: x\nsettings: {CLUSTER_NAME: other}\n", "s.yaml:2:12: unknown field 'CLUSTER_NAME' in 'settings' (operator settings by environment-variable name)")]
    public void A_mistake_is_reported_with_its_file_position(string yaml, string expected)
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Read(yaml, "s.yaml", Path.GetTempPath()));
        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_schema_documents_every_field_the_reader_accepts()
    {
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "examples", "scenarios", "scenario.schema.json")))!;
        var top = schema["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal);
        Assert.Equal(["catalog", "cloud", "description", "duration", "manifests", "name", "settings", "speed", "timeline", "workloads"], top);
        var settings = schema["properties"]!["settings"]!["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal);
        Assert.Equal(ScenarioReader.ScenarioSettings.Order(StringComparer.Ordinal), settings);
        var workload = schema["properties"]!["workloads"]!["items"]!["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal);
        Assert.Equal(["affinity", "cpu", "disruptionBudget", "labels", "memory", "name", "namespace", "nodeSelector", "replicas", "tolerations", "topologySpreadConstraints"], workload);
        foreach (var field in workload.Where(f => f != "name"))
        {
            // The reader refuses what the schema does not list, and accepts what it lists.
            var e = Record.Exception(() => ScenarioReader.Read($"workloads: [{{name: a, {field}: {Sample(field)}}}]", "s.yaml", Path.GetTempPath()));
            Assert.Null(e);
        }
    }

    private static string Sample(string field) => field switch
    {
        "namespace" => "n",
        "replicas" => "1",
        "cpu" => "1",
        "memory" => "1Gi",
        "labels" or "nodeSelector" or "affinity" => "{}",
        "tolerations" or "topologySpreadConstraints" => "[]",
        "disruptionBudget" => "{minAvailable: 1}",
        _ => throw new ArgumentOutOfRangeException(nameof(field), field, null),
    };

    private static Scenario Read(string yaml) => ScenarioReader.Read(yaml, "test.yaml", Path.GetTempPath());

    private static bool IsScenario(string file) => File.ReadAllText(file).Contains("\nname:", StringComparison.Ordinal) || File.ReadAllText(file).StartsWith("name:", StringComparison.Ordinal);

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Karpenter.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (Karpenter.sln) is not above the test assembly");
    }
}

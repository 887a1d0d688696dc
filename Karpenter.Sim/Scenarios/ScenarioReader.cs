using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s.Models;
using Karpenter.Entities;
using Karpenter.Sim.KubeApi.Json;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Karpenter.Sim.Scenarios;

/// <summary>
/// Reads scenario files (YAML). Every problem (a syntax error, an unknown or misspelt field, a value of the wrong
/// type, a duration that does not parse, a timeline step naming no workload, a manifest file that is missing) is a
/// <see cref="ScenarioException"/> naming the file, line and column, and what was expected.
/// </summary>
public static partial class ScenarioReader
{
    /// <summary>The name of the built-in scenario <c>make run</c> runs.</summary>
    public const string DefaultScenarioName = "default.yaml";

    private static readonly string[] TopFields = ["name", "description", "duration", "speed", "catalog", "settings", "manifests", "workloads", "timeline", "cloud"];

    /// <summary>
    /// The operator settings a scenario may set (by environment-variable name): those that change what Karpenter
    /// decides. The rest (endpoints, ports, the cluster's name and addresses) describe the world and are the world's.
    /// </summary>
    internal static readonly string[] ScenarioSettings =
        ["FEATURE_GATES", "BATCH_MAX_DURATION", "BATCH_IDLE_DURATION", "PREFERENCE_POLICY", "MIN_VALUES_POLICY", "VM_MEMORY_OVERHEAD_PERCENT", "RESERVED_ENIS"];
    private static readonly string[] ManifestFields = ["file", "inline"];
    private static readonly string[] WorkloadFields = ["name", "namespace", "replicas", "cpu", "memory", "labels", "nodeSelector", "tolerations", "affinity", "topologySpreadConstraints", "disruptionBudget"];
    private static readonly string[] BudgetFields = ["minAvailable", "maxUnavailable"];
    private static readonly string[] TimelineFields = ["at", "scale", "delete"];
    private static readonly string[] ScaleFields = ["workload", "replicas"];
    private static readonly string[] DeleteFields = ["workload"];
    private static readonly string[] CloudFields = ["at", "until", "spotInterruption", "insufficientCapacity"];
    private static readonly string[] SpotFields = ["count", "instanceType"];
    private static readonly string[] CapacityFields = ["instanceType", "zone", "capacityType"];

    /// <summary>Reads a scenario file; relative paths in it (manifest files, the catalog) are relative to its directory.</summary>
    public static Scenario ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScenarioException($"cannot read the scenario file {path}: {e.Message}", e);
        }

        return Read(text, path, Path.GetDirectoryName(Path.GetFullPath(path)) ?? Directory.GetCurrentDirectory());
    }

    /// <summary>The built-in default scenario (the seed manifests, three Deployments scaling up then down, a spot interruption).</summary>
    public static Scenario ReadDefault() => ReadEmbedded(DefaultScenarioName);

    /// <summary>Reads one of the scenarios embedded in the simulator.</summary>
    public static Scenario ReadEmbedded(string name)
    {
        using var stream = typeof(ScenarioReader).Assembly.GetManifestResourceStream("Karpenter.Sim.Scenarios." + name)
            ?? throw new ScenarioException($"there is no built-in scenario named '{name}'");
        using var reader = new StreamReader(stream);
        return Read(reader.ReadToEnd(), "(built-in) " + name, Directory.GetCurrentDirectory());
    }

    /// <summary>Reads scenario text; <paramref name="file"/> names it in messages, <paramref name="baseDirectory"/> resolves relative paths.</summary>
    public static Scenario Read(string text, string file, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(text);
        var context = new Context(file, baseDirectory);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new ScenarioException(context.At(e.Start), $"not valid YAML: {Innermost(e).Message}", e);
        }

        if (stream.Documents.Count != 1)
        {
            throw new ScenarioException($"{file}: a scenario file holds exactly one YAML document (found {stream.Documents.Count})");
        }

        var root = context.Mapping(stream.Documents[0].RootNode, "the scenario");
        context.OnlyFields(root, TopFields, "the scenario");
        var workloads = context.List(root, "workloads", ReadWorkload);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var workload in workloads)
        {
            if (!names.Add(workload.Namespace + "/" + workload.Name))
            {
                throw new ScenarioException(workload.Position, $"workload '{workload.Name}' in namespace '{workload.Namespace}' is declared twice");
            }
        }

        var timeline = context.List(root, "timeline", ReadTimelineStep);
        foreach (var step in timeline)
        {
            if (!workloads.Any(w => w.Name == step.Workload))
            {
                throw new ScenarioException(step.Position, $"the timeline names workload '{step.Workload}', which the scenario does not declare (declared: {Join(workloads.Select(w => w.Name))})");
            }
        }

        var duration = context.Duration(root, "duration") ?? TimeSpan.FromHours(1);
        if (duration <= TimeSpan.Zero)
        {
            throw new ScenarioException(context.At(root.Children[new YamlScalarNode("duration")]), "duration must be positive");
        }

        var cloud = context.List(root, "cloud", ReadCloudEvent);
        foreach (var late in timeline.Where(s => s.At > duration).Cast<object>().Concat(cloud.Where(c => c.At > duration)))
        {
            var position = late is TimelineStep s ? s.Position : ((CloudEvent)late).Position;
            throw new ScenarioException(position, $"this happens after the end of the scenario (duration {Format(duration)})");
        }

        var speed = context.Number(root, "speed") ?? 60;
        if (!(speed > 0) || double.IsInfinity(speed))
        {
            throw new ScenarioException(context.At(root.Children[new YamlScalarNode("speed")]), "speed must be a positive number of simulated seconds per real second");
        }

        return new Scenario
        {
            Name = context.String(root, "name") ?? Path.GetFileNameWithoutExtension(file),
            Description = context.String(root, "description"),
            Duration = duration,
            Speed = speed,
            CatalogPath = ReadCatalog(context, root),
            Settings = ReadSettings(context, root),
            SettingsPosition = root.Children.TryGetValue(new YamlScalarNode("settings"), out var settings) ? context.At(settings) : null,
            Manifests = [.. context.List(root, "manifests", ReadManifests).SelectMany(m => m)],
            Workloads = workloads,
            Timeline = [.. timeline.OrderBy(s => s.At)],
            CloudEvents = [.. cloud.OrderBy(c => c.At)],
            Source = file,
        };
    }

    private static Dictionary<string, string> ReadSettings(Context context, YamlMappingNode root)
    {
        var settings = context.StringMap(root, "settings");
        if (settings.Count > 0)
        {
            context.OnlyFields(context.Mapping(root.Children[new YamlScalarNode("settings")], "'settings'"), ScenarioSettings, "'settings' (operator settings by environment-variable name)");
        }

        return settings;
    }

    private static string? ReadCatalog(Context context, YamlMappingNode root)
    {
        var catalog = context.String(root, "catalog");
        if (catalog is null || catalog == "embedded")
        {
            return null;
        }

        var path = Path.GetFullPath(Path.Combine(context.BaseDirectory, catalog));
        if (!File.Exists(path))
        {
            throw new ScenarioException(context.At(root.Children[new YamlScalarNode("catalog")]), $"the catalog file '{catalog}' does not exist (looked at {path}); write 'embedded' or leave it out for the built-in catalog");
        }

        return path;
    }

    private static IReadOnlyList<ScenarioManifest> ReadManifests(Context context, YamlNode node)
    {
        var map = context.Mapping(node, "a manifest entry");
        context.OnlyFields(map, ManifestFields, "a manifest entry");
        var file = context.String(map, "file");
        var inline = map.Children.TryGetValue(new YamlScalarNode("inline"), out var inlineNode) ? inlineNode : null;
        if ((file is null) == (inline is null))
        {
            throw new ScenarioException(context.At(map), "a manifest entry has exactly one of 'file' (a YAML file of Kubernetes objects, relative to the scenario) and 'inline' (one object)");
        }

        if (inline is not null)
        {
            return [ToManifest(context, inline, context.At(inline))];
        }

        var path = Path.GetFullPath(Path.Combine(context.BaseDirectory, file!));
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScenarioException(context.At(map.Children[new YamlScalarNode("file")]), $"cannot read the manifest file '{file}' ({path}): {e.Message}", e);
        }

        var documents = new YamlStream();
        var inner = new Context(path, Path.GetDirectoryName(path)!);
        try
        {
            documents.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new ScenarioException(inner.At(e.Start), $"not valid YAML: {Innermost(e).Message}", e);
        }

        return [.. documents.Documents.Where(d => d.RootNode is not YamlScalarNode { Value: null or "" }).Select(d => ToManifest(inner, d.RootNode, inner.At(d.RootNode)))];
    }

    private static ScenarioManifest ToManifest(Context context, YamlNode node, SourcePosition position)
    {
        var map = context.Mapping(node, "a Kubernetes object");
        if (YamlToJson.ToJsonNode(map) is not JsonObject obj)
        {
            throw new ScenarioException(position, "a Kubernetes object must be a mapping");
        }

        foreach (var required in new[] { "apiVersion", "kind" })
        {
            if (obj[required] is not JsonValue value || !value.TryGetValue<string>(out var text) || string.IsNullOrWhiteSpace(text))
            {
                throw new ScenarioException(position, $"the object has no '{required}'");
            }
        }

        if (obj["metadata"]?["name"] is not JsonValue name || !name.TryGetValue<string>(out var n) || string.IsNullOrWhiteSpace(n))
        {
            throw new ScenarioException(position, $"the {obj["kind"]} has no metadata.name");
        }

        return new ScenarioManifest(obj, position);
    }

    private static Workload ReadWorkload(Context context, YamlNode node)
    {
        var map = context.Mapping(node, "a workload");
        context.OnlyFields(map, WorkloadFields, "a workload");
        var name = context.String(map, "name") ?? throw new ScenarioException(context.At(map), "a workload needs a 'name'");
        if (!DnsLabel().IsMatch(name))
        {
            throw new ScenarioException(context.At(map.Children[new YamlScalarNode("name")]), $"workload name '{name}' must be a DNS label (lower-case letters, digits and '-', at most 63 characters)");
        }

        var replicas = context.Integer(map, "replicas") ?? 1;
        if (replicas < 0)
        {
            throw new ScenarioException(context.At(map.Children[new YamlScalarNode("replicas")]), "replicas must not be negative");
        }

        return new Workload
        {
            Name = name,
            Namespace = context.String(map, "namespace") ?? "default",
            Replicas = replicas,
            Cpu = context.Quantity(map, "cpu") ?? "100m",
            Memory = context.Quantity(map, "memory") ?? "128Mi",
            Labels = context.StringMap(map, "labels"),
            NodeSelector = context.StringMap(map, "nodeSelector"),
            Tolerations = Context.Json(map, "tolerations") is { } t ? t as JsonArray ?? throw new ScenarioException(context.At(map.Children[new YamlScalarNode("tolerations")]), "tolerations must be a list") : null,
            Affinity = Context.Json(map, "affinity") is { } a ? a as JsonObject ?? throw new ScenarioException(context.At(map.Children[new YamlScalarNode("affinity")]), "affinity must be a mapping") : null,
            TopologySpreadConstraints = Context.Json(map, "topologySpreadConstraints") is { } s ? s as JsonArray ?? throw new ScenarioException(context.At(map.Children[new YamlScalarNode("topologySpreadConstraints")]), "topologySpreadConstraints must be a list") : null,
            DisruptionBudget = ReadBudget(context, map),
            Position = context.At(map),
        };
    }

    private static DisruptionBudget? ReadBudget(Context context, YamlMappingNode workload)
    {
        if (!workload.Children.TryGetValue(new YamlScalarNode("disruptionBudget"), out var node))
        {
            return null;
        }

        var map = context.Mapping(node, "a disruption budget");
        context.OnlyFields(map, BudgetFields, "a disruption budget");
        var min = context.String(map, "minAvailable");
        var max = context.String(map, "maxUnavailable");
        if ((min is null) == (max is null))
        {
            throw new ScenarioException(context.At(map), "a disruption budget has exactly one of 'minAvailable' and 'maxUnavailable' (a count or a percentage such as 50%)");
        }

        foreach (var (field, value) in new[] { ("minAvailable", min), ("maxUnavailable", max) })
        {
            if (value is not null && !IntOrPercent().IsMatch(value))
            {
                throw new ScenarioException(context.At(map.Children[new YamlScalarNode(field)]), $"{field} must be a non-negative count or a percentage such as 50% (was '{value}')");
            }
        }

        return new DisruptionBudget(min, max);
    }

    private static TimelineStep ReadTimelineStep(Context context, YamlNode node)
    {
        var map = context.Mapping(node, "a timeline step");
        context.OnlyFields(map, TimelineFields, "a timeline step");
        var at = context.Duration(map, "at") ?? throw new ScenarioException(context.At(map), "a timeline step needs 'at' (a time since the start, such as 10m)");
        var actions = TimelineFields.Skip(1).Where(f => map.Children.ContainsKey(new YamlScalarNode(f))).ToList();
        if (actions.Count != 1)
        {
            throw new ScenarioException(context.At(map), "a timeline step has exactly one of 'scale' and 'delete'");
        }

        var body = context.Mapping(map.Children[new YamlScalarNode(actions[0])], actions[0]);
        if (actions[0] == "scale")
        {
            context.OnlyFields(body, ScaleFields, "scale");
            var replicas = context.Integer(body, "replicas") ?? throw new ScenarioException(context.At(body), "scale needs 'replicas'");
            if (replicas < 0)
            {
                throw new ScenarioException(context.At(body.Children[new YamlScalarNode("replicas")]), "replicas must not be negative");
            }

            return new ScaleStep(at, RequiredWorkload(context, body), replicas, context.At(map));
        }

        context.OnlyFields(body, DeleteFields, "delete");
        return new DeleteStep(at, RequiredWorkload(context, body), context.At(map));
    }

    private static string RequiredWorkload(Context context, YamlMappingNode body) =>
        context.String(body, "workload") ?? throw new ScenarioException(context.At(body), "name the 'workload' to change");

    private static CloudEvent ReadCloudEvent(Context context, YamlNode node)
    {
        var map = context.Mapping(node, "a cloud event");
        context.OnlyFields(map, CloudFields, "a cloud event");
        var at = context.Duration(map, "at") ?? throw new ScenarioException(context.At(map), "a cloud event needs 'at' (a time since the start, such as 10m)");
        var kinds = CloudFields.Skip(2).Where(f => map.Children.ContainsKey(new YamlScalarNode(f))).ToList();
        if (kinds.Count != 1)
        {
            throw new ScenarioException(context.At(map), "a cloud event has exactly one of 'spotInterruption' and 'insufficientCapacity'");
        }

        var body = map.Children[new YamlScalarNode(kinds[0])] is YamlScalarNode { Value: null or "" } ? new YamlMappingNode() : context.Mapping(map.Children[new YamlScalarNode(kinds[0])], kinds[0]);
        var until = context.Duration(map, "until");
        if (kinds[0] == "spotInterruption")
        {
            if (until is not null)
            {
                throw new ScenarioException(context.At(map.Children[new YamlScalarNode("until")]), "'until' belongs to insufficientCapacity; a spot interruption happens at one time");
            }

            context.OnlyFields(body, SpotFields, "spotInterruption");
            var count = context.Integer(body, "count") ?? 1;
            if (count < 1)
            {
                throw new ScenarioException(context.At(body.Children[new YamlScalarNode("count")]), "count must be at least 1");
            }

            return new SpotInterruption(at, count, context.String(body, "instanceType"), context.At(map));
        }

        context.OnlyFields(body, CapacityFields, "insufficientCapacity");
        if (until is null || until <= at)
        {
            throw new ScenarioException(context.At(map), "insufficientCapacity needs 'until', later than 'at'");
        }

        var capacityType = context.String(body, "capacityType");
        if (capacityType is not (null or "spot" or "on-demand"))
        {
            throw new ScenarioException(context.At(body.Children[new YamlScalarNode("capacityType")]), $"capacityType is 'spot' or 'on-demand' (was '{capacityType}')");
        }

        return new InsufficientCapacity(at, until.Value, context.String(body, "instanceType"), context.String(body, "zone"), capacityType, context.At(map));
    }

    private static Exception Innermost(Exception e) => e.InnerException is YamlException inner ? Innermost(inner) : e;

    private static string Join(IEnumerable<string> values)
    {
        var list = values.ToList();
        return list.Count == 0 ? "none" : string.Join(", ", list);
    }

    internal static string Format(TimeSpan duration) =>
        duration.TotalHours >= 1 ? $"{(int)duration.TotalHours}h{duration.Minutes:00}m" : duration.TotalMinutes >= 1 ? $"{(int)duration.TotalMinutes}m{duration.Seconds:00}s" : $"{duration.TotalSeconds:0.#}s";

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^[0-9]+%?$")]
    private static partial Regex IntOrPercent();

    /// <summary>Positions and typed access to the YAML of one file.</summary>
    internal sealed class Context(string file, string baseDirectory)
    {
        public string BaseDirectory { get; } = baseDirectory;

        public SourcePosition At(Mark mark) => new(file, mark.Line, mark.Column);

        public SourcePosition At(YamlNode node) => At(node.Start);

        public YamlMappingNode Mapping(YamlNode node, string what) =>
            node as YamlMappingNode ?? throw new ScenarioException(At(node), $"{what} must be a mapping (key: value lines)");

        public void OnlyFields(YamlMappingNode map, string[] allowed, string what)
        {
            foreach (var key in map.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value ?? key.ToString();
                if (!allowed.Contains(name, StringComparer.Ordinal))
                {
                    var near = allowed.FirstOrDefault(a => string.Equals(a, name, StringComparison.OrdinalIgnoreCase) || Distance(a, name) <= 2);
                    var hint = near is null ? string.Empty : $" (did you mean '{near}'?)";
                    throw new ScenarioException(At(key), $"unknown field '{name}' in {what}{hint}; known fields: {string.Join(", ", allowed)}");
                }
            }
        }

        public List<T> List<T>(YamlMappingNode map, string field, Func<Context, YamlNode, T> read)
        {
            if (!map.Children.TryGetValue(new YamlScalarNode(field), out var node) || node is YamlScalarNode { Value: null or "" })
            {
                return [];
            }

            if (node is not YamlSequenceNode sequence)
            {
                throw new ScenarioException(At(node), $"'{field}' must be a list (lines starting with '- ')");
            }

            return [.. sequence.Children.Select(item => read(this, item))];
        }

        public string? String(YamlMappingNode map, string field)
        {
            if (!map.Children.TryGetValue(new YamlScalarNode(field), out var node))
            {
                return null;
            }

            return node is YamlScalarNode scalar ? scalar.Value : throw new ScenarioException(At(node), $"'{field}' must be a single value, not a list or mapping");
        }

        public int? Integer(YamlMappingNode map, string field)
        {
            var text = String(map, field);
            if (text is null)
            {
                return null;
            }

            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw new ScenarioException(At(map.Children[new YamlScalarNode(field)]), $"'{field}' must be a whole number (was '{text}')");
        }

        public double? Number(YamlMappingNode map, string field)
        {
            var text = String(map, field);
            if (text is null)
            {
                return null;
            }

            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw new ScenarioException(At(map.Children[new YamlScalarNode(field)]), $"'{field}' must be a number (was '{text}')");
        }

        public TimeSpan? Duration(YamlMappingNode map, string field)
        {
            var text = String(map, field);
            if (text is null)
            {
                return null;
            }

            return GoDuration.TryParse(text, out var duration, out var error) && duration >= TimeSpan.Zero
                ? duration
                : throw new ScenarioException(At(map.Children[new YamlScalarNode(field)]), $"'{field}' must be a duration such as 90s, 10m or 1h30m (was '{text}': {error ?? "negative"})");
        }

        public string? Quantity(YamlMappingNode map, string field)
        {
            var text = String(map, field);
            if (text is null)
            {
                return null;
            }

            try
            {
                _ = new ResourceQuantity(text).ToDecimal();
                return text;
            }
            catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
            {
                throw new ScenarioException(At(map.Children[new YamlScalarNode(field)]), $"'{field}' must be a Kubernetes quantity such as 500m, 2, 512Mi or 4Gi (was '{text}')", e);
            }
        }

        public Dictionary<string, string> StringMap(YamlMappingNode map, string field)
        {
            if (!map.Children.TryGetValue(new YamlScalarNode(field), out var node))
            {
                return new Dictionary<string, string>();
            }

            var inner = Mapping(node, $"'{field}'");
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in inner.Children)
            {
                if (key is not YamlScalarNode { Value: { } k } || value is not YamlScalarNode { Value: { } v })
                {
                    throw new ScenarioException(At(key), $"'{field}' maps names to single values");
                }

                result[k] = v;
            }

            return result;
        }

        public static JsonNode? Json(YamlMappingNode map, string field) =>
            map.Children.TryGetValue(new YamlScalarNode(field), out var node) ? YamlToJson.ToJsonNode(node) : null;

        private static int Distance(string a, string b)
        {
            var previous = new int[b.Length + 1];
            var current = new int[b.Length + 1];
            for (var j = 0; j <= b.Length; j++)
            {
                previous[j] = j;
            }

            for (var i = 1; i <= a.Length; i++)
            {
                current[0] = i;
                for (var j = 1; j <= b.Length; j++)
                {
                    var cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                    current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
                }

                (previous, current) = (current, previous);
            }

            return previous[b.Length];
        }
    }
}

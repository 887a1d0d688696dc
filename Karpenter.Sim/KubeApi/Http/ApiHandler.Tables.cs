using System.Globalization;
using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Resources;
using Karpenter.Sim.KubeApi.Storage;

namespace Karpenter.Sim.KubeApi.Http;

/// <summary>A column of a server-side Table (meta.k8s.io/v1 TableColumnDefinition) and how to fill it.</summary>
internal sealed record TableColumn(string Name, string Type, string Format, string Description, int Priority, Func<JsonObject, DateTimeOffset, JsonNode?> Cell);

internal sealed partial class ApiHandler
{
    /// <summary>kubectl asks for <c>application/json;as=Table;v=v1;g=meta.k8s.io</c>.</summary>
    private static bool WantsTable(RequestScope scope) =>
        scope.Http.Request.Headers.Accept.Any(a => a is not null && a.Contains("as=Table", StringComparison.Ordinal)) &&
        scope.Info.Subresource is null or "status";

    private async Task WriteTableAsync(RequestScope scope, int status, IReadOnlyList<StoredObject> items, long? revision, string? next)
    {
        var table = await BuildTableAsync(scope.Type, items, scope.Query1("includeObject"), scope.Aborted);
        var metadata = new JsonObject();
        if (revision is { } rv)
        {
            metadata["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
        }

        if (next is not null)
        {
            metadata["continue"] = next;
        }

        table["metadata"] = metadata;
        await WriteJsonAsync(scope.Http, status, KubeJson.ToBytes(table));
    }

    private async Task<JsonObject> BuildTableAsync(ResourceType type, IReadOnlyList<StoredObject> items, string? includeObject, CancellationToken ct)
    {
        var columns = ColumnsFor(type);
        var now = Now;
        var definitions = new JsonArray();
        foreach (var column in columns)
        {
            definitions.Add(new JsonObject
            {
                ["name"] = column.Name,
                ["type"] = column.Type,
                ["format"] = column.Format,
                ["description"] = column.Description,
                ["priority"] = column.Priority,
            });
        }

        var rows = new JsonArray();
        var views = type.Converter is null
            ? items.Select(i => ServedJson(type, i)).ToList()
            : (await type.Converter.FromStorageAsync(items.Select(i => i.ToJson()).ToList(), ct)).ToList();
        foreach (var obj in views)
        {
            var cells = new JsonArray();
            foreach (var column in columns)
            {
                cells.Add(column.Cell(obj, now));
            }

            var row = new JsonObject { ["cells"] = cells };
            switch (includeObject)
            {
                case "None":
                    break;
                case "Object":
                    row["object"] = obj;
                    break;
                default:
                    row["object"] = new JsonObject
                    {
                        ["kind"] = "PartialObjectMetadata",
                        ["apiVersion"] = "meta.k8s.io/v1",
                        ["metadata"] = obj["metadata"]?.DeepClone(),
                    };
                    break;
            }

            rows.Add(row);
        }

        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = new JsonObject(),
            ["columnDefinitions"] = definitions,
            ["rows"] = rows,
        };
    }

    private static readonly TableColumn NameColumn = new("Name", "string", "name",
        "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
        0, (o, _) => o.StringAt("metadata", "name"));

    private static readonly TableColumn AgeColumn = new("Age", "string", "",
        "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.",
        0, (o, now) => Age(o.StringAt("metadata", "creationTimestamp"), now));

    private static IReadOnlyList<TableColumn> ColumnsFor(ResourceType type)
    {
        if (type.Custom is { } custom)
        {
            return CustomColumns(custom);
        }

        return (type.Group, type.Plural) switch
        {
            ("", "pods") =>
            [
                NameColumn,
                new("Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0, (o, _) => PodReady(o)),
                new("Status", "string", "", "The aggregate status of the containers in this pod.", 0, (o, _) => PodStatus(o)),
                new("Restarts", "string", "", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0, (o, _) => PodRestarts(o)),
                AgeColumn,
                new("IP", "string", "", "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", 1, (o, _) => o.StringAt("status", "podIP") ?? "<none>"),
                new("Node", "string", "", "NodeName is a request to schedule this pod onto a specific node.", 1, (o, _) => o.StringAt("spec", "nodeName") is { Length: > 0 } n ? n : "<none>"),
                new("Nominated Node", "string", "", "nominatedNodeName is set only when this pod preempts other pods on the node.", 1, (o, _) => o.StringAt("status", "nominatedNodeName") is { Length: > 0 } n ? n : "<none>"),
                new("Readiness Gates", "string", "", "If specified, all readiness gates will be evaluated for pod readiness.", 1, (o, _) => "<none>"),
            ],
            ("", "nodes") =>
            [
                NameColumn,
                new("Status", "string", "", "The status of the node", 0, (o, _) => NodeStatus(o)),
                new("Roles", "string", "", "The roles of the node", 0, (o, _) => NodeRoles(o)),
                AgeColumn,
                new("Version", "string", "", "Kubelet Version reported by the node.", 0, (o, _) => o.StringAt("status", "nodeInfo", "kubeletVersion") ?? ""),
                new("Internal-IP", "string", "", "List of addresses reachable to the node.", 1, (o, _) => NodeAddress(o, "InternalIP")),
                new("External-IP", "string", "", "List of addresses reachable to the node.", 1, (o, _) => NodeAddress(o, "ExternalIP")),
            ],
            ("", "namespaces") =>
            [
                NameColumn,
                new("Status", "string", "", "The status of the namespace", 0, (o, _) => o.StringAt("status", "phase") ?? ""),
                AgeColumn,
            ],
            ("apps", "deployments") =>
            [
                NameColumn,
                new("Ready", "string", "", "Number of the pod with ready state", 0,
                    (o, _) => $"{Count(o, "status", "readyReplicas")}/{Count(o, "spec", "replicas")}"),
                new("Up-to-date", "string", "", "Total number of non-terminated pods targeted by this deployment that have the desired template spec.", 0,
                    (o, _) => Count(o, "status", "updatedReplicas")),
                new("Available", "string", "", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.", 0,
                    (o, _) => Count(o, "status", "availableReplicas")),
                AgeColumn,
                .. TemplateColumns,
            ],
            ("apps", "replicasets") =>
            [
                NameColumn,
                new("Desired", "integer", "", "Replicas is the number of desired replicas.", 0, (o, _) => Count(o, "spec", "replicas")),
                new("Current", "integer", "", "Replicas is the most recently observed number of replicas.", 0, (o, _) => Count(o, "status", "replicas")),
                new("Ready", "integer", "", "The number of ready replicas for this replica set.", 0, (o, _) => Count(o, "status", "readyReplicas")),
                AgeColumn,
                .. TemplateColumns,
            ],
            _ =>
            [
                NameColumn,
                new("Created At", "date", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0,
                    (o, _) => o.StringAt("metadata", "creationTimestamp")),
            ],
        };
    }

    /// <summary>The wide columns of workloads: the template's containers and images, and the selector string.</summary>
    private static readonly TableColumn[] TemplateColumns =
    [
        new("Containers", "string", "", "Names of each container in the template.", 1, (o, _) => TemplateContainers(o, "name")),
        new("Images", "string", "", "Images referenced by each container in the template.", 1, (o, _) => TemplateContainers(o, "image")),
        new("Selector", "string", "", "Label selector for pods.", 1, (o, _) => SelectorString(o.At("spec", "selector") as JsonObject)),
    ];

    private static long Count(JsonObject obj, string section, string field) => obj.At(section, field) is JsonValue v ? v.GetValue<long>() : 0;

    private static string TemplateContainers(JsonObject obj, string field) =>
        string.Join(",", (obj.At("spec", "template", "spec", "containers") as JsonArray ?? []).OfType<JsonObject>().Select(c => c.GetString(field) ?? ""));

    private static string PodReady(JsonObject pod)
    {
        var total = pod.At("spec", "containers") is JsonArray c ? c.Count : 0;
        var ready = pod.At("status", "containerStatuses") is JsonArray statuses
            ? statuses.OfType<JsonObject>().Count(s => s.GetBool("ready") == true)
            : 0;
        return $"{ready}/{total}";
    }

    private static string PodStatus(JsonObject pod)
    {
        if (pod.At("metadata", "deletionTimestamp") is not null)
        {
            return "Terminating";
        }

        return pod.StringAt("status", "reason") ?? pod.StringAt("status", "phase") ?? "Pending";
    }

    private static string PodRestarts(JsonObject pod) =>
        (pod.At("status", "containerStatuses") is JsonArray statuses
            ? statuses.OfType<JsonObject>().Sum(s => s.GetLong("restartCount") ?? 0)
            : 0).ToString(CultureInfo.InvariantCulture);

    private static string NodeStatus(JsonObject node)
    {
        var ready = node.At("status", "conditions") is JsonArray conditions
            ? conditions.OfType<JsonObject>().FirstOrDefault(c => c.GetString("type") == "Ready")
            : null;
        var status = ready is null ? "Unknown" : ready.GetString("status") == "True" ? "Ready" : "NotReady";
        if (node.At("spec", "unschedulable") is JsonValue v && v.IsBool() && v.GetValue<bool>())
        {
            status += ",SchedulingDisabled";
        }

        return status;
    }

    private static string NodeRoles(JsonObject node)
    {
        var roles = new SortedSet<string>(StringComparer.Ordinal);
        if (node.At("metadata", "labels") is JsonObject labels)
        {
            foreach (var (key, value) in labels)
            {
                if (key.StartsWith("node-role.kubernetes.io/", StringComparison.Ordinal))
                {
                    roles.Add(key["node-role.kubernetes.io/".Length..]);
                }
                else if (key == "kubernetes.io/role" && value is JsonValue v && v.IsString())
                {
                    roles.Add(v.GetValue<string>());
                }
            }
        }

        return roles.Count == 0 ? "<none>" : string.Join(",", roles);
    }

    private static string NodeAddress(JsonObject node, string type) =>
        node.At("status", "addresses") is JsonArray addresses &&
        addresses.OfType<JsonObject>().FirstOrDefault(a => a.GetString("type") == type) is { } address
            ? address.GetString("address") ?? "<none>"
            : "<none>";

    /// <summary>k8s.io/apimachinery <c>duration.HumanDuration</c> of the object's age.</summary>
    internal static string Age(string? creationTimestamp, DateTimeOffset now)
    {
        if (creationTimestamp is null || !KubeTime.TryParse(creationTimestamp, out var created))
        {
            return "<unknown>";
        }

        return HumanDuration(now - created);
    }

    internal static string HumanDuration(TimeSpan d)
    {
        var seconds = (long)d.TotalSeconds;
        if (seconds < -1)
        {
            return "<invalid>";
        }

        if (seconds < 0)
        {
            return "0s";
        }

        if (seconds < 120)
        {
            return $"{seconds}s";
        }

        var minutes = seconds / 60;
        if (minutes < 10)
        {
            var s = seconds % 60;
            return s == 0 ? $"{minutes}m" : $"{minutes}m{s}s";
        }

        if (minutes < 180)
        {
            return $"{minutes}m";
        }

        var hours = minutes / 60;
        if (hours < 8)
        {
            var m = minutes % 60;
            return m == 0 ? $"{hours}h" : $"{hours}h{m}m";
        }

        if (hours < 48)
        {
            return $"{hours}h";
        }

        if (hours < 192)
        {
            var h = hours % 24;
            return h == 0 ? $"{hours / 24}d" : $"{hours / 24}d{h}h";
        }

        if (hours < 24 * 365 * 2)
        {
            return $"{hours / 24}d";
        }

        if (hours < 24 * 365 * 8)
        {
            var dy = hours / 24 % 365;
            return dy == 0 ? $"{hours / 24 / 365}y" : $"{hours / 24 / 365}y{dy}d";
        }

        return $"{hours / 24 / 365}y";
    }
}

using System.Text.Json.Nodes;

namespace Karpenter.Sim.KubeApi.Resources;

/// <summary>
/// events.k8s.io/v1 is a view of the core/v1 Event storage (<c>k8s.io/kubernetes pkg/apis/events/v1/conversion.go</c>):
/// <c>regarding</c>↔<c>involvedObject</c>, <c>note</c>↔<c>message</c>, <c>reportingController</c>↔<c>reportingComponent</c>,
/// <c>deprecated*</c>↔the legacy fields.
/// </summary>
internal sealed class EventsV1Converter : IObjectConverter
{
    private static readonly (string View, string Storage)[] Renames =
    [
        ("regarding", "involvedObject"),
        ("note", "message"),
        ("reportingController", "reportingComponent"),
        ("deprecatedSource", "source"),
        ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"),
    ];

    public Task<JsonObject> ToStorageAsync(JsonObject obj, CancellationToken ct)
    {
        var result = Rename(obj, toStorage: true);
        result["apiVersion"] = "v1";
        result["kind"] = "Event";
        return Task.FromResult(result);
    }

    public Task<IReadOnlyList<JsonObject>> FromStorageAsync(IReadOnlyList<JsonObject> objects, CancellationToken ct)
    {
        var result = new List<JsonObject>(objects.Count);
        foreach (var obj in objects)
        {
            var view = Rename(obj, toStorage: false);
            view["apiVersion"] = "events.k8s.io/v1";
            view["kind"] = "Event";
            result.Add(view);
        }

        return Task.FromResult<IReadOnlyList<JsonObject>>(result);
    }

    public string? StorageFieldLabel(string label)
    {
        if (label.StartsWith("regarding.", StringComparison.Ordinal))
        {
            return "involvedObject." + label["regarding.".Length..];
        }

        return label switch
        {
            "reportingController" => "reportingComponent",
            "reason" or "type" or "metadata.name" or "metadata.namespace" => label,
            _ => null,
        };
    }

    private static JsonObject Rename(JsonObject obj, bool toStorage)
    {
        var result = new JsonObject();
        foreach (var (name, value) in obj)
        {
            var target = name;
            foreach (var (view, storage) in Renames)
            {
                if (toStorage && name == view)
                {
                    target = storage;
                }
                else if (!toStorage && name == storage)
                {
                    target = view;
                }
            }

            result[target] = value?.DeepClone();
        }

        return result;
    }
}

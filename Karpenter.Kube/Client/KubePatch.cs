using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Karpenter.Kube.Client;

/// <summary>The patch formats the client sends (strategic merge works only on built-in types).</summary>
public enum KubePatchType
{
    /// <summary>RFC 7386 <c>application/merge-patch+json</c>.</summary>
    Merge,

    /// <summary>RFC 6902 <c>application/json-patch+json</c>.</summary>
    Json,

    /// <summary><c>application/strategic-merge-patch+json</c> (built-in types only; custom resources answer 415).</summary>
    StrategicMerge,
}

/// <summary>A patch body and its format.</summary>
public sealed record KubePatch(KubePatchType Type, string Body)
{
    /// <summary>The request Content-Type.</summary>
    public string ContentType => Type switch
    {
        KubePatchType.Merge => "application/merge-patch+json",
        KubePatchType.Json => "application/json-patch+json",
        KubePatchType.StrategicMerge => "application/strategic-merge-patch+json",
        _ => throw new InvalidOperationException($"unknown patch type {Type}"),
    };

    /// <summary>A merge patch from any JSON-serializable object (serialized as the Kubernetes client does).</summary>
    public static KubePatch Merge(object body) =>
        new(KubePatchType.Merge, body is JsonNode node ? node.ToJsonString() : KubernetesJson.Serialize(body));

    /// <summary>A JSON patch from its operations.</summary>
    public static KubePatch Json(JsonPatchBuilder operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        return new(KubePatchType.Json, operations.ToJson());
    }

    /// <summary>
    /// The merge patch that turns <paramref name="original"/> into <paramref name="modified"/> (controller-runtime's
    /// <c>client.MergeFrom</c>). With <paramref name="optimisticLock"/> the patch carries the original's
    /// <c>metadata.resourceVersion</c>, so it fails with 409 if the object changed meanwhile (<c>MergeFromWithOptimisticLock</c>);
    /// use that whenever the patch replaces a list (finalizers, taints, conditions).
    /// </summary>
    public static KubePatch MergeFrom<T>(T original, T modified, bool optimisticLock = false)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(modified);
        var before = JsonNode.Parse(KubernetesJson.Serialize(original));
        var after = JsonNode.Parse(KubernetesJson.Serialize(modified));
        var diff = MergeDiff(before, after) as JsonObject ?? [];
        if (optimisticLock)
        {
            var rv = original.Metadata?.ResourceVersion
                ?? throw new InvalidOperationException("An optimistic-lock patch needs the original's metadata.resourceVersion.");
            if (diff["metadata"] is not JsonObject meta)
            {
                meta = [];
                diff["metadata"] = meta;
            }

            meta["resourceVersion"] = rv;
        }

        return new KubePatch(KubePatchType.Merge, diff.ToJsonString());
    }

    /// <summary>Whether the patch changes nothing (<c>{}</c> or <c>[]</c>), so sending it can be skipped.</summary>
    public bool IsEmpty => Body is "{}" or "[]";

    /// <summary>RFC 7386 diff: objects recurse, removed keys become null, anything else is replaced whole.</summary>
    internal static JsonNode? MergeDiff(JsonNode? before, JsonNode? after)
    {
        if (before is JsonObject b && after is JsonObject a)
        {
            var result = new JsonObject();
            foreach (var (key, value) in a)
            {
                if (!b.TryGetPropertyValue(key, out var old))
                {
                    result[key] = value?.DeepClone();
                }
                else if (!JsonNode.DeepEquals(old, value))
                {
                    result[key] = old is JsonObject && value is JsonObject ? MergeDiff(old, value) : value?.DeepClone();
                }
            }

            foreach (var (key, _) in b)
            {
                if (!a.ContainsKey(key))
                {
                    result[key] = null;
                }
            }

            return result;
        }

        return after?.DeepClone();
    }
}

/// <summary>Builds an RFC 6902 JSON patch; paths are JSON pointers (<c>/metadata/finalizers/0</c>).</summary>
public sealed class JsonPatchBuilder
{
    private readonly JsonArray _ops = [];

    public int Count => _ops.Count;

    public JsonPatchBuilder Add(string path, object? value) => Op("add", path, value);

    public JsonPatchBuilder Replace(string path, object? value) => Op("replace", path, value);

    public JsonPatchBuilder Test(string path, object? value) => Op("test", path, value);

    public JsonPatchBuilder Remove(string path)
    {
        _ops.Add(new JsonObject { ["op"] = "remove", ["path"] = path });
        return this;
    }

    /// <summary>Escapes one path segment (<c>~</c> → <c>~0</c>, <c>/</c> → <c>~1</c>), e.g. for label keys.</summary>
    public static string EscapeSegment(string segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        return segment.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
    }

    public string ToJson() => _ops.ToJsonString();

    private JsonPatchBuilder Op(string op, string path, object? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var node = value switch
        {
            null => null,
            JsonNode n => n.DeepClone(),
            string s => JsonValue.Create(s),
            _ => JsonNode.Parse(KubernetesJson.Serialize(value)),
        };
        _ops.Add(new JsonObject { ["op"] = op, ["path"] = path, ["value"] = node });
        return this;
    }
}

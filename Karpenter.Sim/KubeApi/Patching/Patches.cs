using System.Globalization;
using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Schema;

namespace Karpenter.Sim.KubeApi.Patching;

/// <summary>A patch that cannot be applied to the object (answered with 422).</summary>
internal sealed class PatchApplyException(string message) : Exception(message);

/// <summary>A patch document that is malformed (answered with 400).</summary>
internal sealed class PatchFormatException(string message) : Exception(message);

/// <summary>RFC 7386 JSON merge patch: objects merge recursively, <c>null</c> deletes, anything else replaces.</summary>
internal static class MergePatch
{
    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        var result = target as JsonObject ?? new JsonObject();
        foreach (var (name, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(name);
            }
            else
            {
                var existing = result.TryGetPropertyValue(name, out var e) ? e : null;
                var merged = Apply(existing?.DeepClone(), value);
                result[name] = merged;
            }
        }

        return result;
    }
}

/// <summary>RFC 6902 JSON patch with the messages of evanphx/json-patch that kube-apiserver surfaces.</summary>
internal static class JsonPatch
{
    public static JsonNode Apply(JsonNode document, JsonNode? patch)
    {
        if (patch is not JsonArray operations)
        {
            throw new PatchFormatException("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
        }

        if (operations.Count > 10_000)
        {
            throw new PatchApplyException($"The allowed maximum operations in a JSON patch is 10000, got {operations.Count}");
        }

        var root = document.DeepClone();
        foreach (var item in operations)
        {
            if (item is not JsonObject op)
            {
                throw new PatchFormatException("json: cannot unmarshal into Go value of type jsonpatch.Operation");
            }

            var kind = op.GetString("op") ?? "";
            var path = op.GetString("path") ?? throw new PatchApplyException($"{kind} operation does not apply: doc is missing path: \"\": missing value");
            switch (kind)
            {
                case "add":
                    root = Add(root, path, Value(op, kind));
                    break;
                case "remove":
                    root = Remove(root, path, out _);
                    break;
                case "replace":
                    Get(root, path, kind);
                    root = Remove(root, path, out _);
                    root = Add(root, path, Value(op, kind));
                    break;
                case "move":
                    var from = op.GetString("from") ?? throw new PatchApplyException("move operation does not apply: doc is missing from path");
                    root = Remove(root, from, out var moved);
                    root = Add(root, path, moved);
                    break;
                case "copy":
                    var source = op.GetString("from") ?? throw new PatchApplyException("copy operation does not apply: doc is missing from path");
                    root = Add(root, path, Get(root, source, kind)?.DeepClone());
                    break;
                case "test":
                    var actual = Get(root, path, kind);
                    if (!JsonNode.DeepEquals(actual, op["value"]))
                    {
                        throw new PatchApplyException($"testing value {path} failed: test failed");
                    }

                    break;
                default:
                    throw new PatchApplyException($"Unexpected kind: {kind}");
            }
        }

        return root;
    }

    private static JsonNode? Value(JsonObject op, string kind) =>
        op.TryGetPropertyValue("value", out var value) ? value?.DeepClone() : throw new PatchApplyException($"{kind} operation does not apply: missing value");

    private static List<string> Tokens(string path)
    {
        if (path.Length == 0)
        {
            return [];
        }

        if (path[0] != '/')
        {
            throw new PatchApplyException($"JSON pointer must be empty or start with a \"/\": {path}");
        }

        return path[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToList();
    }

    private static JsonNode? Get(JsonNode root, string path, string kind) => Get(root, Tokens(path), path, kind);

    private static JsonNode? Get(JsonNode root, IEnumerable<string> tokens, string path, string kind)
    {
        JsonNode? current = root;
        foreach (var token in tokens)
        {
            current = current switch
            {
                JsonObject o when o.TryGetPropertyValue(token, out var child) => child,
                JsonArray a when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
                _ => throw new PatchApplyException($"{kind} operation does not apply: doc is missing path: \"{path}\": missing value"),
            };
        }

        return current;
    }

    private static JsonNode Add(JsonNode root, string path, JsonNode? value)
    {
        var tokens = Tokens(path);
        if (tokens.Count == 0)
        {
            return value ?? throw new PatchApplyException("add operation does not apply: cannot replace the document with null");
        }

        var parent = Get(root, tokens.Take(tokens.Count - 1), path, "add");
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a:
                if (last == "-")
                {
                    a.Add(value);
                }
                else if (int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index <= a.Count)
                {
                    a.Insert(index, value);
                }
                else
                {
                    throw new PatchApplyException($"add operation does not apply: doc is missing path: \"{path}\": missing value");
                }

                break;
            default:
                throw new PatchApplyException($"add operation does not apply: doc is missing path: \"{path}\": missing value");
        }

        return root;
    }

    private static JsonNode Remove(JsonNode root, string path, out JsonNode? removed)
    {
        var tokens = Tokens(path);
        if (tokens.Count == 0)
        {
            throw new PatchApplyException("remove operation does not apply: doc is missing path: \"\": missing value");
        }

        var parent = Get(root, tokens.Take(tokens.Count - 1), path, "remove");
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o when o.TryGetPropertyValue(last, out removed):
                o.Remove(last);
                removed = removed?.DeepClone();
                return root;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < a.Count:
                removed = a[index]?.DeepClone();
                a.RemoveAt(index);
                return root;
            default:
                throw new PatchApplyException($"remove operation does not apply: doc is missing path: \"{path}\": missing value");
        }
    }
}

/// <summary>
/// Strategic merge patch for built-in types (apimachinery <c>strategicpatch</c>): lists with a
/// <c>patchMergeKey</c> merge element-wise, primitive lists with strategy <c>merge</c> union, other lists are
/// replaced; directives <c>$patch</c> (replace, delete, merge), <c>$deleteFromPrimitiveList/</c>,
/// <c>$setElementOrder/</c> and <c>$retainKeys</c> are honoured.
/// </summary>
internal static class StrategicMergePatch
{
    public static JsonObject Apply(JsonObject original, JsonNode? patch, SchemaNode schema)
    {
        if (patch is not JsonObject patchObject)
        {
            throw new PatchFormatException("json: cannot unmarshal array into Go value of type map[string]interface {}");
        }

        return MergeObject(original.DeepClone().AsObject(), patchObject, schema);
    }

    private static JsonObject MergeObject(JsonObject target, JsonObject patch, SchemaNode? schema)
    {
        if (patch.GetString("$patch") is { } directive)
        {
            switch (directive)
            {
                case "replace":
                    var replaced = patch.DeepClone().AsObject();
                    replaced.Remove("$patch");
                    return replaced;
                case "delete":
                    return [];
                case "merge":
                    break;
                default:
                    throw new PatchApplyException($"Unknown patch type: {directive} in map: ...");
            }
        }

        if (patch["$retainKeys"] is JsonArray retain)
        {
            var keep = retain.Select(k => k?.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
            foreach (var name in target.Select(p => p.Key).ToList())
            {
                if (!keep.Contains(name))
                {
                    target.Remove(name);
                }
            }
        }

        foreach (var (name, value) in patch)
        {
            if (name is "$patch" or "$retainKeys" || name.StartsWith("$setElementOrder/", StringComparison.Ordinal))
            {
                continue;
            }

            if (name.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal))
            {
                var field = name["$deleteFromPrimitiveList/".Length..];
                if (target[field] is JsonArray list && value is JsonArray deletions)
                {
                    foreach (var deletion in deletions)
                    {
                        for (var i = list.Count - 1; i >= 0; i--)
                        {
                            if (JsonNode.DeepEquals(list[i], deletion))
                            {
                                list.RemoveAt(i);
                            }
                        }
                    }
                }

                continue;
            }

            if (value is null)
            {
                target.Remove(name);
                continue;
            }

            var child = Child(schema, name);
            var existing = target.TryGetPropertyValue(name, out var e) ? e : null;
            target[name] = Merge(existing?.DeepClone(), value, child);
        }

        // $setElementOrder only reorders; apply it after merging.
        foreach (var (name, value) in patch)
        {
            if (name.StartsWith("$setElementOrder/", StringComparison.Ordinal) && value is JsonArray order)
            {
                var field = name["$setElementOrder/".Length..];
                if (target[field] is JsonArray list)
                {
                    target[field] = Reorder(list, order, Child(schema, field)?.PatchMergeKey);
                }
            }
        }

        return target;
    }

    private static SchemaNode? Child(SchemaNode? schema, string name) => schema?.Kind switch
    {
        SchemaKind.Object => schema.Properties.GetValueOrDefault(name),
        SchemaKind.Map => schema.Items,
        _ => null,
    };

    private static JsonNode? Merge(JsonNode? target, JsonNode patch, SchemaNode? schema)
    {
        switch (patch)
        {
            case JsonObject patchObject when target is JsonObject targetObject:
                return MergeObject(targetObject, patchObject, schema?.Kind == SchemaKind.Any ? null : schema);
            case JsonObject patchObject:
                var fresh = MergeObject([], patchObject, schema);
                return fresh;
            case JsonArray patchArray when target is JsonArray targetArray && schema?.PatchStrategy?.Contains("merge", StringComparison.Ordinal) == true:
                return MergeList(targetArray, patchArray, schema);
            default:
                return StripDirectives(patch.DeepClone());
        }
    }

    private static JsonArray MergeList(JsonArray target, JsonArray patch, SchemaNode schema)
    {
        var key = schema.PatchMergeKey;
        if (key is null)
        {
            // A set of primitives: union, keeping order.
            foreach (var item in patch)
            {
                if (!target.Any(t => JsonNode.DeepEquals(t, item)))
                {
                    target.Add(item?.DeepClone());
                }
            }

            return target;
        }

        if (patch.OfType<JsonObject>().Any(p => p.GetString("$patch") == "replace"))
        {
            return new JsonArray(patch.OfType<JsonObject>().Where(p => p.GetString("$patch") != "replace").Select(p => (JsonNode?)StripDirectives(p.DeepClone())).ToArray());
        }

        foreach (var item in patch)
        {
            if (item is not JsonObject patchItem)
            {
                continue;
            }

            var keyValue = patchItem[key];
            var index = -1;
            for (var i = 0; i < target.Count; i++)
            {
                if (target[i] is JsonObject t && JsonNode.DeepEquals(t[key], keyValue))
                {
                    index = i;
                    break;
                }
            }

            if (patchItem.GetString("$patch") == "delete")
            {
                if (index >= 0)
                {
                    target.RemoveAt(index);
                }

                continue;
            }

            if (index >= 0)
            {
                target[index] = MergeObject(target[index]!.DeepClone().AsObject(), patchItem, schema.Items);
            }
            else
            {
                target.Add(StripDirectives(patchItem.DeepClone()));
            }
        }

        return target;
    }

    private static JsonArray Reorder(JsonArray list, JsonArray order, string? key)
    {
        var remaining = list.Select(n => n?.DeepClone()).ToList();
        var result = new JsonArray();
        foreach (var wanted in order)
        {
            var match = remaining.FindIndex(n => key is null ? JsonNode.DeepEquals(n, wanted) : n is JsonObject o && wanted is JsonObject w && JsonNode.DeepEquals(o[key], w[key]));
            if (match >= 0)
            {
                result.Add(remaining[match]);
                remaining.RemoveAt(match);
            }
        }

        foreach (var rest in remaining)
        {
            result.Add(rest);
        }

        return result;
    }

    private static JsonNode? StripDirectives(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var name in o.Select(p => p.Key).Where(k => k.StartsWith('$')).ToList())
                {
                    o.Remove(name);
                }

                foreach (var (name, value) in o.ToList())
                {
                    o[name] = StripDirectives(value?.DeepClone());
                }

                return o;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    a[i] = StripDirectives(a[i]?.DeepClone());
                }

                return a;
            default:
                return node;
        }
    }
}

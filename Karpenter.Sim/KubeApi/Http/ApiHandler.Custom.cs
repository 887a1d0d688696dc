using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using k8s.Models;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Resources;
using Karpenter.Sim.KubeApi.Schema;
using Karpenter.Sim.KubeApi.Storage;
using Karpenter.Sim.KubeApi.Strategies;
using Karpenter.Sim.KubeApi.Webhooks;

namespace Karpenter.Sim.KubeApi.Http;

internal sealed partial class ApiHandler
{
    public const string CrdStorage = "customresourcedefinitions.apiextensions.k8s.io";

    private static readonly TimeSpan ConversionTimeout = TimeSpan.FromSeconds(30);
    private readonly Lock _crdGate = new();
    private readonly HashSet<(string, string, string)> _customKeys = [];
    private readonly HashSet<string> _cleaning = new(StringComparer.Ordinal);

    /// <summary>Prunes (metadata to ObjectMeta, the rest to the version's schema) and defaults; returns the unknown fields dropped.</summary>
    private static List<string> DecodeCustom(ResourceType type, JsonObject obj)
    {
        var unknown = new List<string>();
        if (obj["metadata"] is JsonObject metadata)
        {
            try
            {
                unknown.AddRange(BuiltinDecoder.Decode(metadata, BuiltinSchemas.For(typeof(V1ObjectMeta))).Select(u => "metadata." + u));
            }
            catch (DecodeException e)
            {
                throw ApiError.BadRequest($"{type.Kind} in version \"{type.Version}\" cannot be handled as a {type.Kind}: {e.Message}");
            }
        }

        var schema = type.Custom!.Schema;
        unknown.AddRange(schema.Prune(obj));
        schema.Default(obj);
        return unknown;
    }

    /// <summary>Structural-schema validation of a custom resource (422 Invalid with field paths).</summary>
    private static Task ValidateCustomAsync(RequestScope scope, JsonObject obj, JsonObject? old)
    {
        if (scope.Type.Custom is not { } custom)
        {
            return Task.CompletedTask;
        }

        var errors = new List<FieldError>();
        custom.Schema.Validate(obj, old, errors);
        if (errors.Count > 0)
        {
            throw ApiError.Invalid(scope.Type.Group, scope.Type.Kind, obj.StringAt("metadata", "name"), errors);
        }

        return Task.CompletedTask;
    }

    /// <summary>Rebuilds the served custom resource types from the stored CRDs (called after every CRD change).</summary>
    public void SyncCustomResources()
    {
        lock (_crdGate)
        {
            var crds = StorageOf(_registry.Find("apiextensions.k8s.io", "v1", "customresourcedefinitions")!);
            var wanted = new HashSet<(string, string, string)>();
            foreach (var (_, stored) in crds.Items)
            {
                var crd = stored.ToJson();
                foreach (var type in TypesFor(crd, stored.Deleting))
                {
                    _registry.Add(type);
                    wanted.Add((type.Group, type.Version, type.Plural));
                }

                if (stored.Deleting && _cleaning.Add(stored.Name))
                {
                    _ = CleanUpCustomResourcesAsync(stored.Name);
                }
            }

            foreach (var key in _customKeys.Where(k => !wanted.Contains(k)).ToList())
            {
                _registry.Remove(key.Item1, key.Item2, key.Item3);
                _customKeys.Remove(key);
            }

            _customKeys.UnionWith(wanted);
        }
    }

    private List<ResourceType> TypesFor(JsonObject crd, bool terminating)
    {
        var spec = crd.GetObject("spec")!;
        var group = spec.GetString("group")!;
        var names = spec.GetObject("names")!;
        var plural = names.GetString("plural")!;
        var kind = names.GetString("kind")!;
        var storageVersion = CustomResourceDefinitionStrategy.StorageVersion(crd)!;
        var versions = (spec["versions"] as JsonArray ?? []).OfType<JsonObject>().Where(v => v.GetBool("served") == true).ToList();
        var preferred = versions.Select(v => v.GetString("name")!).OrderBy(v => v, KubeVersionComparer.Instance).FirstOrDefault() ?? storageVersion;
        var crdName = crd.StringAt("metadata", "name")!;
        var webhookConfig = spec.StringAt("conversion", "strategy") == "Webhook" ? spec.At("conversion", "webhook", "clientConfig") as JsonObject : null;
        var result = new List<ResourceType>();
        foreach (var version in versions)
        {
            var name = version.GetString("name")!;
            var schema = version.At("schema", "openAPIV3Schema") as JsonObject ?? new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true };
            var subresources = new HashSet<string>();
            if (version.At("subresources", "status") is JsonObject)
            {
                subresources.Add("status");
            }

            // subresources.scale is not served yet: /scale answers the CR handler's JSON 404 rather than a wrong shape.
            var selectable = (version["selectableFields"] as JsonArray ?? []).OfType<JsonObject>().Select(f => f.GetString("jsonPath") ?? "").Where(p => p.Length > 0).ToList();
            var fieldLabels = selectable.ToDictionary(p => p.TrimStart('.'), p => (Func<JsonObject, string?>)(obj => JsonPathCell(obj, p) switch
            {
                JsonValue v when v.IsString() => v.GetValue<string>(),
                JsonValue v => v.ToJsonString(),
                _ => null,
            }));
            var clientConfig = webhookConfig;
            var description = $"{group}/{name}, Kind={kind}";
            result.Add(new ResourceType
            {
                Group = group,
                Version = name,
                Plural = plural,
                Singular = names.GetString("singular") ?? kind.ToLowerInvariant(),
                Kind = kind,
                ListKind = names.GetString("listKind") ?? kind + "List",
                Namespaced = spec.GetString("scope") == "Namespaced",
                ShortNames = (names["shortNames"] as JsonArray ?? []).Select(s => s?.GetValue<string>() ?? "").ToList(),
                Categories = (names["categories"] as JsonArray ?? []).Select(s => s?.GetValue<string>() ?? "").ToList(),
                StorageId = crdName,
                Strategy = new CustomResourceStrategy(subresources.Contains("status")),
                Subresources = subresources,
                FieldLabels = fieldLabels,
                Converter = name == storageVersion
                    ? null
                    : new CustomResourceConverter(group, name, storageVersion, clientConfig is null ? null : (desired, objects, ct) => ConvertWithWebhookAsync(clientConfig, description, desired, objects, ct)),
                Custom = new CustomResourceInfo
                {
                    CrdName = crdName,
                    StorageVersion = storageVersion,
                    PreferredVersion = preferred,
                    Schema = new StructuralSchema(schema),
                    PrinterColumns = version["additionalPrinterColumns"] as JsonArray ?? [],
                    Terminating = terminating,
                    SelectableFields = selectable,
                },
            });
        }

        return result;
    }

    /// <summary>One ConversionReview round trip (apiextensions <c>webhook_converter.go</c>): every object must come back converted, with its metadata intact.</summary>
    private async Task<IReadOnlyList<JsonObject>> ConvertWithWebhookAsync(JsonObject clientConfig, string description, string desired, IReadOnlyList<JsonObject> objects, CancellationToken ct)
    {
        var pending = objects.Select((o, i) => (o, i)).Where(p => p.o.GetString("apiVersion") != desired).ToList();
        if (pending.Count == 0)
        {
            return objects;
        }

        var uid = NewUid();
        var review = new JsonObject
        {
            ["apiVersion"] = "apiextensions.k8s.io/v1",
            ["kind"] = "ConversionReview",
            ["request"] = new JsonObject
            {
                ["uid"] = uid,
                ["desiredAPIVersion"] = desired,
                ["objects"] = new JsonArray(pending.Select(p => (JsonNode?)p.o.DeepClone()).ToArray()),
            },
        };
        JsonObject answer;
        try
        {
            answer = await _webhooks.PostAsync(clientConfig, review, ConversionTimeout, ct);
        }
        catch (WebhookCallException e)
        {
            throw ApiError.Internal($"conversion webhook for {description} failed: {e.Message}");
        }

        var response = answer.GetObject("response") ?? throw ApiError.Internal($"conversion webhook for {description} failed: no response provided");
        if (response.GetString("uid") != uid)
        {
            throw ApiError.Internal($"conversion webhook for {description} failed: expected response uid {uid}, got {response.GetString("uid")}");
        }

        if (response.StringAt("result", "status") != "Success")
        {
            throw ApiError.Internal($"conversion webhook for {description} failed: {response.StringAt("result", "message") ?? "unknown error"}");
        }

        var converted = response["convertedObjects"] as JsonArray ?? [];
        if (converted.Count != pending.Count)
        {
            throw ApiError.Internal($"conversion webhook for {description} returned {converted.Count} objects, expected {pending.Count}");
        }

        var result = objects.ToArray();
        for (var n = 0; n < pending.Count; n++)
        {
            var (original, index) = pending[n];
            if (converted[n] is not JsonObject obj || obj.GetString("apiVersion") != desired)
            {
                throw ApiError.Internal($"conversion webhook for {description} returned invalid converted object at index {n}: expected apiVersion {desired}");
            }

            foreach (var field in new[] { "name", "namespace", "uid" })
            {
                if (obj.StringAt("metadata", field) != original.StringAt("metadata", field))
                {
                    throw ApiError.Internal($"conversion webhook for {description} returned invalid metadata in object at index {n}: must not change metadata.{field}");
                }
            }

            result[index] = obj;
        }

        return result;
    }

    /// <summary>The CRD finalizer's work: delete every custom resource, then release the CRD.</summary>
    private async Task CleanUpCustomResourcesAsync(string crdName)
    {
        try
        {
            var resource = _store.Resource(crdName, _registry.FieldExtractor(crdName));
            var type = _registry.All.FirstOrDefault(t => t.StorageId == crdName && t.Converter is null);
            while (type is not null && !resource.Items.IsEmpty)
            {
                foreach (var (_, obj) in resource.Items)
                {
                    if (obj.Deleting)
                    {
                        continue;
                    }

                    try
                    {
                        await DeleteObjectAsync(type, obj.Namespace.Length == 0 ? null : obj.Namespace, obj.Name, new DeleteOptions(null, null, null, null, false), CancellationToken.None);
                    }
                    catch (ApiError e) when (e.Code is 404 or 409)
                    {
                        // Changed meanwhile.
                    }
                }

                if (!resource.Items.IsEmpty)
                {
                    // Objects held by finalizers: wait for the next change.
                    var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    void OnCommit(long _) => changed.TrySetResult();
                    _store.Committed += OnCommit;
                    try
                    {
                        await changed.Task.WaitAsync(TimeSpan.FromSeconds(1), _time);
                    }
                    catch (TimeoutException)
                    {
                        // Poll again.
                    }
                    finally
                    {
                        _store.Committed -= OnCommit;
                    }
                }
            }

            var crds = _store.Resource(CrdStorage, _registry.FieldExtractor(CrdStorage));
            while (crds.Get(crdName) is { } current)
            {
                var crd = current.ToJson();
                var finalizers = (crd.At("metadata", "finalizers") as JsonArray ?? []).Select(f => f?.GetValue<string>()).Where(f => f != CustomResourceDefinitionStrategy.CleanupFinalizer).ToList();
                var result = finalizers.Count == 0
                    ? _store.Delete(crds, crdName, current.ResourceVersion)
                    : _store.Update(crds, crdName, current.ResourceVersion, SetFinalizers(crd, finalizers));
                if (result.Status != CommitStatus.Conflict)
                {
                    break;
                }
            }
        }
        finally
        {
            lock (_crdGate)
            {
                _cleaning.Remove(crdName);
            }
        }
    }

    private static JsonObject SetFinalizers(JsonObject obj, List<string?> finalizers)
    {
        obj.GetOrAddObject("metadata")["finalizers"] = new JsonArray(finalizers.Select(f => (JsonNode?)f).ToArray());
        return obj;
    }

    private static List<TableColumn> CustomColumns(CustomResourceInfo custom)
    {
        if (custom.PrinterColumns.Count == 0)
        {
            return [NameColumn, AgeColumn];
        }

        var columns = new List<TableColumn> { NameColumn };
        foreach (var column in custom.PrinterColumns.OfType<JsonObject>())
        {
            var type = column.GetString("type") ?? "string";
            var path = column.GetString("jsonPath") ?? "";
            columns.Add(new TableColumn(
                column.GetString("name") ?? "",
                type,
                column.GetString("format") ?? "",
                column.GetString("description") ?? "",
                (int)(column.GetLong("priority") ?? 0),
                (obj, now) => type == "date"
                    ? JsonPathCell(obj, path) is JsonValue v && v.IsString() ? Age(v.GetValue<string>(), now) : null
                    : JsonPathCell(obj, path)?.DeepClone()));
        }

        return columns;
    }

    /// <summary>
    /// The JSONPath subset printer columns and selectable fields use: <c>.a.b</c>, escaped dots
    /// (<c>.metadata.labels.karpenter\.sh/nodepool</c>), <c>[0]</c>, <c>[*]</c> and <c>[?(@.type=="Ready")]</c>.
    /// </summary>
    internal static JsonNode? JsonPathCell(JsonObject obj, string path)
    {
        var current = new List<JsonNode?> { obj };
        var text = path.Trim();
        if (text.StartsWith('{') && text.EndsWith('}'))
        {
            text = text[1..^1];
        }

        var i = 0;
        while (i < text.Length && current.Count > 0)
        {
            if (text[i] == '.')
            {
                i++;
                var name = new StringBuilder();
                while (i < text.Length && text[i] != '.' && text[i] != '[')
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        i++;
                    }

                    name.Append(text[i++]);
                }

                var key = name.ToString();
                if (key.Length == 0)
                {
                    continue;
                }

                current = current.Select(c => c is JsonObject o ? o[key] : null).Where(c => c is not null).ToList();
            }
            else if (text[i] == '[')
            {
                var end = text.IndexOf(']', i);
                if (end < 0)
                {
                    return null;
                }

                var selector = text[(i + 1)..end];
                i = end + 1;
                if (selector == "*")
                {
                    current = current.SelectMany(c => c is JsonArray a ? a.AsEnumerable() : c is JsonObject o ? o.Select(p => p.Value) : []).ToList();
                }
                else if (int.TryParse(selector, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var index))
                {
                    current = current.Select(c => c is JsonArray a && a.Count > 0 ? a[index < 0 ? a.Count + index : index] : null).Where(c => c is not null).ToList();
                }
                else if (selector.StartsWith("?(@.", StringComparison.Ordinal) && selector.EndsWith(')'))
                {
                    var condition = selector[4..^1];
                    var eq = condition.IndexOf("==", StringComparison.Ordinal);
                    if (eq < 0)
                    {
                        return null;
                    }

                    var field = condition[..eq].Trim();
                    var expected = condition[(eq + 2)..].Trim().Trim('"', '\'');
                    current = current.SelectMany(c => c is JsonArray a ? a.AsEnumerable() : [])
                        .Where(item => item is JsonObject o && o[field] is JsonValue v && (v.IsString() ? v.GetValue<string>() : v.ToJsonString()) == expected)
                        .ToList();
                }
                else
                {
                    return null;
                }
            }
            else
            {
                i++;
            }
        }

        return current.Count == 0 ? null : current[0];
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using k8s.Models;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Resources;
using Karpenter.Sim.KubeApi.Schema;
using Karpenter.Sim.KubeApi.Storage;

namespace Karpenter.Sim.KubeApi.Http;

/// <summary>
/// The <c>scale</c> subresource of Deployments and ReplicaSets (kube-apiserver's <c>ScaleREST</c>): an
/// <c>autoscaling/v1</c> Scale read from and written to the parent's <c>spec.replicas</c>, carrying the parent's
/// uid and resourceVersion, so a stale resourceVersion conflicts and a write is an update of the parent (its
/// generation bumped, its watchers told).
/// </summary>
internal sealed partial class ApiHandler
{
    private const string ScaleApiVersion = "autoscaling/v1";
    private const string ScaleKind = "Scale";

    private static readonly SchemaNode ScaleSchema = BuiltinSchemas.For(typeof(V1Scale));

    /// <summary>A parent that is missing answers as ScaleREST does: NotFound on <c>deployments/scale</c>.</summary>
    private static ApiError ScaleNotFound(RequestScope scope) =>
        ApiError.NotFound(scope.Type.Group, scope.Type.Plural + "/scale", scope.Info.Name!);

    private static ApiError ScaleCannotHandle(string detail) =>
        ApiError.BadRequest($"{ScaleKind} in version \"v1\" cannot be handled as a {ScaleKind}: {detail}");

    private async Task GetScaleAsync(RequestScope scope)
    {
        var rv = scope.Query1("resourceVersion");
        if (!string.IsNullOrEmpty(rv) && rv != "0")
        {
            await WaitForRevisionAsync(ParseRevision(rv, "resourceVersion"), scope.Aborted);
        }

        var parent = StorageOf(scope.Type).Get(StoredObject.KeyOf(scope.Info.Namespace, scope.Info.Name!)) ?? throw ScaleNotFound(scope);
        await WriteScaleAsync(scope, ScaleOf(parent.ToJson()));
    }

    private async Task UpdateScaleAsync(RequestScope scope)
    {
        var body = await ReadBodyAsync(scope);
        var media = MediaType(scope);
        if (!ObjectMediaTypes.Contains(media) || media == "application/vnd.kubernetes.protobuf")
        {
            throw ApiError.UnsupportedMediaType(media, ["application/json", "application/yaml"]);
        }

        var node = ParseBody(body, media, message =>
            ApiError.BadRequest($"the object provided is unrecognized (must be of type {ScaleKind}): couldn't get version/kind; json parse error: {message}"));
        if (node is not JsonObject sent)
        {
            throw ApiError.BadRequest($"the object provided is unrecognized (must be of type {ScaleKind}): couldn't get version/kind; json parse error: json: cannot unmarshal {(node is JsonArray ? "array" : "string")} into Go value of type struct {{ APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }}");
        }

        var scale = NormalizeScale(scope, sent);
        var bodyName = scale.StringAt("metadata", "name") ?? "";
        if (bodyName != scope.Info.Name)
        {
            throw ApiError.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({scope.Info.Name})");
        }

        if (scale.StringAt("metadata", "namespace") is { Length: > 0 } ns && ns != scope.Info.Namespace)
        {
            throw ApiError.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        await UpdateScaleCoreAsync(scope, _ => scale.DeepClone().AsObject());
    }

    private async Task PatchScaleAsync(RequestScope scope)
    {
        var media = MediaType(scope);
        if (!BuiltinPatchTypes.Contains(media))
        {
            throw ApiError.UnsupportedMediaType(media, BuiltinPatchTypes);
        }

        if (scope.Query1("force") is { Length: > 0 })
        {
            throw ApiError.Invalid("meta.k8s.io", "PatchOptions", "", [FieldError.Forbidden("force", "may not be specified for non-apply patch")]);
        }

        var patch = ParseBody(await ReadBodyAsync(scope), "application/json", message => ApiError.BadRequest(message));
        await UpdateScaleCoreAsync(scope, current =>
        {
            var normalized = NormalizeScale(scope, ApplyPatch(current, patch, media, ScaleSchema));
            if (normalized.StringAt("metadata", "name") != scope.Info.Name)
            {
                throw ApiError.Invalid("autoscaling", ScaleKind, scope.Info.Name,
                    [FieldError.Invalid("metadata.name", normalized.At("metadata", "name")?.DeepClone(), "field is immutable")]);
            }

            return normalized;
        });
    }

    /// <summary>apiVersion/kind checks and Go-struct decoding of a Scale, with unknown fields per <c>fieldValidation</c>.</summary>
    private static JsonObject NormalizeScale(RequestScope scope, JsonObject obj)
    {
        var apiVersion = obj["apiVersion"] is JsonValue av && av.IsString() ? av.GetValue<string>() : null;
        var kind = obj["kind"] is JsonValue k && k.IsString() ? k.GetValue<string>() : null;
        ExpectTypeMeta(apiVersion, kind, ScaleApiVersion, ScaleKind, "v1");
        return DecodeWithFieldValidation(scope, TypeMetaFirst(obj, ScaleApiVersion, ScaleKind), ScaleCannotHandle, o =>
        {
            try
            {
                return BuiltinDecoder.Decode(o, ScaleSchema);
            }
            catch (DecodeException e)
            {
                throw ScaleCannotHandle(e.Message);
            }
        });
    }

    /// <summary>
    /// ScaleREST.Update: the parent is read, the new Scale built from its current Scale, and the parent updated
    /// with the Scale's replicas under the Scale's resourceVersion (a stale one conflicts; none retries).
    /// </summary>
    private async Task UpdateScaleCoreAsync(RequestScope scope, Func<JsonObject, JsonObject> produce)
    {
        var type = scope.Type;
        var resource = StorageOf(type);
        var key = StoredObject.KeyOf(scope.Info.Namespace, scope.Info.Name!);
        for (var attempt = 0; ; attempt++)
        {
            var current = resource.Get(key) ?? throw ScaleNotFound(scope);
            var currentRv = current.ResourceVersion.ToString(CultureInfo.InvariantCulture);
            var old = current.ToJson();
            var scale = produce(ScaleOf(old));
            var scaleUid = scale.StringAt("metadata", "uid");
            if (!string.IsNullOrEmpty(scaleUid) && scaleUid != current.Uid)
            {
                throw ApiError.Conflict(type.Group, type.Plural + "/scale", scope.Info.Name!,
                    $"Precondition failed: UID in precondition: {scaleUid}, UID in object meta: {current.Uid}");
            }

            var scaleRv = scale.StringAt("metadata", "resourceVersion");
            var conditional = !string.IsNullOrEmpty(scaleRv);
            if (conditional && scaleRv != currentRv)
            {
                throw ApiError.Conflict(type.Group, type.Plural, scope.Info.Name!, ApiError.OptimisticLockMessage);
            }

            var replicas = scale.At("spec", "replicas") is JsonValue r ? r.GetValue<long>() : 0;
            if (replicas < 0)
            {
                throw ApiError.Invalid("autoscaling", ScaleKind, scope.Info.Name,
                    [FieldError.Invalid("spec.replicas", replicas, "must be greater than or equal to 0")]);
            }

            var next = old.DeepClone().AsObject();
            next.GetOrAddObject("spec")["replicas"] = replicas;
            if (JsonNode.DeepEquals(next, old))
            {
                // Nothing changes: same revision, no watch event, as an update of the parent would answer.
                await WriteScaleAsync(scope, ScaleOf(old));
                return;
            }

            var metadata = next.GetOrAddObject("metadata");
            metadata["generation"] = (metadata.GetLong("generation") ?? 0) + 1;
            ValidateUpdate(scope, next, old, status: false);
            CheckSize(type, next);
            if (scope.DryRun)
            {
                await WriteScaleAsync(scope, ScaleOf(next));
                return;
            }

            var result = _store.Update(resource, key, current.ResourceVersion, next);
            switch (result.Status)
            {
                case CommitStatus.Ok:
                    await WriteScaleAsync(scope, ScaleOf(result.Object!.ToJson()));
                    return;
                case CommitStatus.NotFound:
                    throw ScaleNotFound(scope);
                case CommitStatus.Conflict when conditional || attempt > 100:
                    throw ApiError.Conflict(type.Group, type.Plural, scope.Info.Name!, ApiError.OptimisticLockMessage);
            }
        }
    }

    private static async Task WriteScaleAsync(RequestScope scope, JsonObject scale)
    {
        AddWarnings(scope);
        await WriteJsonAsync(scope.Http, 200, KubeJson.ToBytes(scale));
    }

    /// <summary>scaleFromDeployment / scaleFromReplicaSet: the parent's identity, desired and observed replicas, selector string.</summary>
    internal static JsonObject ScaleOf(JsonObject parent)
    {
        var metadata = new JsonObject
        {
            ["name"] = parent.StringAt("metadata", "name"),
            ["namespace"] = parent.StringAt("metadata", "namespace"),
            ["uid"] = parent.StringAt("metadata", "uid"),
            ["resourceVersion"] = parent.StringAt("metadata", "resourceVersion"),
            ["creationTimestamp"] = parent.At("metadata", "creationTimestamp")?.DeepClone(),
        };
        var status = new JsonObject { ["replicas"] = parent.At("status", "replicas") is JsonValue observed ? observed.GetValue<long>() : 0 };
        var selector = SelectorString(parent.At("spec", "selector") as JsonObject);
        if (selector.Length > 0)
        {
            status["selector"] = selector;
        }

        return new JsonObject
        {
            ["kind"] = ScaleKind,
            ["apiVersion"] = ScaleApiVersion,
            ["metadata"] = metadata,
            ["spec"] = new JsonObject { ["replicas"] = parent.At("spec", "replicas") is JsonValue desired ? desired.GetValue<long>() : 1 },
            ["status"] = status,
        };
    }

    /// <summary>
    /// <c>metav1.LabelSelectorAsSelector(s).String()</c>: requirements sorted by key, <c>k=v</c>, <c>k in (a,b)</c>,
    /// <c>k notin (a,b)</c>, <c>k</c>, <c>!k</c>, values sorted, joined by commas.
    /// </summary>
    internal static string SelectorString(JsonObject? selector)
    {
        if (selector is null)
        {
            return "";
        }

        var requirements = new List<(string Key, string Text)>();
        foreach (var (key, value) in selector["matchLabels"] as JsonObject ?? [])
        {
            requirements.Add((key, $"{key}={value?.GetValue<string>()}"));
        }

        foreach (var expression in (selector["matchExpressions"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var key = expression.GetString("key") ?? "";
            var values = (expression["values"] as JsonArray ?? []).Select(v => v?.GetValue<string>() ?? "").Distinct().Order(StringComparer.Ordinal);
            var text = expression.GetString("operator") switch
            {
                "In" => $"{key} in ({string.Join(",", values)})",
                "NotIn" => $"{key} notin ({string.Join(",", values)})",
                "Exists" => key,
                "DoesNotExist" => "!" + key,
                var other => $"{key} {other} ({string.Join(",", values)})",
            };
            requirements.Add((key, text));
        }

        var sb = new StringBuilder();
        foreach (var (_, text) in requirements.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (sb.Length > 0)
            {
                sb.Append(',');
            }

            sb.Append(text);
        }

        return sb.ToString();
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Patching;
using Karpenter.Sim.KubeApi.Resources;
using Karpenter.Sim.KubeApi.Schema;
using Karpenter.Sim.KubeApi.Storage;
using Karpenter.Sim.KubeApi.Validation;

namespace Karpenter.Sim.KubeApi.Http;

internal sealed partial class ApiHandler
{
    private static readonly string[] ObjectMediaTypes = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"];

    // ---- decoding ----------------------------------------------------------------------------------------

    private static ApiError CannotHandle(ResourceType type, string detail) =>
        ApiError.BadRequest($"{type.Kind} in version \"{type.Version}\" cannot be handled as a {type.Kind}: {detail}");

    /// <summary>Body → object in the request's version: type/version checks, Go-struct decoding or CR pruning, unknown fields.</summary>
    private static JsonObject DecodeObject(RequestScope scope, byte[] body)
    {
        var type = scope.Type;
        var media = MediaType(scope);
        if (!ObjectMediaTypes.Contains(media))
        {
            throw ApiError.UnsupportedMediaType(media, ObjectMediaTypes);
        }

        if (media == "application/vnd.kubernetes.protobuf")
        {
            throw ApiError.UnsupportedMediaType(media, ["application/json", "application/yaml"]);
        }

        var node = ParseBody(body, media, message =>
            ApiError.BadRequest($"the object provided is unrecognized (must be of type {type.Kind}): couldn't get version/kind; json parse error: {message}"));
        if (node is not JsonObject obj)
        {
            throw ApiError.BadRequest($"the object provided is unrecognized (must be of type {type.Kind}): couldn't get version/kind; json parse error: json: cannot unmarshal {(node is JsonArray ? "array" : "string")} into Go value of type struct {{ APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }}");
        }

        return Normalize(scope, obj, FieldsFromBody: true);
    }

    /// <summary>Checks apiVersion/kind and applies the type's decoding rules to an object tree (also used after patches).</summary>
    private static JsonObject Normalize(RequestScope scope, JsonObject obj, bool FieldsFromBody)
    {
        var type = scope.Type;
        var apiVersion = obj["apiVersion"] is JsonValue av && av.IsString() ? av.GetValue<string>() : null;
        var kind = obj["kind"] is JsonValue k && k.IsString() ? k.GetValue<string>() : null;
        if (type.IsCustom && FieldsFromBody)
        {
            if (string.IsNullOrEmpty(kind))
            {
                throw ApiError.BadRequest($"Object 'Kind' is missing in '{Truncate(KubeJson.ToJsonString(obj))}'");
            }

            if (string.IsNullOrEmpty(apiVersion))
            {
                throw ApiError.BadRequest($"Object 'apiVersion' is missing in '{Truncate(KubeJson.ToJsonString(obj))}'");
            }
        }

        ExpectTypeMeta(apiVersion, kind, type.ApiVersion, type.Kind, type.Version);

        if (obj["metadata"] is not (null or JsonObject))
        {
            throw CannotHandle(type, $"json: cannot unmarshal {(obj["metadata"] is JsonArray ? "array" : "string")} into Go struct field {type.Kind}.metadata of type v1.ObjectMeta");
        }

        var ordered = TypeMetaFirst(obj, type.ApiVersion, type.Kind);
        return DecodeWithFieldValidation(scope, ordered, detail => CannotHandle(type, detail), o =>
        {
            if (type.BuiltinSchema is not { } schema)
            {
                return DecodeCustom(type, o);
            }

            try
            {
                return BuiltinDecoder.Decode(o, schema);
            }
            catch (DecodeException e)
            {
                throw CannotHandle(type, e.Message);
            }
        });
    }

    /// <summary>The body's apiVersion and kind, when given, must be the resource's (the real server's decoding errors).</summary>
    private static void ExpectTypeMeta(string? apiVersion, string? kind, string expectedApiVersion, string expectedKind, string version)
    {
        if (!string.IsNullOrEmpty(apiVersion) && apiVersion != expectedApiVersion)
        {
            throw ApiError.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({expectedApiVersion})");
        }

        if (!string.IsNullOrEmpty(kind) && kind != expectedKind)
        {
            throw ApiError.BadRequest($"{kind} in version \"{version}\" cannot be handled as a {expectedKind}: the object's kind does not match the resource");
        }
    }

    /// <summary>The object with apiVersion and kind set and leading, as in the real server's output (the fields move over).</summary>
    private static JsonObject TypeMetaFirst(JsonObject obj, string apiVersion, string kind)
    {
        var ordered = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind };
        foreach (var (name, value) in obj.ToList())
        {
            if (name is "apiVersion" or "kind")
            {
                continue;
            }

            obj.Remove(name);
            ordered[name] = value;
        }

        return ordered;
    }

    /// <summary>Decodes <paramref name="ordered"/> and treats the unknown fields it reports as <c>fieldValidation</c> says (Strict refuses, Warn warns).</summary>
    private static JsonObject DecodeWithFieldValidation(RequestScope scope, JsonObject ordered, Func<string, ApiError> cannotHandle, Func<JsonObject, List<string>> decode)
    {
        var mode = ParseFieldValidation(scope);
        var unknown = decode(ordered);
        if (unknown.Count > 0)
        {
            switch (mode)
            {
                case FieldValidation.Strict:
                    throw cannotHandle("strict decoding error: " + string.Join(", ", unknown.Select(u => $"unknown field \"{u}\"")));
                case FieldValidation.Warn:
                    scope.Warnings.AddRange(unknown.Select(u => $"unknown field \"{u}\""));
                    break;
            }
        }

        return ordered;
    }

    private static string Truncate(string json) => json.Length > 1000 ? json[..1000] + "..." : json;

    /// <summary>Body namespace defaults from the URL; a different one is refused; cluster-scoped objects have none.</summary>
    private static void EnsureNamespace(RequestScope scope, JsonObject metadata)
    {
        if (!scope.Type.Namespaced)
        {
            metadata.Remove("namespace");
            return;
        }

        var bodyNamespace = metadata.GetString("namespace");
        if (string.IsNullOrEmpty(bodyNamespace))
        {
            metadata["namespace"] = scope.Info.Namespace;
        }
        else if (bodyNamespace != scope.Info.Namespace)
        {
            throw ApiError.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }
    }

    /// <summary>NamespaceLifecycle: no creates in a missing or terminating namespace.</summary>
    private void CheckNamespaceForCreate(ResourceType type, string ns, string? name)
    {
        var namespaces = _store.Resource("namespaces", _registry.FieldExtractor("namespaces"));
        var stored = namespaces.Get(ns) ?? throw ApiError.NotFound("", "namespaces", ns);
        if (stored.Deleting)
        {
            var causes = new JsonArray(new JsonObject
            {
                ["reason"] = "NamespaceTerminating",
                ["message"] = $"namespace {ns} is being terminated",
                ["field"] = "metadata.namespace",
            });
            throw ApiError.Forbidden(type.Group, type.Plural, name ?? "",
                $"unable to create new content in namespace {ns} because it is being terminated", causes);
        }
    }

    private void CheckSize(ResourceType type, JsonObject obj)
    {
        var size = KubeJson.ToBytes(obj).Length;
        if (size > _options.MaxObjectBytes)
        {
            throw ApiError.RequestEntityTooLarge(_options.MaxObjectBytes);
        }
    }

    // ---- create ------------------------------------------------------------------------------------------

    private async Task CreateAsync(RequestScope scope)
    {
        var type = scope.Type;
        var obj = DecodeObject(scope, await ReadBodyAsync(scope));
        var metadata = obj.GetOrAddObject("metadata");
        EnsureNamespace(scope, metadata);
        if (!string.IsNullOrEmpty(metadata.GetString("resourceVersion")))
        {
            throw ApiError.Unknown("resourceVersion should not be set on objects to be created");
        }

        var (created, dryRun) = await CreateObjectAsync(scope, obj);
        if (created is not null)
        {
            await WriteObjectAsync(scope, 201, created);
        }
        else
        {
            AddWarnings(scope);
            await WriteJsonAsync(scope.Http, 201, KubeJson.ToBytes(dryRun!));
        }
    }

    /// <summary>The create pipeline from admission to storage; returns the stored object, or on dryRun the would-be object.</summary>
    private async Task<(StoredObject? Stored, JsonObject? DryRun)> CreateObjectAsync(RequestScope scope, JsonObject obj)
    {
        var type = scope.Type;
        var metadata = obj.GetOrAddObject("metadata");
        var ns = type.Namespaced ? metadata.GetString("namespace") : null;
        if (type.Custom is { Terminating: true })
        {
            throw ApiError.Create(405, "MethodNotAllowed", "create not allowed while custom resource definition is terminating");
        }

        if (ns is not null)
        {
            CheckNamespaceForCreate(type, ns, metadata.GetString("name"));
        }

        // Admission (built-in plugins, then mutating webhooks) sees the object as sent: no uid, no timestamps, no generated name.
        type.Strategy.Admit(this, obj, null, "CREATE");
        obj = await MutatingAdmissionAsync(scope, obj, null, "CREATE");
        metadata = obj.GetOrAddObject("metadata");

        // FillObjectMetaSystemFields and BeforeCreate.
        metadata["uid"] = NewUid();
        metadata["creationTimestamp"] = KubeTime.Format(Now);
        metadata.Remove("deletionTimestamp");
        metadata.Remove("deletionGracePeriodSeconds");
        metadata.Remove("selfLink");
        metadata.Remove("managedFields");

        var generateName = metadata.GetString("generateName");
        var generate = string.IsNullOrEmpty(metadata.GetString("name")) && !string.IsNullOrEmpty(generateName);
        if (generate)
        {
            metadata["name"] = GenerateName(generateName!);
        }

        type.Strategy.PrepareForCreate(this, obj);
        metadata = obj.GetOrAddObject("metadata");
        if (type.Strategy.TracksGeneration)
        {
            metadata["generation"] = 1;
        }
        else
        {
            metadata.Remove("generation");
        }

        ValidateCreate(scope, obj);
        await ValidateCustomAsync(scope, obj, null);
        await ValidatingAdmissionAsync(scope, obj, null, "CREATE");
        CheckSize(type, obj);

        if (scope.DryRun)
        {
            return (null, obj);
        }

        var resource = StorageOf(type);
        for (var attempt = 1; ; attempt++)
        {
            var name = metadata.GetString("name")!;
            var storage = await ToStorageAsync(type, obj.DeepClone().AsObject(), scope.Aborted);
            var result = _store.Create(resource, storage, StoredObject.KeyOf(ns, name));
            if (result.Ok)
            {
                return (result.Object!, null);
            }

            if (!generate)
            {
                throw ApiError.AlreadyExists(type.Group, type.Plural, name, result.Object!.Deleting);
            }

            if (attempt >= 8)
            {
                throw ApiError.GenerateNameConflict(type.Group, type.Plural, name);
            }

            metadata["name"] = GenerateName(generateName!);
        }
    }

    private void ValidateCreate(RequestScope scope, JsonObject obj)
    {
        var type = scope.Type;
        var errors = new List<FieldError>();
        var metadata = obj.GetOrAddObject("metadata");
        ObjectMetaValidation.Validate(metadata, type.Strategy.NameRule, nameRequired: true, errors);
        if (type.Namespaced && string.IsNullOrEmpty(metadata.GetString("namespace")))
        {
            errors.Add(FieldError.Required("metadata.namespace"));
        }

        type.Strategy.Validate(this, obj, errors);
        if (errors.Count > 0)
        {
            throw ApiError.Invalid(type.Group, type.Kind, metadata.GetString("name"), errors);
        }
    }

    // ---- update and patch ---------------------------------------------------------------------------------

    private async Task UpdateAsync(RequestScope scope)
    {
        var obj = DecodeObject(scope, await ReadBodyAsync(scope));
        var metadata = obj.GetOrAddObject("metadata");
        var bodyName = metadata.GetString("name") ?? "";
        if (bodyName != scope.Info.Name)
        {
            throw ApiError.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({scope.Info.Name})");
        }

        EnsureNamespace(scope, metadata);
        if (scope.Info.Subresource == "finalize")
        {
            await FinalizeNamespaceAsync(scope, obj);
            return;
        }

        await UpdateCoreAsync(scope, _ => Task.FromResult(obj.DeepClone().AsObject()));
    }

    private static readonly string[] BuiltinPatchTypes =
        ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"];

    private static readonly string[] CustomPatchTypes = ["application/json-patch+json", "application/merge-patch+json"];

    private async Task PatchAsync(RequestScope scope)
    {
        var type = scope.Type;
        var media = MediaType(scope);
        var accepted = type.IsCustom ? CustomPatchTypes : BuiltinPatchTypes;
        if (!accepted.Contains(media))
        {
            // Server-side apply is not implemented: refused exactly as a server without it refuses the media type.
            throw ApiError.UnsupportedMediaType(media, accepted);
        }

        if (scope.Query1("force") is { Length: > 0 })
        {
            throw ApiError.Invalid("meta.k8s.io", "PatchOptions", "", [FieldError.Forbidden("force", "may not be specified for non-apply patch")]);
        }

        var body = await ReadBodyAsync(scope);
        var patch = ParseBody(body, "application/json", message => ApiError.BadRequest(message));
        await UpdateCoreAsync(scope, current =>
        {
            var normalized = Normalize(scope, ApplyPatch(current, patch, media, type.BuiltinSchema), FieldsFromBody: false);
            var metadata = normalized.GetOrAddObject("metadata");
            if (metadata.GetString("name") != scope.Info.Name)
            {
                throw ApiError.Invalid(type.Group, type.Kind, scope.Info.Name,
                    [FieldError.Invalid("metadata.name", metadata["name"]?.DeepClone(), "field is immutable")]);
            }

            EnsureNamespace(scope, metadata);
            return Task.FromResult(normalized);
        });
    }

    /// <summary>Applies a JSON, merge or strategic-merge patch, failing as the real patcher does (400 malformed, 422 inapplicable).</summary>
    private static JsonObject ApplyPatch(JsonObject current, JsonNode? patch, string media, SchemaNode? schema)
    {
        JsonNode? patched;
        try
        {
            patched = media switch
            {
                "application/json-patch+json" => JsonPatch.Apply(current, patch),
                "application/merge-patch+json" => patch is JsonObject ? MergePatch.Apply(current, patch) : throw new PatchFormatException("json: cannot unmarshal array into Go value of type map[string]interface {}"),
                _ => StrategicMergePatch.Apply(current, patch, schema!),
            };
        }
        catch (PatchFormatException e)
        {
            throw ApiError.BadRequest(e.Message);
        }
        catch (PatchApplyException e)
        {
            throw ApiError.Create(422, "Invalid", "the server rejected our request due to an error in our request",
                new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["reason"] = "UnexpectedServerResponse", ["message"] = e.Message }) });
        }

        return patched as JsonObject ?? throw ApiError.BadRequest("the patched object is not a JSON object");
    }

    /// <summary>
    /// apiserver's <c>GuaranteedUpdate</c>: read, build the new object, run strategy/admission/validation,
    /// then commit if the revision is unchanged (retrying when the caller did not pin a resourceVersion).
    /// </summary>
    private async Task UpdateCoreAsync(RequestScope scope, Func<JsonObject, Task<JsonObject>> produce)
    {
        var type = scope.Type;
        var status = scope.Info.Subresource == "status";
        var resource = StorageOf(type);
        var key = StoredObject.KeyOf(scope.Info.Namespace, scope.Info.Name!);
        for (var attempt = 0; ; attempt++)
        {
            var current = resource.Get(key) ?? throw ApiError.NotFound(type.Group, type.Plural, scope.Info.Name!);
            var currentRv = current.ResourceVersion.ToString(CultureInfo.InvariantCulture);
            var old = await ToViewAsync(type, current.ToJson(), scope.Aborted);
            var obj = await produce(old.DeepClone().AsObject());
            var bodyRv = obj.StringAt("metadata", "resourceVersion");
            var conditional = !string.IsNullOrEmpty(bodyRv);
            if (!conditional && !type.Strategy.AllowUnconditionalUpdate)
            {
                throw ApiError.Invalid(type.Group, type.Kind, scope.Info.Name,
                    [FieldError.Invalid("metadata.resourceVersion", 0, "must be specified for an update")]);
            }

            if (conditional && bodyRv != currentRv)
            {
                throw ApiError.Conflict(type.Group, type.Plural, scope.Info.Name!, ApiError.OptimisticLockMessage);
            }

            // Admission runs as the update's object transformer, before the strategy prepares the object.
            if (!status)
            {
                type.Strategy.Admit(this, obj, old, "UPDATE");
            }

            obj = await MutatingAdmissionAsync(scope, obj, old, "UPDATE");

            JsonObject next;
            if (status)
            {
                next = type.Strategy.PrepareForStatusUpdate(this, obj, old);
            }
            else
            {
                type.Strategy.PrepareForUpdate(this, obj, old);
                next = obj;
            }

            var metadata = next.GetOrAddObject("metadata");
            var oldMetadata = old.GetOrAddObject("metadata");
            PreserveSystemFields(metadata, oldMetadata);
            metadata["resourceVersion"] = currentRv;

            if (type.Strategy.TracksGeneration && !status && type.Strategy.SpecChanged(next, old))
            {
                metadata["generation"] = (oldMetadata.GetLong("generation") ?? 0) + 1;
            }

            ValidateUpdate(scope, next, old, status);
            await ValidateCustomAsync(scope, next, old);
            await ValidatingAdmissionAsync(scope, next, old, "UPDATE");

            var deleting = oldMetadata["deletionTimestamp"] is not null;
            var finalizersEmpty = metadata["finalizers"] is not JsonArray { Count: > 0 };
            var graceZero = (metadata.GetLong("deletionGracePeriodSeconds") ?? 0) == 0;
            if (deleting && finalizersEmpty && graceZero)
            {
                // The last finalizer is gone: the update deletes the object (ShouldDeleteDuringUpdate).
                if (!scope.DryRun)
                {
                    var removed = _store.Delete(resource, key, current.ResourceVersion);
                    if (removed.Status == CommitStatus.Conflict)
                    {
                        if (conditional)
                        {
                            throw ApiError.Conflict(type.Group, type.Plural, scope.Info.Name!, ApiError.OptimisticLockMessage);
                        }

                        continue;
                    }
                }

                AddWarnings(scope);
                await WriteJsonAsync(scope.Http, 200, KubeJson.ToBytes(next));
                return;
            }

            if (JsonNode.DeepEquals(next, old))
            {
                // A no-op write changes nothing: same revision, no watch event.
                await WriteObjectAsync(scope, 200, current);
                return;
            }

            CheckSize(type, next);
            if (scope.DryRun)
            {
                AddWarnings(scope);
                await WriteJsonAsync(scope.Http, 200, KubeJson.ToBytes(next));
                return;
            }

            var storage = await ToStorageAsync(type, next, scope.Aborted);
            var result = _store.Update(resource, key, current.ResourceVersion, storage);
            switch (result.Status)
            {
                case CommitStatus.Ok:
                    await WriteObjectAsync(scope, 200, result.Object!);
                    return;
                case CommitStatus.NotFound:
                    throw ApiError.NotFound(type.Group, type.Plural, scope.Info.Name!);
                case CommitStatus.Conflict when conditional || attempt > 100:
                    throw ApiError.Conflict(type.Group, type.Plural, scope.Info.Name!, ApiError.OptimisticLockMessage);
            }
        }
    }

    /// <summary>rest.BeforeUpdate: fields an update cannot change are taken from the stored object.</summary>
    private static void PreserveSystemFields(JsonObject metadata, JsonObject old)
    {
        if (string.IsNullOrEmpty(metadata.GetString("uid")))
        {
            metadata["uid"] = old["uid"]?.DeepClone();
        }

        metadata["creationTimestamp"] = old["creationTimestamp"]?.DeepClone();
        if (old["deletionTimestamp"] is { } deletion)
        {
            metadata["deletionTimestamp"] = deletion.DeepClone();
        }
        else
        {
            metadata.Remove("deletionTimestamp");
        }

        if (old["deletionGracePeriodSeconds"] is { } grace)
        {
            metadata["deletionGracePeriodSeconds"] = grace.DeepClone();
        }
        else
        {
            metadata.Remove("deletionGracePeriodSeconds");
        }

        if (old["generation"] is { } generation)
        {
            metadata["generation"] = generation.DeepClone();
        }
        else
        {
            metadata.Remove("generation");
        }

        metadata.Remove("selfLink");
        metadata.Remove("managedFields");
        if (old["managedFields"] is { } managed)
        {
            metadata["managedFields"] = managed.DeepClone();
        }
    }

    private void ValidateUpdate(RequestScope scope, JsonObject obj, JsonObject old, bool status)
    {
        var type = scope.Type;
        var errors = new List<FieldError>();
        var metadata = obj.GetOrAddObject("metadata");
        var oldMetadata = old.GetOrAddObject("metadata");
        ObjectMetaValidation.Validate(metadata, type.Strategy.NameRule, nameRequired: true, errors);
        if (metadata.GetString("uid") != oldMetadata.GetString("uid"))
        {
            errors.Add(FieldError.Invalid("metadata.uid", metadata["uid"]?.DeepClone(), "field is immutable"));
        }

        if (oldMetadata["deletionTimestamp"] is not null)
        {
            var before = (oldMetadata["finalizers"] as JsonArray ?? []).Select(f => f?.ToJsonString()).ToHashSet();
            var added = (metadata["finalizers"] as JsonArray ?? []).Where(f => !before.Contains(f?.ToJsonString())).Select(f => f!.GetValue<string>()).ToList();
            if (added.Count > 0)
            {
                errors.Add(FieldError.Forbidden("metadata.finalizers",
                    "no new finalizers can be added if the object is being deleted, found new finalizers []string{" +
                    string.Join(", ", added.Select(KubeJson.GoQuote)) + "}"));
            }
        }

        if (status)
        {
            type.Strategy.ValidateStatusUpdate(this, obj, old, errors);
        }
        else
        {
            type.Strategy.ValidateUpdate(this, obj, old, errors);
        }

        if (errors.Count > 0)
        {
            throw ApiError.Invalid(type.Group, type.Kind, metadata.GetString("name"), errors);
        }
    }

    // ---- delete --------------------------------------------------------------------------------------------

    private sealed record DeleteOptions(long? GracePeriodSeconds, string? PreconditionUid, string? PreconditionResourceVersion, string? PropagationPolicy, bool DryRun);

    private async Task<DeleteOptions> ReadDeleteOptionsAsync(RequestScope scope)
    {
        long? grace = null;
        string? uid = null, rv = null, policy = null;
        var dryRun = scope.DryRun;
        var body = await ReadBodyAsync(scope);
        bool? orphan = null;
        if (body.Length > 0)
        {
            var node = ParseBody(body, "application/json", message => ApiError.BadRequest($"the object provided is unrecognized (must be of type DeleteOptions): couldn't get version/kind; json parse error: {message}"));
            if (node is JsonObject options)
            {
                grace = options.GetLong("gracePeriodSeconds");
                uid = options.StringAt("preconditions", "uid");
                rv = options.StringAt("preconditions", "resourceVersion");
                policy = options.GetString("propagationPolicy");
                orphan = options.GetBool("orphanDependents");
                if (options["dryRun"] is JsonArray dry && dry.Any(d => d?.ToString() == "All"))
                {
                    dryRun = true;
                }
            }
        }

        if (scope.Query1("gracePeriodSeconds") is { Length: > 0 } g && long.TryParse(g, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
        {
            grace = parsed;
        }

        policy = scope.Query1("propagationPolicy") is { Length: > 0 } p ? p : policy;
        if (scope.Query1("orphanDependents") is { Length: > 0 } o)
        {
            orphan = o == "true";
        }

        var errors = new List<FieldError>();
        if (orphan is not null && policy is not null)
        {
            errors.Add(FieldError.Invalid("propagationPolicy", policy, "orphanDependents and deletionPropagation cannot be both set"));
        }

        if (policy is not null and not ("Orphan" or "Background" or "Foreground"))
        {
            errors.Add(FieldError.NotSupported("propagationPolicy", policy, ["Foreground", "Background", "Orphan", "nil"]));
        }

        if (errors.Count > 0)
        {
            throw ApiError.Invalid("meta.k8s.io", "DeleteOptions", "", errors);
        }

        return new DeleteOptions(grace, uid, rv, policy, dryRun);
    }

    private async Task DeleteAsync(RequestScope scope)
    {
        var options = await ReadDeleteOptionsAsync(scope);
        var type = scope.Type;
        if (type.Plural == "namespaces" && type.Group.Length == 0)
        {
            await DeleteNamespaceAsync(scope, options);
            return;
        }

        var (status, obj) = await DeleteObjectAsync(type, scope.Info.Namespace, scope.Info.Name!, options, scope.Aborted, scope);
        await WriteDeleteResultAsync(scope, type, status, obj);
    }

    private static async Task WriteDeleteResultAsync(RequestScope scope, ResourceType type, int status, JsonObject obj)
    {
        if (status == 0 && !type.Strategy.ReturnDeletedObject)
        {
            var details = ApiError.DetailsFor(obj.StringAt("metadata", "name"), type.Group, type.Plural);
            details["uid"] = obj.StringAt("metadata", "uid");
            var success = new JsonObject
            {
                ["kind"] = "Status",
                ["apiVersion"] = "v1",
                ["metadata"] = new JsonObject(),
                ["status"] = "Success",
                ["details"] = details,
            };
            AddWarnings(scope);
            await WriteJsonAsync(scope.Http, 200, KubeJson.ToBytes(success));
            return;
        }

        AddWarnings(scope);
        await WriteJsonAsync(scope.Http, 200, KubeJson.ToBytes(obj));
    }

    /// <summary>
    /// registry Store.Delete: preconditions, graceful deletion and finalizers. Returns 0 with the object as it
    /// was when it was removed, or 200 with the object kept (deletionTimestamp set).
    /// </summary>
    private async Task<(int Status, JsonObject Object)> DeleteObjectAsync(ResourceType type, string? ns, string name, DeleteOptions options, CancellationToken ct, RequestScope? admission = null)
    {
        var resource = StorageOf(type);
        var key = StoredObject.KeyOf(ns, name);
        for (var attempt = 0; ; attempt++)
        {
            var current = resource.Get(key) ?? throw ApiError.NotFound(type.Group, type.Plural, name);
            var obj = current.ToJson();
            if (options.PreconditionUid is { Length: > 0 } uid && uid != current.Uid)
            {
                throw ApiError.Conflict(type.Group, type.Kind, name,
                    $"the UID in the precondition ({uid}) does not match the UID in record ({current.Uid}). The object might have been deleted and then recreated");
            }

            var currentRv = current.ResourceVersion.ToString(CultureInfo.InvariantCulture);
            if (options.PreconditionResourceVersion is { Length: > 0 } rv && rv != currentRv)
            {
                throw ApiError.Conflict(type.Group, type.Kind, name,
                    $"the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({currentRv}). The object might have been modified");
            }

            if (admission is not null)
            {
                // API deletions are admitted; the server's own (eviction, CRD cleanup, namespace controller) are not.
                await DeleteAdmissionAsync(admission, type, await ToViewAsync(type, obj.DeepClone().AsObject(), ct), options);
            }

            var metadata = obj.GetOrAddObject("metadata");
            if (metadata["deletionTimestamp"] is null && PropagationFinalizer(options) is { } propagation)
            {
                _ = AddPropagationFinalizer(metadata, propagation);
            }

            var hasFinalizers = metadata["finalizers"] is JsonArray { Count: > 0 };
            var grace = type.Strategy.GracePeriodSeconds(obj, options.GracePeriodSeconds);
            var graceful = grace is > 0;
            var now = Now;
            JsonObject? updated = null;
            var removeNow = !hasFinalizers && !graceful;
            if (metadata["deletionTimestamp"] is not null)
            {
                // Already being deleted: only a shorter grace period changes anything.
                var currentGrace = metadata.GetLong("deletionGracePeriodSeconds") ?? 0;
                if (grace is not { } g || g >= currentGrace)
                {
                    return (200, await ToViewAsync(type, obj, ct));
                }

                removeNow = g == 0 && !hasFinalizers;
                if (!removeNow)
                {
                    metadata["deletionTimestamp"] = KubeTime.Format(now.AddSeconds(g));
                    metadata["deletionGracePeriodSeconds"] = g;
                    updated = obj;
                }
            }
            else if (!removeNow)
            {
                metadata["deletionTimestamp"] = KubeTime.Format(now.AddSeconds(graceful ? grace!.Value : 0));
                metadata["deletionGracePeriodSeconds"] = graceful ? grace!.Value : 0;
                if (metadata.GetLong("generation") is { } generation and > 0)
                {
                    metadata["generation"] = generation + 1;
                }

                updated = obj;
            }

            if (updated is not null)
            {
                if (options.DryRun)
                {
                    return (200, await ToViewAsync(type, updated, ct));
                }

                var result = _store.Update(resource, key, current.ResourceVersion, updated);
                if (result.Status == CommitStatus.Conflict)
                {
                    continue;
                }

                if (result.Status == CommitStatus.NotFound)
                {
                    throw ApiError.NotFound(type.Group, type.Plural, name);
                }

                return (200, await ToViewAsync(type, result.Object!.ToJson(), ct));
            }

            if (options.DryRun)
            {
                return (0, await ToViewAsync(type, obj, ct));
            }

            var deleted = _store.Delete(resource, key, current.ResourceVersion);
            if (deleted.Status == CommitStatus.Conflict)
            {
                continue;
            }

            if (deleted.Status == CommitStatus.NotFound)
            {
                throw ApiError.NotFound(type.Group, type.Plural, name);
            }

            return (0, await ToViewAsync(type, deleted.Object!.ToJson(), ct));
        }
    }

    private async Task DeleteCollectionAsync(RequestScope scope)
    {
        var options = await ReadDeleteOptionsAsync(scope);
        var (labels, fields) = ParseSelectors(scope);
        var type = scope.Type;
        var resource = StorageOf(type);
        var (items, revision) = _store.Snapshot(resource);
        var prefix = scope.Info.Namespace is null ? null : scope.Info.Namespace + "/";
        var deleted = new List<JsonObject>();
        foreach (var (key, obj) in items)
        {
            if ((prefix is not null && !key.StartsWith(prefix, StringComparison.Ordinal)) || !labels.Matches(obj.Labels) || !fields.Matches(obj.FieldValue))
            {
                continue;
            }

            try
            {
                var (_, result) = await DeleteObjectAsync(type, obj.Namespace.Length == 0 ? null : obj.Namespace, obj.Name, options, scope.Aborted, scope);
                deleted.Add(result);
            }
            catch (ApiError e) when (e.Code == 404)
            {
                // Deleted concurrently.
            }
        }

        var list = new JsonObject
        {
            ["kind"] = type.EffectiveListKind,
            ["apiVersion"] = type.ApiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = _store.CurrentRevision.ToString(CultureInfo.InvariantCulture) },
            ["items"] = new JsonArray(deleted.Select(d => (JsonNode?)d).ToArray()),
        };
        _ = revision;
        AddWarnings(scope);
        await WriteJsonAsync(scope.Http, 200, KubeJson.ToBytes(list));
    }
}

using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Validation;

namespace Karpenter.Sim.KubeApi.Strategies;

/// <summary>
/// Custom resources (apiextensions <c>registry/customresource/strategy.go</c>): generation 1 on create and +1 on
/// any non-metadata change, status dropped on create and isolated when the version has a status
/// subresource, PUT requires a resourceVersion.
/// </summary>
internal sealed class CustomResourceStrategy(bool hasStatus) : ResourceStrategy
{
    public override bool HasStatusSubresource => hasStatus;

    public override bool AllowUnconditionalUpdate => false;

    public override bool TracksGeneration => true;
}

/// <summary>
/// CustomResourceDefinitions: names and versions validated, the cleanup finalizer added, and (the naming and
/// establishing controllers' work, done at once) names accepted and the CRD Established on create.
/// </summary>
internal sealed class CustomResourceDefinitionStrategy : ResourceStrategy
{
    public const string CleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";

    public override bool HasStatusSubresource => true;

    public override bool TracksGeneration => true;

    public override void PrepareForCreate(IStrategyContext context, JsonObject obj)
    {
        base.PrepareForCreate(context, obj);
        var metadata = obj.GetOrAddObject("metadata");
        var finalizers = metadata["finalizers"] as JsonArray ?? [];
        if (!finalizers.Any(f => f?.GetValue<string>() == CleanupFinalizer))
        {
            finalizers.Add(CleanupFinalizer);
        }

        metadata["finalizers"] = finalizers;
        obj["status"] = Established(obj, context.Now);
    }

    public override void PrepareForUpdate(IStrategyContext context, JsonObject obj, JsonObject old)
    {
        base.PrepareForUpdate(context, obj, old);
        var status = obj.GetOrAddObject("status");
        var fresh = Established(obj, context.Now);
        status["acceptedNames"] = fresh["acceptedNames"]!.DeepClone();
        var stored = status["storedVersions"] as JsonArray ?? [];
        var storage = StorageVersion(obj);
        if (storage is not null && !stored.Any(s => s?.GetValue<string>() == storage))
        {
            stored.Add(storage);
        }

        status["storedVersions"] = stored;
    }

    private static JsonObject Established(JsonObject crd, DateTimeOffset now)
    {
        var time = KubeTime.Format(now);
        var names = crd.At("spec", "names")?.DeepClone() as JsonObject ?? [];
        names["singular"] ??= (names.GetString("kind") ?? "").ToLowerInvariant();
        names["listKind"] ??= names.GetString("kind") + "List";
        var storage = StorageVersion(crd);
        return new JsonObject
        {
            ["conditions"] = new JsonArray(
                new JsonObject { ["type"] = "NamesAccepted", ["status"] = "True", ["lastTransitionTime"] = time, ["reason"] = "NoConflicts", ["message"] = "no conflicts found" },
                new JsonObject { ["type"] = "Established", ["status"] = "True", ["lastTransitionTime"] = time, ["reason"] = "InitialNamesAccepted", ["message"] = "the initial names have been accepted" }),
            ["acceptedNames"] = names,
            ["storedVersions"] = storage is null ? new JsonArray() : new JsonArray(storage),
        };
    }

    public static string? StorageVersion(JsonObject crd) =>
        (crd.At("spec", "versions") as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(v => v.GetBool("storage") == true)?.GetString("name");

    public override void Validate(IStrategyContext context, JsonObject obj, List<FieldError> errors)
    {
        var spec = obj.GetObject("spec");
        if (spec is null)
        {
            errors.Add(FieldError.Required("spec"));
            return;
        }

        var group = spec.GetString("group") ?? "";
        var names = spec.GetObject("names") ?? [];
        var plural = names.GetString("plural") ?? "";
        var name = obj.StringAt("metadata", "name") ?? "";
        if (group.Length == 0)
        {
            errors.Add(FieldError.Required("spec.group"));
        }
        else if (!group.Contains('.', StringComparison.Ordinal))
        {
            errors.Add(FieldError.Invalid("spec.group", group, "should be a domain with at least one dot"));
        }

        if (plural.Length == 0)
        {
            errors.Add(FieldError.Required("spec.names.plural"));
        }

        if (string.IsNullOrEmpty(names.GetString("kind")))
        {
            errors.Add(FieldError.Required("spec.names.kind"));
        }

        if (name != $"{plural}.{group}")
        {
            errors.Add(FieldError.Invalid("metadata.name", name, $"must be spec.names.plural+\".\"+spec.group"));
        }

        var scope = spec.GetString("scope");
        if (scope is not ("Namespaced" or "Cluster"))
        {
            errors.Add(scope is null ? FieldError.Required("spec.scope") : FieldError.NotSupported("spec.scope", scope, ["Cluster", "Namespaced"]));
        }

        var versions = spec["versions"] as JsonArray ?? [];
        if (versions.Count == 0)
        {
            errors.Add(FieldError.Invalid("spec.versions", new JsonArray(), "must have exactly one version marked as storage version"));
            return;
        }

        var storageCount = 0;
        var servedCount = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < versions.Count; i++)
        {
            if (versions[i] is not JsonObject version)
            {
                continue;
            }

            var versionName = version.GetString("name") ?? "";
            foreach (var message in ObjectMetaValidation.Dns1123LabelErrors(versionName))
            {
                errors.Add(FieldError.Invalid($"spec.versions[{i}].name", versionName, message));
            }

            if (!seen.Add(versionName))
            {
                errors.Add(FieldError.Duplicate($"spec.versions[{i}].name", versionName));
            }

            storageCount += version.GetBool("storage") == true ? 1 : 0;
            servedCount += version.GetBool("served") == true ? 1 : 0;
            if (version.At("schema", "openAPIV3Schema") is not JsonObject schema)
            {
                errors.Add(FieldError.Required($"spec.versions[{i}].schema.openAPIV3Schema", "schemas are required"));
            }
            else if (schema.GetString("type") != "object")
            {
                errors.Add(FieldError.Invalid($"spec.versions[{i}].schema.openAPIV3Schema.type", schema["type"]?.DeepClone() ?? "", "must be object at the root"));
            }
        }

        if (storageCount != 1)
        {
            errors.Add(FieldError.Invalid("spec.versions", null, "must have exactly one version marked as storage version"));
        }

        if (servedCount == 0)
        {
            errors.Add(FieldError.Invalid("spec.versions", null, "must have at least one version marked as served"));
        }

        var strategy = spec.StringAt("conversion", "strategy") ?? "None";
        if (strategy is not ("None" or "Webhook"))
        {
            errors.Add(FieldError.NotSupported("spec.conversion.strategy", strategy, ["None", "Webhook"]));
        }
        else if (strategy == "Webhook" && spec.At("conversion", "webhook", "clientConfig") is not JsonObject)
        {
            errors.Add(FieldError.Required("spec.conversion.webhook.clientConfig", "required when strategy is set to Webhook"));
        }
    }

    public override void ValidateUpdate(IStrategyContext context, JsonObject obj, JsonObject old, List<FieldError> errors)
    {
        Validate(context, obj, errors);
        if (obj.StringAt("spec", "scope") != old.StringAt("spec", "scope"))
        {
            errors.Add(FieldError.Invalid("spec.scope", obj.StringAt("spec", "scope") ?? "", "field is immutable"));
        }

        if (obj.StringAt("spec", "group") != old.StringAt("spec", "group"))
        {
            errors.Add(FieldError.Invalid("spec.group", obj.StringAt("spec", "group") ?? "", "field is immutable"));
        }
    }
}

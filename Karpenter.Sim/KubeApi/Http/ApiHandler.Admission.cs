using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Resources;
using Karpenter.Sim.KubeApi.Schema;
using Karpenter.Sim.KubeApi.Webhooks;

namespace Karpenter.Sim.KubeApi.Http;

internal sealed partial class ApiHandler
{
    /// <summary>Mutating admission webhooks; returns the (possibly patched and re-normalised) object.</summary>
    private async Task<JsonObject> MutatingAdmissionAsync(RequestScope scope, JsonObject obj, JsonObject? old, string operation)
    {
        var attributes = Attributes(scope, obj, old, operation);
        return await _admission.MutateAsync(attributes, scope.Warnings, Renormalize, scope.Aborted) ?? obj;
    }

    /// <summary>Validating admission webhooks; a denial throws the webhook's Status.</summary>
    private Task ValidatingAdmissionAsync(RequestScope scope, JsonObject obj, JsonObject? old, string operation) =>
        _admission.ValidateAsync(Attributes(scope, obj, old, operation), scope.Warnings, scope.Aborted);

    /// <summary>
    /// DELETE admission (rest.AdmissionToValidateObjectDeleteFunc): mutating then validating webhooks with no
    /// object and the stored one as <c>oldObject</c>. A mutating webhook may not patch a deletion.
    /// </summary>
    private async Task DeleteAdmissionAsync(RequestScope scope, ResourceType type, JsonObject old, DeleteOptions options)
    {
        var metadataNamespace = old.StringAt("metadata", "namespace");
        var name = old.StringAt("metadata", "name") ?? "";
        var deleteOptions = new JsonObject { ["kind"] = "DeleteOptions", ["apiVersion"] = "meta.k8s.io/v1" };
        if (options.GracePeriodSeconds is { } grace)
        {
            deleteOptions["gracePeriodSeconds"] = grace;
        }

        if (options.PreconditionUid is not null || options.PreconditionResourceVersion is not null)
        {
            var preconditions = new JsonObject();
            if (options.PreconditionUid is not null)
            {
                preconditions["uid"] = options.PreconditionUid;
            }

            if (options.PreconditionResourceVersion is not null)
            {
                preconditions["resourceVersion"] = options.PreconditionResourceVersion;
            }

            deleteOptions["preconditions"] = preconditions;
        }

        if (options.PropagationPolicy is not null)
        {
            deleteOptions["propagationPolicy"] = options.PropagationPolicy;
        }

        if (options.DryRun)
        {
            deleteOptions["dryRun"] = new JsonArray("All");
        }

        AdmissionAttributes Make() => new()
        {
            Type = type,
            Operation = "DELETE",
            Namespace = IsNamespaceType(type) ? name : metadataNamespace,
            Name = name,
            OldObject = old,
            DryRun = options.DryRun,
            Options = deleteOptions,
        };
        await _admission.MutateAsync(Make(), scope.Warnings, Renormalize, scope.Aborted);
        await _admission.ValidateAsync(Make(), scope.Warnings, scope.Aborted);
    }

    /// <summary>CREATE admission of a subresource whose body is its own kind (pods/binding, pods/eviction); returns the admitted body.</summary>
    private async Task<JsonObject> SubresourceAdmissionAsync(RequestScope scope, JsonObject body, string group, string version, string kind)
    {
        AdmissionAttributes Make(JsonObject? obj) => new()
        {
            Type = scope.Type,
            Subresource = scope.Info.Subresource,
            Operation = "CREATE",
            Namespace = scope.Info.Namespace,
            Name = scope.Info.Name ?? "",
            Object = obj,
            DryRun = scope.DryRun,
            Options = OptionsFor(scope, "CREATE"),
            SubresourceKind = (group, version, kind),
        };
        var admitted = await _admission.MutateAsync(Make(body), scope.Warnings, static (_, _) => { }, scope.Aborted) ?? body;
        await _admission.ValidateAsync(Make(admitted), scope.Warnings, scope.Aborted);
        return admitted;
    }

    private static AdmissionAttributes Attributes(RequestScope scope, JsonObject obj, JsonObject? old, string operation) => new()
    {
        Type = scope.Type,
        Subresource = scope.Info.Subresource,
        Operation = operation,
        Namespace = IsNamespaceType(scope.Type) ? obj.StringAt("metadata", "name") : scope.Type.Namespaced ? obj.StringAt("metadata", "namespace") ?? scope.Info.Namespace : null,
        Name = obj.StringAt("metadata", "name") ?? "",
        Object = obj,
        OldObject = old,
        DryRun = scope.DryRun,
        Options = OptionsFor(scope, operation),
    };

    private static bool IsNamespaceType(ResourceType type) => type.Group.Length == 0 && type.Plural == "namespaces";

    private static JsonObject OptionsFor(RequestScope scope, string operation)
    {
        var options = new JsonObject { ["kind"] = operation == "CREATE" ? "CreateOptions" : "UpdateOptions", ["apiVersion"] = "meta.k8s.io/v1" };
        if (scope.DryRun)
        {
            options["dryRun"] = new JsonArray("All");
        }

        if (scope.Query1("fieldManager") is { Length: > 0 } manager)
        {
            options["fieldManager"] = manager;
        }

        return options;
    }

    /// <summary>After a webhook's patch the object is decoded again: CRs pruned and defaulted, built-ins checked against their Go types.</summary>
    private static void Renormalize(ResourceType type, JsonObject obj)
    {
        if (type.Custom is { } custom)
        {
            if (obj["metadata"] is JsonObject metadata)
            {
                DecodeQuietly(type, () => BuiltinDecoder.Decode(metadata, BuiltinSchemas.For(typeof(k8s.Models.V1ObjectMeta))));
            }

            custom.Schema.Prune(obj);
            custom.Schema.Default(obj);
            return;
        }

        if (type.BuiltinSchema is { } schema)
        {
            DecodeQuietly(type, () => BuiltinDecoder.Decode(obj, schema));
        }
    }

    private static void DecodeQuietly(ResourceType type, Func<List<string>> decode)
    {
        try
        {
            _ = decode();
        }
        catch (DecodeException e)
        {
            throw ApiError.Internal($"{type.Kind} in version \"{type.Version}\" cannot be handled as a {type.Kind}: {e.Message}");
        }
    }
}

using System.Text.Json.Nodes;
using Karpenter.Entities.WellKnown;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Validation;

namespace Karpenter.Sim.KubeApi.Strategies;

/// <summary>Nodes: TaintNodesByCondition on create, status settable on create, set-once providerID, taint validation.</summary>
internal sealed class NodeStrategy : ResourceStrategy
{
    public override bool HasStatusSubresource => true;

    public override bool ResetStatusOnCreate => false;

    public override void Admit(IStrategyContext context, JsonObject obj, JsonObject? old, string operation)
    {
        if (operation != "CREATE")
        {
            return;
        }

        var spec = obj.GetOrAddObject("spec");
        var taints = spec["taints"] as JsonArray ?? [];
        if (!taints.OfType<JsonObject>().Any(t => t.GetString("key") == Taints.NotReadyKey && t.GetString("effect") == Taints.EffectNoSchedule))
        {
            taints.Add(new JsonObject { ["key"] = Taints.NotReadyKey, ["effect"] = Taints.EffectNoSchedule });
        }

        spec["taints"] = taints;
    }

    public override void Validate(IStrategyContext context, JsonObject obj, List<FieldError> errors)
    {
        if (obj.At("spec", "taints") is JsonArray taints)
        {
            var seen = new HashSet<(string?, string?)>();
            for (var i = 0; i < taints.Count; i++)
            {
                if (taints[i] is not JsonObject taint)
                {
                    continue;
                }

                var key = taint.GetString("key") ?? "";
                var keyError = ObjectMetaValidation.QualifiedNameError(key);
                if (keyError is not null)
                {
                    errors.Add(FieldError.Invalid($"spec.taints[{i}].key", key, keyError));
                }

                var value = taint.GetString("value") ?? "";
                var valueError = ObjectMetaValidation.LabelValueError(value);
                if (valueError is not null)
                {
                    errors.Add(FieldError.Invalid($"spec.taints[{i}].value", value, valueError));
                }

                var effect = taint.GetString("effect");
                if (string.IsNullOrEmpty(effect))
                {
                    errors.Add(FieldError.Required($"spec.taints[{i}].effect"));
                }
                else if (effect is not (Taints.EffectNoSchedule or Taints.EffectPreferNoSchedule or Taints.EffectNoExecute))
                {
                    errors.Add(FieldError.NotSupported($"spec.taints[{i}].effect", effect,
                        [Taints.EffectNoExecute, Taints.EffectNoSchedule, Taints.EffectPreferNoSchedule]));
                }

                if (!seen.Add((key, effect)))
                {
                    errors.Add(FieldError.Duplicate($"spec.taints[{i}]", $"{key}:{effect}"));
                }
            }
        }
    }

    public override void ValidateUpdate(IStrategyContext context, JsonObject obj, JsonObject old, List<FieldError> errors)
    {
        Validate(context, obj, errors);
        var before = old.StringAt("spec", "providerID") ?? "";
        var after = obj.StringAt("spec", "providerID") ?? "";
        if (before.Length > 0 && before != after)
        {
            errors.Add(FieldError.Forbidden("spec.providerID", "node updates may not change providerID except from \"\" to valid"));
        }
    }
}

/// <summary>Namespaces: DNS-label names, <c>Active</c> phase and the <c>kubernetes</c> spec finalizer on create.</summary>
internal sealed class NamespaceStrategy : ResourceStrategy
{
    public override ObjectMetaValidation.NameRule NameRule => ObjectMetaValidation.NameRule.Dns1123Label;

    public override bool HasStatusSubresource => true;

    public override void PrepareForCreate(IStrategyContext context, JsonObject obj)
    {
        obj["status"] = new JsonObject { ["phase"] = "Active" };
        var spec = obj.GetOrAddObject("spec");
        if (spec["finalizers"] is not JsonArray finalizers || !finalizers.Any(f => f?.GetValue<string>() == "kubernetes"))
        {
            spec["finalizers"] = new JsonArray("kubernetes");
        }

        // The NamespaceLifecycle-era label every namespace carries.
        var labels = obj.GetOrAddObject("metadata").GetOrAddObject("labels");
        labels["kubernetes.io/metadata.name"] = obj.StringAt("metadata", "name");
    }

    public override void PrepareForUpdate(IStrategyContext context, JsonObject obj, JsonObject old)
    {
        base.PrepareForUpdate(context, obj, old);

        // spec.finalizers is changed only through /finalize.
        if (old["spec"] is JsonObject oldSpec)
        {
            obj["spec"] = oldSpec.DeepClone();
        }

        obj.GetOrAddObject("metadata").GetOrAddObject("labels")["kubernetes.io/metadata.name"] = obj.StringAt("metadata", "name");
    }
}

/// <summary>core/v1 Events (<c>ValidateEventCreate</c> for the legacy API).</summary>
internal sealed class EventStrategy : ResourceStrategy
{
    public override ObjectMetaValidation.NameRule NameRule => ObjectMetaValidation.NameRule.Dns1123Subdomain;

    public override void Validate(IStrategyContext context, JsonObject obj, List<FieldError> errors)
    {
        var ns = obj.StringAt("metadata", "namespace") ?? "";
        var involvedNamespace = obj.StringAt("involvedObject", "namespace") ?? "";
        if (involvedNamespace.Length == 0)
        {
            if (ns.Length > 0 && ns != "default")
            {
                errors.Add(FieldError.Invalid("involvedObject.namespace", involvedNamespace, "does not match event.namespace"));
            }
        }
        else if (ns != involvedNamespace)
        {
            errors.Add(FieldError.Invalid("involvedObject.namespace", involvedNamespace, "does not match event.namespace"));
        }

        var type = obj.GetString("type");
        if (!string.IsNullOrEmpty(type) && type is not ("Normal" or "Warning"))
        {
            errors.Add(FieldError.NotSupported("type", type, ["Normal", "Warning"]));
        }

        if ((obj.GetString("reason") ?? "").Length > 128)
        {
            errors.Add(FieldError.TooLong("reason", 128));
        }
    }
}

/// <summary>events.k8s.io/v1 Events (stricter than core/v1: eventTime, reportingController, reportingInstance, action required).</summary>
internal sealed class EventsV1Strategy : ResourceStrategy
{
    public override void Validate(IStrategyContext context, JsonObject obj, List<FieldError> errors)
    {
        if (obj["eventTime"] is null)
        {
            errors.Add(FieldError.Required("eventTime"));
        }

        foreach (var field in new[] { "deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount", "deprecatedSource" })
        {
            if (obj[field] is not null && obj[field] is not JsonObject { Count: 0 })
            {
                errors.Add(FieldError.Invalid(field, "", "needs to be unset"));
            }
        }

        if (string.IsNullOrEmpty(obj.GetString("reportingController")))
        {
            errors.Add(FieldError.Required("reportingController"));
        }

        if (string.IsNullOrEmpty(obj.GetString("reportingInstance")))
        {
            errors.Add(FieldError.Required("reportingInstance"));
        }

        if (string.IsNullOrEmpty(obj.GetString("action")))
        {
            errors.Add(FieldError.Required("action"));
        }

        if (string.IsNullOrEmpty(obj.GetString("reason")))
        {
            errors.Add(FieldError.Required("reason"));
        }

        var type = obj.GetString("type");
        if (type is not ("Normal" or "Warning"))
        {
            errors.Add(FieldError.NotSupported("type", type ?? "", ["Normal", "Warning"]));
        }

        if ((obj.GetString("note") ?? "").Length > 1024)
        {
            errors.Add(FieldError.TooLong("note", 1024));
        }
    }
}

/// <summary>policy/v1 PodDisruptionBudgets: generation tracked, status cleared on create, minAvailable xor maxUnavailable.</summary>
internal sealed class PodDisruptionBudgetStrategy : ResourceStrategy
{
    public override bool HasStatusSubresource => true;

    public override bool TracksGeneration => true;

    public override void Validate(IStrategyContext context, JsonObject obj, List<FieldError> errors)
    {
        var spec = obj.GetObject("spec");
        if (spec?["minAvailable"] is not null && spec["maxUnavailable"] is not null)
        {
            errors.Add(FieldError.InvalidOmitValue("spec", "minAvailable and maxUnavailable cannot be both set"));
        }

        var policy = spec?.GetString("unhealthyPodEvictionPolicy");
        if (policy is not null and not ("IfHealthyBudget" or "AlwaysAllow"))
        {
            errors.Add(FieldError.NotSupported("spec.unhealthyPodEvictionPolicy", policy, ["AlwaysAllow", "IfHealthyBudget"]));
        }
    }
}

/// <summary>Deployments, ReplicaSets, DaemonSets: stored only (no controllers); selector must match the template.</summary>
internal sealed class WorkloadStrategy(bool annotationsBumpGeneration = false) : ResourceStrategy
{
    public override bool HasStatusSubresource => true;

    public override bool TracksGeneration => true;

    public override bool SpecChanged(JsonObject obj, JsonObject old) =>
        !JsonNode.DeepEquals(obj["spec"], old["spec"]) ||
        (annotationsBumpGeneration && !JsonNode.DeepEquals(obj.At("metadata", "annotations"), old.At("metadata", "annotations")));

    public override void Validate(IStrategyContext context, JsonObject obj, List<FieldError> errors)
    {
        var selector = obj.At("spec", "selector") as JsonObject;
        if (selector is null)
        {
            errors.Add(FieldError.Required("spec.selector"));
            return;
        }

        if (selector.Count == 0 || (selector["matchLabels"] is not JsonObject { Count: > 0 } && selector["matchExpressions"] is not JsonArray { Count: > 0 }))
        {
            errors.Add(FieldError.InvalidOmitValue("spec.selector", "empty selector is invalid for deployment"));
            return;
        }

        var labels = obj.At("spec", "template", "metadata", "labels") as JsonObject;
        if (selector["matchLabels"] is JsonObject matchLabels)
        {
            foreach (var (key, value) in matchLabels)
            {
                if (labels is null || !JsonNode.DeepEquals(labels[key], value))
                {
                    errors.Add(FieldError.InvalidOmitValue("spec.template.metadata.labels", "`selector` does not match template `labels`"));
                    return;
                }
            }
        }
    }
}

/// <summary>PriorityClasses: the value is immutable; the <c>system-</c> prefix is reserved.</summary>
internal sealed class PriorityClassStrategy : ResourceStrategy
{
    public override void Validate(IStrategyContext context, JsonObject obj, List<FieldError> errors)
    {
        var name = obj.StringAt("metadata", "name") ?? "";
        if (name.StartsWith("system-", StringComparison.Ordinal) && name is not ("system-node-critical" or "system-cluster-critical"))
        {
            errors.Add(FieldError.Forbidden("metadata.name", "priority class names with 'system-' prefix are reserved"));
        }

        var policy = obj.GetString("preemptionPolicy");
        if (policy is not null and not ("PreemptLowerPriority" or "Never"))
        {
            errors.Add(FieldError.NotSupported("preemptionPolicy", policy, ["Never", "PreemptLowerPriority"]));
        }
    }

    public override void PrepareForCreate(IStrategyContext context, JsonObject obj)
    {
        obj["preemptionPolicy"] ??= "PreemptLowerPriority";
        obj["value"] ??= 0;
    }

    public override void ValidateUpdate(IStrategyContext context, JsonObject obj, JsonObject old, List<FieldError> errors)
    {
        Validate(context, obj, errors);
        if (!JsonNode.DeepEquals(obj["value"], old["value"]))
        {
            errors.Add(FieldError.Forbidden("value", "may not be changed in an update."));
        }
    }
}

/// <summary>StorageClasses: provisioner required; parameters and provisioner immutable.</summary>
internal sealed class StorageClassStrategy : ResourceStrategy
{
    public override void PrepareForCreate(IStrategyContext context, JsonObject obj)
    {
        obj["reclaimPolicy"] ??= "Delete";
        obj["volumeBindingMode"] ??= "Immediate";
    }

    public override void Validate(IStrategyContext context, JsonObject obj, List<FieldError> errors)
    {
        if (string.IsNullOrEmpty(obj.GetString("provisioner")))
        {
            errors.Add(FieldError.Required("provisioner"));
        }

        var mode = obj.GetString("volumeBindingMode");
        if (mode is not null and not ("Immediate" or "WaitForFirstConsumer"))
        {
            errors.Add(FieldError.NotSupported("volumeBindingMode", mode, ["Immediate", "WaitForFirstConsumer"]));
        }
    }

    public override void ValidateUpdate(IStrategyContext context, JsonObject obj, JsonObject old, List<FieldError> errors)
    {
        Validate(context, obj, errors);
        foreach (var field in new[] { "parameters", "provisioner", "reclaimPolicy", "volumeBindingMode" })
        {
            if (!JsonNode.DeepEquals(obj[field], old[field]))
            {
                errors.Add(FieldError.Forbidden(field, "updates to " + field + " are forbidden."));
            }
        }
    }
}

/// <summary>
/// VolumeAttachments (storage.k8s.io/v1; stored, no attach/detach controller): status only through <c>/status</c>
/// and cleared on create, the deleted object returned, spec immutable, and the validation of <c>ValidateVolumeAttachment</c> (attacher, nodeName,
/// exactly one source).
/// </summary>
internal sealed class VolumeAttachmentStrategy : ResourceStrategy
{
    private const string OneSource = "must specify exactly one of inlineVolumeSpec and persistentVolumeName";

    public override bool HasStatusSubresource => true;

    /// <summary>DELETE answers with the deleted VolumeAttachment, not a Status (its registry sets ReturnDeletedObject).</summary>
    public override bool ReturnDeletedObject => true;

    public override void Validate(IStrategyContext context, JsonObject obj, List<FieldError> errors)
    {
        var spec = obj.GetObject("spec");
        if (string.IsNullOrEmpty(spec?.GetString("attacher")))
        {
            errors.Add(FieldError.Required("spec.attacher"));
        }

        if (string.IsNullOrEmpty(spec?.GetString("nodeName")))
        {
            errors.Add(FieldError.Required("spec.nodeName"));
        }

        var source = spec?.GetObject("source");
        var persistentVolumeName = source?["persistentVolumeName"];
        var inline = source?["inlineVolumeSpec"];
        if (persistentVolumeName is null && inline is null)
        {
            errors.Add(FieldError.Required("spec.source", OneSource));
        }
        else if (persistentVolumeName is not null && inline is not null)
        {
            errors.Add(FieldError.Forbidden("spec.source", OneSource));
        }
        else if (persistentVolumeName is not null && string.IsNullOrEmpty(source!.GetString("persistentVolumeName")))
        {
            errors.Add(FieldError.Required("spec.source.persistentVolumeName", "must specify non empty persistentVolumeName"));
        }
    }

    public override void ValidateUpdate(IStrategyContext context, JsonObject obj, JsonObject old, List<FieldError> errors)
    {
        Validate(context, obj, errors);
        if (!JsonNode.DeepEquals(obj["spec"], old["spec"]))
        {
            errors.Add(FieldError.InvalidOmitValue("spec", "field is immutable"));
        }
    }
}

/// <summary>PersistentVolumeClaims: status cleared on create, deleted object returned, spec mostly immutable.</summary>
/// <summary>
/// PersistentVolumes as the API server stores them: phase <c>Pending</c> on create (the PV controller makes them
/// Available), and the validation a volume cannot do without: capacity storage, access modes, one volume source.
/// </summary>
internal sealed class PersistentVolumeStrategy : ResourceStrategy
{
    private static readonly string[] NonSourceFields =
        ["accessModes", "capacity", "claimRef", "mountOptions", "nodeAffinity", "persistentVolumeReclaimPolicy", "storageClassName", "volumeAttributesClassName", "volumeMode"];

    public override bool HasStatusSubresource => true;

    public override bool ReturnDeletedObject => true;

    public override void PrepareForCreate(IStrategyContext context, JsonObject obj)
    {
        base.PrepareForCreate(context, obj);
        obj["status"] = new JsonObject { ["phase"] = "Pending" };
        var spec = obj.GetOrAddObject("spec");
        spec["persistentVolumeReclaimPolicy"] ??= "Retain";
        spec["volumeMode"] ??= "Filesystem";
    }

    public override void Validate(IStrategyContext context, JsonObject obj, List<FieldError> errors)
    {
        if (obj.At("spec", "accessModes") is not JsonArray { Count: > 0 })
        {
            errors.Add(FieldError.Required("spec.accessModes", "must specify at least 1 access mode"));
        }

        if (obj.At("spec", "capacity", "storage") is null)
        {
            errors.Add(FieldError.Required("spec.capacity", "must specify storage"));
        }

        var sources = obj["spec"] is JsonObject spec ? spec.Count(kv => !NonSourceFields.Contains(kv.Key, StringComparer.Ordinal)) : 0;
        if (sources == 0)
        {
            errors.Add(FieldError.Required("spec", "must specify a volume type"));
        }
        else if (sources > 1)
        {
            errors.Add(FieldError.Forbidden("spec", "may not specify more than 1 volume type"));
        }
    }
}

internal sealed class PersistentVolumeClaimStrategy : ResourceStrategy
{
    public override bool HasStatusSubresource => true;

    public override bool ReturnDeletedObject => true;

    public override void PrepareForCreate(IStrategyContext context, JsonObject obj)
    {
        base.PrepareForCreate(context, obj);
        obj["status"] = new JsonObject { ["phase"] = "Pending" };
        obj.GetOrAddObject("spec")["volumeMode"] ??= "Filesystem";
    }

    public override void Validate(IStrategyContext context, JsonObject obj, List<FieldError> errors)
    {
        if (obj.At("spec", "accessModes") is not JsonArray { Count: > 0 })
        {
            errors.Add(FieldError.Required("spec.accessModes", "at least 1 access mode is required"));
        }

        if (obj.At("spec", "resources", "requests", "storage") is null)
        {
            errors.Add(FieldError.Required("spec.resources[storage]"));
        }
    }
}

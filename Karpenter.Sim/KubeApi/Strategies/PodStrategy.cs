using System.Text.Json.Nodes;
using Karpenter.Entities.WellKnown;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;

namespace Karpenter.Sim.KubeApi.Strategies;

/// <summary>
/// Pods: defaulting (<c>SetDefaults_Pod</c>), the admission plugins that change pods (DefaultTolerationSeconds,
/// Priority), status reset with the computed QoS class, the immutable spec, and graceful deletion
/// (<c>k8s.io/kubernetes pkg/registry/core/pod/strategy.go</c>).
/// </summary>
internal sealed class PodStrategy : ResourceStrategy
{
    public const string PriorityClassesStorage = "priorityclasses.scheduling.k8s.io";

    public override bool HasStatusSubresource => true;

    public override bool ReturnDeletedObject => true;

    public override bool TracksGeneration => true;

    public override void PrepareForCreate(IStrategyContext context, JsonObject obj)
    {
        var spec = obj.GetOrAddObject("spec");
        ApplyDefaults(spec);
        obj["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = QosClass(spec) };
    }

    /// <summary>The admission plugins that change pods on create: DefaultTolerationSeconds and Priority.</summary>
    public override void Admit(IStrategyContext context, JsonObject obj, JsonObject? old, string operation)
    {
        if (operation != "CREATE")
        {
            return;
        }

        var spec = obj.GetOrAddObject("spec");
        AddDefaultTolerations(spec);
        var name = obj.StringAt("metadata", "name") ?? "";
        var className = spec.GetString("priorityClassName");
        int priority;
        string? preemption = null;
        switch (className)
        {
            case null or "":
                priority = 0;
                break;
            case "system-node-critical":
                priority = 2000001000;
                break;
            case "system-cluster-critical":
                priority = 2000000000;
                break;
            default:
                var pc = context.Read(PriorityClassesStorage, null, className);
                if (pc is null)
                {
                    throw ApiError.Forbidden("", "pods", name, $"no PriorityClass with name {className} was found");
                }

                priority = (int)(pc.GetLong("value") ?? 0);
                preemption = pc.GetString("preemptionPolicy");
                break;
        }

        if (spec.GetLong("priority") is { } given && given != priority)
        {
            throw ApiError.Forbidden("", "pods", name,
                $"the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name");
        }

        spec["priority"] = priority;
        spec["preemptionPolicy"] = spec.GetString("preemptionPolicy") ?? preemption ?? "PreemptLowerPriority";
    }

    private static void ApplyDefaults(JsonObject spec)
    {
        spec["restartPolicy"] ??= "Always";
        spec["terminationGracePeriodSeconds"] ??= 30;
        spec["dnsPolicy"] ??= "ClusterFirst";
        spec["securityContext"] ??= new JsonObject();
        spec["schedulerName"] ??= "default-scheduler";
        spec["enableServiceLinks"] ??= true;
        foreach (var list in new[] { "containers", "initContainers" })
        {
            if (spec[list] is not JsonArray containers)
            {
                continue;
            }

            foreach (var container in containers.OfType<JsonObject>())
            {
                container["terminationMessagePath"] ??= "/dev/termination-log";
                container["terminationMessagePolicy"] ??= "File";
                if (container["imagePullPolicy"] is null)
                {
                    var image = container.GetString("image") ?? "";
                    var tagged = image.Contains(':', StringComparison.Ordinal) && !image.EndsWith(":latest", StringComparison.Ordinal);
                    container["imagePullPolicy"] = tagged || image.Contains('@', StringComparison.Ordinal) ? "IfNotPresent" : "Always";
                }

                if (container["resources"] is null)
                {
                    container["resources"] = new JsonObject();
                }
                else if (container["resources"] is JsonObject resources && resources["limits"] is JsonObject limits)
                {
                    // Requests default to limits for resources that have a limit but no request.
                    var requests = resources.GetOrAddObject("requests");
                    foreach (var (name, value) in limits)
                    {
                        requests[name] ??= value?.DeepClone();
                    }
                }

                if (container["ports"] is JsonArray ports)
                {
                    foreach (var port in ports.OfType<JsonObject>())
                    {
                        port["protocol"] ??= "TCP";
                    }
                }
            }
        }
    }

    /// <summary>DefaultTolerationSeconds: tolerate not-ready and unreachable NoExecute for 300 s unless already tolerated.</summary>
    private static void AddDefaultTolerations(JsonObject spec)
    {
        var tolerations = spec["tolerations"] as JsonArray ?? [];
        foreach (var key in new[] { Taints.NotReadyKey, Taints.UnreachableKey })
        {
            var tolerated = tolerations.OfType<JsonObject>().Any(t =>
                (t.GetString("key") == key || (string.IsNullOrEmpty(t.GetString("key")) && t.GetString("operator") == "Exists")) &&
                (string.IsNullOrEmpty(t.GetString("effect")) || t.GetString("effect") == Taints.EffectNoExecute));
            if (!tolerated)
            {
                tolerations.Add(new JsonObject
                {
                    ["key"] = key,
                    ["operator"] = "Exists",
                    ["effect"] = Taints.EffectNoExecute,
                    ["tolerationSeconds"] = 300,
                });
            }
        }

        spec["tolerations"] = tolerations;
    }

    /// <summary><c>qos.GetPodQOS</c> (containers and init containers; requests default to limits).</summary>
    public static string QosClass(JsonObject spec)
    {
        var any = false;
        var guaranteed = true;
        foreach (var list in new[] { "containers", "initContainers" })
        {
            if (spec[list] is not JsonArray containers)
            {
                continue;
            }

            foreach (var container in containers.OfType<JsonObject>())
            {
                var resources = container.GetObject("resources");
                var requests = resources?.GetObject("requests");
                var limits = resources?.GetObject("limits");
                foreach (var name in new[] { "cpu", "memory" })
                {
                    var request = requests?.GetString(name) ?? requests?[name]?.ToJsonString();
                    var limit = limits?.GetString(name) ?? limits?[name]?.ToJsonString();
                    if (request is not null || limit is not null)
                    {
                        any = true;
                    }

                    if (limit is null || (request is not null && request != limit))
                    {
                        guaranteed = false;
                    }
                }
            }
        }

        return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
    }

    public override bool SpecChanged(JsonObject obj, JsonObject old) => !JsonNode.DeepEquals(obj["spec"], old["spec"]);

    public override void Validate(IStrategyContext context, JsonObject obj, List<FieldError> errors)
    {
        var spec = obj.GetObject("spec");
        if (spec is null)
        {
            errors.Add(FieldError.Required("spec.containers"));
            return;
        }

        if (spec["containers"] is not JsonArray containers || containers.Count == 0)
        {
            errors.Add(FieldError.Required("spec.containers"));
        }
        else
        {
            ValidateContainers(containers, "spec.containers", errors);
        }

        if (spec["initContainers"] is JsonArray init)
        {
            ValidateContainers(init, "spec.initContainers", errors);
        }

        var restart = spec.GetString("restartPolicy");
        if (restart is not null and not ("Always" or "OnFailure" or "Never"))
        {
            errors.Add(FieldError.NotSupported("spec.restartPolicy", restart, ["Always", "Never", "OnFailure"]));
        }

        if (spec["tolerations"] is JsonArray tolerations)
        {
            ValidateTolerations(tolerations, errors);
        }
    }

    private static void ValidateContainers(JsonArray containers, string path, List<FieldError> errors)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < containers.Count; i++)
        {
            if (containers[i] is not JsonObject container)
            {
                continue;
            }

            var name = container.GetString("name");
            if (string.IsNullOrEmpty(name))
            {
                errors.Add(FieldError.Required($"{path}[{i}].name"));
            }
            else
            {
                foreach (var message in Validation.ObjectMetaValidation.Dns1123LabelErrors(name))
                {
                    errors.Add(FieldError.Invalid($"{path}[{i}].name", name, message));
                }

                if (!names.Add(name))
                {
                    errors.Add(FieldError.Duplicate($"{path}[{i}].name", name));
                }
            }

            if (string.IsNullOrEmpty(container.GetString("image")))
            {
                errors.Add(FieldError.Required($"{path}[{i}].image"));
            }
        }
    }

    private static void ValidateTolerations(JsonArray tolerations, List<FieldError> errors)
    {
        for (var i = 0; i < tolerations.Count; i++)
        {
            if (tolerations[i] is not JsonObject t)
            {
                continue;
            }

            var op = t.GetString("operator");
            if (op is not null and not ("Exists" or "Equal"))
            {
                errors.Add(FieldError.NotSupported($"spec.tolerations[{i}].operator", op, ["Equal", "Exists"]));
            }

            if (op == "Exists" && !string.IsNullOrEmpty(t.GetString("value")))
            {
                errors.Add(FieldError.Invalid($"spec.tolerations[{i}].operator", op, "value must be empty when `operator` is 'Exists'"));
            }

            var effect = t.GetString("effect");
            if (!string.IsNullOrEmpty(effect) && effect is not (Taints.EffectNoSchedule or Taints.EffectPreferNoSchedule or Taints.EffectNoExecute))
            {
                errors.Add(FieldError.NotSupported($"spec.tolerations[{i}].effect", effect,
                    [Taints.EffectNoExecute, Taints.EffectNoSchedule, Taints.EffectPreferNoSchedule]));
            }
        }
    }

    /// <summary>
    /// Pod updates may change only images, activeDeadlineSeconds, additional tolerations,
    /// terminationGracePeriodSeconds and the removal of scheduling gates (<c>ValidatePodUpdate</c>).
    /// </summary>
    public override void ValidateUpdate(IStrategyContext context, JsonObject obj, JsonObject old, List<FieldError> errors)
    {
        Validate(context, obj, errors);
        var spec = obj.GetObject("spec")?.DeepClone().AsObject() ?? [];
        var oldSpec = old.GetObject("spec")?.DeepClone().AsObject() ?? [];
        foreach (var list in new[] { "containers", "initContainers" })
        {
            if (spec[list] is JsonArray mine && oldSpec[list] is JsonArray theirs && mine.Count == theirs.Count)
            {
                for (var i = 0; i < mine.Count; i++)
                {
                    if (mine[i] is JsonObject m && theirs[i] is JsonObject t)
                    {
                        m["image"] = t["image"]?.DeepClone();
                    }
                }
            }
        }

        // Existing tolerations must be kept; additions are allowed.
        if (oldSpec["tolerations"] is JsonArray oldTolerations)
        {
            var newTolerations = spec["tolerations"] as JsonArray ?? [];
            var kept = oldTolerations.All(o => newTolerations.Any(n => JsonNode.DeepEquals(n, o)));
            if (kept)
            {
                spec["tolerations"] = oldTolerations.DeepClone();
            }
        }
        else if (spec["tolerations"] is not null)
        {
            spec.Remove("tolerations");
        }

        if (oldSpec["schedulingGates"] is JsonArray oldGates)
        {
            var newGates = spec["schedulingGates"] as JsonArray ?? [];
            if (newGates.All(n => oldGates.Any(o => JsonNode.DeepEquals(n, o))))
            {
                spec["schedulingGates"] = oldGates.DeepClone();
            }
        }

        foreach (var free in new[] { "activeDeadlineSeconds", "terminationGracePeriodSeconds" })
        {
            spec.Remove(free);
            oldSpec.Remove(free);
        }

        if (!JsonNode.DeepEquals(spec, oldSpec))
        {
            var detail = oldSpec.GetString("nodeName") != spec.GetString("nodeName")
                ? "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative); spec.nodeName is set through the pods/binding subresource"
                : "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";
            errors.Add(FieldError.Forbidden("spec", detail));
        }
    }

    /// <summary><c>CheckGracefulDelete</c>: 0 for unscheduled or terminated pods, else the option or the spec's grace.</summary>
    public override long? GracePeriodSeconds(JsonObject obj, long? requested)
    {
        long grace = requested ?? obj.GetObject("spec")?.GetLong("terminationGracePeriodSeconds") ?? 30;
        var nodeName = obj.StringAt("spec", "nodeName");
        var phase = obj.StringAt("status", "phase");
        if (string.IsNullOrEmpty(nodeName) || phase is "Succeeded" or "Failed")
        {
            grace = 0;
        }

        return grace < 0 ? 1 : grace;
    }
}

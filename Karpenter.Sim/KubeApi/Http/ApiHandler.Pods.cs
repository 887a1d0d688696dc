using System.Globalization;
using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Selectors;
using Karpenter.Sim.KubeApi.Storage;

namespace Karpenter.Sim.KubeApi.Http;

internal sealed partial class ApiHandler
{
    private static readonly byte[] CreatedSuccess = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\",\"code\":201}"u8.ToArray();

    private async Task<JsonObject> ReadSubresourceBodyAsync(RequestScope scope, string kind)
    {
        var body = await ReadBodyAsync(scope);
        var node = ParseBody(body, MediaType(scope) == "application/yaml" ? "application/yaml" : "application/json",
            message => ApiError.BadRequest($"the object provided is unrecognized (must be of type {kind}): couldn't get version/kind; json parse error: {message}"));
        return node as JsonObject ?? throw ApiError.BadRequest($"the object provided is unrecognized (must be of type {kind})");
    }

    /// <summary><c>pods/binding</c>: sets <c>spec.nodeName</c> and <c>PodScheduled=True</c> (BindingREST).</summary>
    private async Task BindAsync(RequestScope scope)
    {
        var binding = await ReadSubresourceBodyAsync(scope, "Binding");
        var name = scope.Info.Name!;
        var bodyName = binding.StringAt("metadata", "name");
        if (bodyName != name)
        {
            throw ApiError.BadRequest("name in URL does not match name in Binding object");
        }

        binding = await SubresourceAdmissionAsync(scope, binding, "", "v1", "Binding");

        var target = binding.GetObject("target");
        var nodeName = target?.GetString("name") ?? "";
        var errors = new List<FieldError>();
        if (nodeName.Length == 0)
        {
            errors.Add(FieldError.Required("target.name"));
        }

        if (target?.GetString("kind") is { Length: > 0 } kind && kind != "Node")
        {
            errors.Add(FieldError.NotSupported("target.kind", kind, ["Node", "<empty>"]));
        }

        if (errors.Count > 0)
        {
            throw ApiError.Invalid("", "Binding", name, errors);
        }

        var resource = StorageOf(scope.Type);
        var key = StoredObject.KeyOf(scope.Info.Namespace, name);
        while (true)
        {
            var current = resource.Get(key) ?? throw ApiError.NotFound("", "pods", name);
            if (binding.StringAt("metadata", "uid") is { Length: > 0 } uid && uid != current.Uid)
            {
                throw ApiError.Conflict("", "pods/binding", name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {current.Uid}");
            }

            var pod = current.ToJson();
            if (pod.At("metadata", "deletionTimestamp") is not null)
            {
                throw ApiError.Conflict("", "pods/binding", name, $"pod {name} is being deleted, cannot be assigned to a host");
            }

            var spec = pod.GetOrAddObject("spec");
            if (spec.GetString("nodeName") is { Length: > 0 } assigned)
            {
                throw ApiError.Conflict("", "pods/binding", name, $"pod {name} is already assigned to node \"{assigned}\"");
            }

            spec["nodeName"] = nodeName;
            if (binding.At("metadata", "annotations") is JsonObject annotations)
            {
                var podAnnotations = pod.GetOrAddObject("metadata").GetOrAddObject("annotations");
                foreach (var (k, v) in annotations)
                {
                    podAnnotations[k] = v?.DeepClone();
                }
            }

            var status = pod.GetOrAddObject("status");
            var conditions = status["conditions"] as JsonArray ?? [];
            var scheduled = conditions.OfType<JsonObject>().FirstOrDefault(c => c.GetString("type") == "PodScheduled");
            if (scheduled is null)
            {
                scheduled = new JsonObject { ["type"] = "PodScheduled" };
                conditions.Add(scheduled);
            }

            scheduled["status"] = "True";
            scheduled["lastProbeTime"] = null;
            scheduled["lastTransitionTime"] = KubeTime.Format(Now);
            scheduled.Remove("reason");
            scheduled.Remove("message");
            status["conditions"] = conditions;
            if (scope.DryRun)
            {
                break;
            }

            var result = _store.Update(resource, key, current.ResourceVersion, pod);
            if (result.Ok)
            {
                break;
            }

            if (result.Status == CommitStatus.NotFound)
            {
                throw ApiError.NotFound("", "pods", name);
            }
        }

        await WriteJsonAsync(scope.Http, 201, CreatedSuccess);
    }

    /// <summary>
    /// <c>pods/eviction</c> (k8s <c>pkg/registry/core/pod/storage/eviction.go</c>): terminal, pending or
    /// terminating pods are deleted at once; otherwise the one matching PodDisruptionBudget's <em>status</em>
    /// decides, and a granted eviction decrements <c>disruptionsAllowed</c> before the pod is deleted.
    /// </summary>
    private async Task EvictAsync(RequestScope scope)
    {
        var eviction = await ReadSubresourceBodyAsync(scope, "Eviction");
        var name = scope.Info.Name!;
        var ns = scope.Info.Namespace!;
        var apiVersion = eviction.GetString("apiVersion");
        if (apiVersion is not (null or "policy/v1" or "policy/v1beta1"))
        {
            throw ApiError.BadRequest($"unsupported eviction version {apiVersion}");
        }

        if (eviction.StringAt("metadata", "name") != name)
        {
            throw ApiError.BadRequest("name in URL does not match name in Eviction object");
        }

        eviction = await SubresourceAdmissionAsync(scope, eviction, "policy", apiVersion == "policy/v1beta1" ? "v1beta1" : "v1", "Eviction");

        var deleteOptions = eviction.GetObject("deleteOptions");
        var options = new DeleteOptions(
            deleteOptions?.GetLong("gracePeriodSeconds"),
            deleteOptions?.StringAt("preconditions", "uid"),
            deleteOptions?.StringAt("preconditions", "resourceVersion"),
            deleteOptions?.GetString("propagationPolicy"),
            scope.DryRun || (deleteOptions?["dryRun"] is JsonArray dry && dry.Any(d => d?.ToString() == "All")));

        var pods = StorageOf(scope.Type);
        var current = pods.Get(StoredObject.KeyOf(ns, name)) ?? throw ApiError.NotFound("", "pods", name);
        var pod = current.ToJson();
        var phase = pod.StringAt("status", "phase");
        if (phase is "Succeeded" or "Failed" or "Pending" || pod.At("metadata", "deletionTimestamp") is not null)
        {
            var direct = options;
            if (phase is not ("Succeeded" or "Failed") && string.IsNullOrEmpty(direct.PreconditionResourceVersion))
            {
                direct = direct with { PreconditionResourceVersion = current.ResourceVersion.ToString(CultureInfo.InvariantCulture) };
            }

            await DeleteObjectAsync(scope.Type, ns, name, direct, scope.Aborted);
            await WriteJsonAsync(scope.Http, 201, CreatedSuccess);
            return;
        }

        var pdbType = _registry.Find("policy", "v1", "poddisruptionbudgets")!;
        var pdbs = StorageOf(pdbType);
        var matching = new List<StoredObject>();
        foreach (var (key, stored) in pdbs.Items)
        {
            if (!key.StartsWith(ns + "/", StringComparison.Ordinal))
            {
                continue;
            }

            var selector = stored.ToJson().At("spec", "selector") as JsonObject;
            if (SelectorMatches(selector, current.Labels))
            {
                matching.Add(stored);
            }
        }

        if (matching.Count > 1)
        {
            throw ApiError.Create(500, "InternalError", "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
        }

        if (options.PreconditionUid is { Length: > 0 } uid && uid != current.Uid)
        {
            throw ApiError.Conflict("", "Pod", name,
                $"the UID in the precondition ({uid}) does not match the UID in record ({current.Uid}). The object might have been deleted and then recreated");
        }

        if (matching.Count == 1)
        {
            // An unhealthy pod may pass without consuming the budget; otherwise the budget is decremented or the eviction refused.
            await CheckAndDecrementAsync(pdbType, matching[0], pod, options.DryRun);
        }

        await DeleteObjectAsync(scope.Type, ns, name, options, scope.Aborted);
        await WriteJsonAsync(scope.Http, 201, CreatedSuccess);
    }

    /// <summary>Consults one PDB's status; throws 429/403 when the eviction is refused; returns whether the budget was decremented.</summary>
    private async Task<bool> CheckAndDecrementAsync(Resources.ResourceType pdbType, StoredObject pdbStored, JsonObject pod, bool dryRun)
    {
        var podName = pod.StringAt("metadata", "name")!;
        var pdbs = StorageOf(pdbType);
        var key = pdbStored.Key;
        while (true)
        {
            var currentPdb = pdbs.Get(key);
            if (currentPdb is null)
            {
                return false;
            }

            var pdb = currentPdb.ToJson();
            var pdbName = pdb.StringAt("metadata", "name")!;
            var status = pdb.GetOrAddObject("status");
            var ready = pod.At("status", "conditions") is JsonArray conditions &&
                        conditions.OfType<JsonObject>().Any(c => c.GetString("type") == "Ready" && c.GetString("status") == "True");
            var currentHealthy = status.GetLong("currentHealthy") ?? 0;
            var desiredHealthy = status.GetLong("desiredHealthy") ?? 0;
            if (!ready)
            {
                var policy = pdb.StringAt("spec", "unhealthyPodEvictionPolicy");
                if (policy == "AlwaysAllow" || (currentHealthy >= desiredHealthy && desiredHealthy > 0))
                {
                    return false;
                }
            }

            var generation = pdb.At("metadata", "generation") is JsonValue g && g.IsNumber() ? g.GetValue<long>() : 0;
            if ((status.GetLong("observedGeneration") ?? 0) < generation)
            {
                throw ApiError.TooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0,
                    new JsonArray(new JsonObject
                    {
                        ["reason"] = "DisruptionBudget",
                        ["message"] = $"The disruption budget {pdbName} is still being processed by the server.",
                    }));
            }

            var allowed = status.GetLong("disruptionsAllowed") ?? 0;
            if (allowed < 0)
            {
                throw ApiError.Forbidden("policy", "poddisruptionbudgets", pdbName, "pdb disruptions allowed is negative");
            }

            if (allowed == 0)
            {
                throw ApiError.TooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0,
                    new JsonArray(new JsonObject
                    {
                        ["reason"] = "DisruptionBudget",
                        ["message"] = $"The disruption budget {pdbName} needs {desiredHealthy} healthy pods and has {currentHealthy} currently",
                    }));
            }

            if (dryRun)
            {
                return true;
            }

            status["disruptionsAllowed"] = allowed - 1;
            var disrupted = status.GetOrAddObject("disruptedPods");
            disrupted[podName] = KubeTime.Format(Now);
            var result = _store.Update(pdbs, key, currentPdb.ResourceVersion, pdb);
            if (result.Ok)
            {
                return true;
            }

            await Task.Yield();
        }
    }

    /// <summary>A PDB's metav1.LabelSelector: nil or empty selects nothing (for evictions).</summary>
    private static bool SelectorMatches(JsonObject? selector, IReadOnlyDictionary<string, string> labels)
    {
        if (selector is null || selector.Count == 0)
        {
            return false;
        }

        var requirements = new List<LabelRequirement>();
        if (selector["matchLabels"] is JsonObject matchLabels)
        {
            foreach (var (key, value) in matchLabels)
            {
                requirements.Add(new LabelRequirement(key, LabelOperator.Equals, [value?.GetValue<string>() ?? ""]));
            }
        }

        if (selector["matchExpressions"] is JsonArray expressions)
        {
            foreach (var expression in expressions.OfType<JsonObject>())
            {
                var values = (expression["values"] as JsonArray ?? []).Select(v => v?.GetValue<string>() ?? "").ToList();
                var op = expression.GetString("operator") switch
                {
                    "In" => LabelOperator.In,
                    "NotIn" => LabelOperator.NotIn,
                    "Exists" => LabelOperator.Exists,
                    "DoesNotExist" => LabelOperator.DoesNotExist,
                    _ => (LabelOperator?)null,
                };
                if (op is null)
                {
                    return false;
                }

                requirements.Add(new LabelRequirement(expression.GetString("key") ?? "", op.Value, values));
            }
        }

        return requirements.Count > 0 && LabelSelector.FromRequirements(requirements).Matches(labels);
    }
}

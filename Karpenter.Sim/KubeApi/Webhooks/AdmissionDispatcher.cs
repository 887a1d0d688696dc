using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cel;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Patching;
using Karpenter.Sim.KubeApi.Resources;
using Karpenter.Sim.KubeApi.Schema;
using Karpenter.Sim.KubeApi.Storage;
using Microsoft.Extensions.Logging;

namespace Karpenter.Sim.KubeApi.Webhooks;

/// <summary>
/// The MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins of kube-apiserver: picks the webhooks
/// of the stored configurations (configurations in name order, webhooks in their order) whose namespace
/// selector, object selector, rules (with <c>matchPolicy: Equivalent</c> across the resource's versions) and
/// <c>matchConditions</c> select the request, sends each an AdmissionReview over TLS trusting its
/// <c>caBundle</c>, and applies the answers: mutating webhooks serially with their JSON patches (and one
/// reinvocation round for <c>reinvocationPolicy: IfNeeded</c>), validating webhooks in parallel. Denials and
/// call failures are the real server's Status errors; <c>failurePolicy: Ignore</c> skips a failing webhook.
/// </summary>
internal sealed partial class AdmissionDispatcher(
    ObjectStore store,
    ResourceRegistry registry,
    WebhookClient client,
    Func<string> newUid,
    ILogger logger)
{
    private const string Group = "admissionregistration.k8s.io";

    /// <summary>Who the emulator says made every request (it does not authenticate): the cluster administrator.</summary>
    private static readonly JsonObject UserInfo = new()
    {
        ["username"] = "system:admin",
        ["groups"] = new JsonArray("system:masters", "system:authenticated"),
    };

    private readonly ConditionalWeakTable<StoredObject, IReadOnlyList<AdmissionWebhook>> _compiled = new();
    private readonly Lock _celGate = new();
    private readonly CelEnvironment _cel = CelRules.CreateEnvironment();
    private readonly Dictionary<string, CelProgramDelegate> _conditions = new(StringComparer.Ordinal);

    private sealed record Invocation(AdmissionWebhook Hook, ResourceType Target);

    private sealed class CallFailure(string reason) : Exception(reason);

    /// <summary>Runs the mutating webhooks; returns the (possibly patched, re-normalised) object.</summary>
    public async Task<JsonObject?> MutateAsync(AdmissionAttributes attributes, List<string> warnings, Action<ResourceType, JsonObject> renormalize, CancellationToken ct)
    {
        var hooks = Hooks(mutating: true, attributes);
        if (hooks.Count == 0)
        {
            return attributes.Object;
        }

        var previouslyInvoked = new HashSet<AdmissionWebhook>();
        var reinvoke = new HashSet<AdmissionWebhook>();
        var mutated = false;
        for (var round = 0; round < 2 && (round == 0 || mutated); round++)
        {
            foreach (var hook in hooks)
            {
                var invocation = Match(hook, attributes);
                if (invocation is null || (round == 1 && !reinvoke.Contains(hook)))
                {
                    continue;
                }

                bool changed;
                try
                {
                    changed = await CallMutatingAsync(invocation, attributes, warnings, renormalize, ct);
                }
                catch (CallFailure failure) when (hook.FailOpen)
                {
                    Log.FailingOpen(logger, hook.Name, failure.Message);
                    changed = false;
                }
                catch (CallFailure failure)
                {
                    throw ApiError.Internal(failure.Message);
                }

                if (changed)
                {
                    // Every earlier IfNeeded webhook must see the object as this one left it.
                    reinvoke.UnionWith(previouslyInvoked);
                    mutated = true;
                }

                if (hook.ReinvokeIfNeeded)
                {
                    previouslyInvoked.Add(hook);
                }
            }
        }

        return attributes.Object;
    }

    /// <summary>Runs the validating webhooks in parallel; the first denial or failure (in webhook order) is thrown.</summary>
    public async Task ValidateAsync(AdmissionAttributes attributes, List<string> warnings, CancellationToken ct)
    {
        var hooks = Hooks(mutating: false, attributes);
        if (hooks.Count == 0)
        {
            return;
        }

        var invocations = hooks.Select(h => Match(h, attributes)).OfType<Invocation>().ToList();
        var calls = invocations.Select(async invocation =>
        {
            var hookWarnings = new List<string>();
            try
            {
                var (request, _) = await BuildRequestAsync(invocation, attributes, ct);
                var response = await CallAsync(invocation.Hook, request, attributes.DryRun, ct);
                hookWarnings.AddRange(response.Warnings);
                return (Error: response.Allowed ? null : Denial(invocation.Hook.Name, response.Result), Warnings: hookWarnings);
            }
            catch (CallFailure failure) when (invocation.Hook.FailOpen)
            {
                Log.FailingOpen(logger, invocation.Hook.Name, failure.Message);
                return (Error: (ApiError?)null, Warnings: hookWarnings);
            }
            catch (CallFailure failure)
            {
                return (Error: ApiError.Internal(failure.Message), Warnings: hookWarnings);
            }
            catch (ApiError error)
            {
                return (Error: error, Warnings: hookWarnings);
            }
        }).ToList();
        var results = await Task.WhenAll(calls);
        foreach (var result in results)
        {
            warnings.AddRange(result.Warnings);
        }

        if (results.Select(r => r.Error).OfType<ApiError>().FirstOrDefault() is { } first)
        {
            throw first;
        }
    }

    private List<AdmissionWebhook> Hooks(bool mutating, AdmissionAttributes attributes)
    {
        // Admission never applies to the admission configuration resources themselves (no lock-out).
        if (attributes.Type.Group == Group)
        {
            return [];
        }

        var type = registry.Find(Group, "v1", mutating ? "mutatingwebhookconfigurations" : "validatingwebhookconfigurations");
        if (type is null)
        {
            return [];
        }

        var items = store.Resource(type.StorageId, registry.FieldExtractor(type.StorageId)).Items;
        if (items.IsEmpty)
        {
            return [];
        }

        var result = new List<AdmissionWebhook>();
        foreach (var (_, stored) in items)
        {
            result.AddRange(_compiled.GetValue(stored, s => AdmissionWebhook.FromConfiguration(s.ToJson(), mutating)));
        }

        return result;
    }

    // ---- matching -------------------------------------------------------------------------------------------

    /// <summary>apiserver <c>ShouldCallHook</c>: namespace selector, object selector, rules (then equivalent resources), match conditions.</summary>
    private Invocation? Match(AdmissionWebhook hook, AdmissionAttributes a)
    {
        var (namespaceMatches, namespaceError) = MatchNamespace(hook, a);
        if (!namespaceMatches && namespaceError is null)
        {
            return null;
        }

        if (!hook.ObjectSelector.IsEmpty && !(Selects(hook, a.Object) || Selects(hook, a.OldObject)))
        {
            return null;
        }

        var type = a.Type;
        ResourceType? target = null;
        if (hook.Rules.Any(r => r.Matches(a.Operation, type.Group, type.Version, type.Plural, a.Subresource, a.Namespace)))
        {
            target = type;
        }
        else if (hook.Equivalent)
        {
            var equivalents = registry.All
                .Where(t => t.StorageId == type.StorageId && t != type && (a.Subresource is null || t.Subresources.Contains(a.Subresource)))
                .OrderBy(t => t.Group, StringComparer.Ordinal).ThenBy(t => t.Version, KubeVersionOrder).ToList();
            foreach (var rule in hook.Rules)
            {
                target = equivalents.FirstOrDefault(e => rule.Matches(a.Operation, e.Group, e.Version, e.Plural, a.Subresource, a.Namespace));
                if (target is not null)
                {
                    break;
                }
            }
        }

        if (target is null)
        {
            return null;
        }

        if (namespaceError is not null)
        {
            throw namespaceError;
        }

        var invocation = new Invocation(hook, target);
        if (hook.MatchConditions.Count > 0 && !MatchConditions(invocation, a))
        {
            return null;
        }

        return invocation;
    }

    private static readonly IComparer<string> KubeVersionOrder = Comparer<string>.Create((x, y) => Http.KubeVersionComparer.Instance.Compare(x, y));

    private (bool Matches, ApiError? Error) MatchNamespace(AdmissionWebhook hook, AdmissionAttributes a)
    {
        var isNamespace = a.Type.Group.Length == 0 && a.Type.Plural == "namespaces";
        if (string.IsNullOrEmpty(a.Namespace) && !isNamespace)
        {
            // Cluster-scoped objects other than namespaces are never exempted by a namespace selector.
            return (true, null);
        }

        if (hook.NamespaceSelector.IsEmpty)
        {
            return (true, null);
        }

        JsonObject? labelsOf;
        if (isNamespace && a.Subresource is null && a.Operation is "CREATE" or "UPDATE")
        {
            labelsOf = a.Object;
        }
        else
        {
            var ns = store.Resource("namespaces", registry.FieldExtractor("namespaces")).Get(a.Namespace ?? "");
            if (ns is null)
            {
                return (false, ApiError.NotFound("", "namespaces", a.Namespace ?? ""));
            }

            labelsOf = ns.ToJson();
        }

        return (hook.NamespaceSelector.Matches(LabelsOf(labelsOf)), null);
    }

    private static bool Selects(AdmissionWebhook hook, JsonObject? obj) => obj is not null && hook.ObjectSelector.Matches(LabelsOf(obj));

    private static Dictionary<string, string> LabelsOf(JsonObject? obj)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (obj?.At("metadata", "labels") is JsonObject map)
        {
            foreach (var (key, value) in map)
            {
                labels[key] = value is JsonValue v && v.IsString() ? v.GetValue<string>() : "";
            }
        }

        return labels;
    }

    /// <summary>
    /// CEL <c>matchConditions</c> over <c>object</c>, <c>oldObject</c> and <c>request</c>: any false skips the
    /// webhook; an error fails the request with 403 (failurePolicy Fail) or skips the webhook (Ignore).
    /// <c>authorizer</c> is not emulated: a condition using it always fails the request.
    /// </summary>
    private bool MatchConditions(Invocation invocation, AdmissionAttributes a)
    {
        var hook = invocation.Hook;
        var request = RequestSkeleton(invocation, a, "");
        var variables = new Dictionary<string, object?>
        {
            ["object"] = CelRules.ToCel(a.Object),
            ["oldObject"] = CelRules.ToCel(a.OldObject),
            ["request"] = CelRules.ToCel(request),
        };
        string? error = null;
        foreach (var (name, expression) in hook.MatchConditions)
        {
            if (expression.Contains("authorizer", StringComparison.Ordinal))
            {
                throw ApiError.Forbidden(a.Type.Group, a.Type.Plural, a.Name,
                    $"matchCondition {KubeJson.GoQuote(name)} of webhook {KubeJson.GoQuote(hook.Name)} uses the authorizer, which this emulator does not implement");
            }

            object? result;
            try
            {
                lock (_celGate)
                {
                    if (!_conditions.TryGetValue(expression, out var program))
                    {
                        program = _cel.Compile(CelRules.WithFieldPresence(expression));
                        _conditions[expression] = program;
                    }

                    result = program(variables);
                }
            }
            catch (Exception e) when (e is CelException or InvalidCastException or KeyNotFoundException or ArgumentException or NullReferenceException or InvalidOperationException)
            {
                error ??= $"failed to evaluate match condition {KubeJson.GoQuote(name)}: {e.Message}";
                continue;
            }

            if (result is false)
            {
                return false;
            }

            if (result is not true)
            {
                error ??= $"match condition {KubeJson.GoQuote(name)} did not evaluate to a bool";
            }
        }

        if (error is null)
        {
            return true;
        }

        if (hook.FailOpen)
        {
            Log.FailingOpen(logger, hook.Name, error);
            return false;
        }

        throw ApiError.Forbidden(a.Type.Group, a.Type.Plural, a.Name, error);
    }

    // ---- calling ---------------------------------------------------------------------------------------------

    private async Task<bool> CallMutatingAsync(Invocation invocation, AdmissionAttributes a, List<string> warnings, Action<ResourceType, JsonObject> renormalize, CancellationToken ct)
    {
        var hook = invocation.Hook;
        var (request, sent) = await BuildRequestAsync(invocation, a, ct);
        var response = await CallAsync(hook, request, a.DryRun, ct);
        warnings.AddRange(response.Warnings);
        if (!response.Allowed)
        {
            throw Denial(hook.Name, response.Result);
        }

        if (response.Patch is not { Length: > 0 } patchText)
        {
            return false;
        }

        JsonNode? patch;
        try
        {
            patch = JsonNode.Parse(patchText);
        }
        catch (JsonException e)
        {
            throw new CallFailure($"failed calling webhook {KubeJson.GoQuote(hook.Name)}: received undecodable patch in webhook response: {e.Message}");
        }

        if (patch is not JsonArray operations)
        {
            throw new CallFailure($"failed calling webhook {KubeJson.GoQuote(hook.Name)}: received undecodable patch in webhook response: json: cannot unmarshal object into Go value of type jsonpatch.Patch");
        }

        if (operations.Count == 0)
        {
            return false;
        }

        if (sent is null || a.Object is null)
        {
            throw ApiError.Internal($"admission webhook {KubeJson.GoQuote(hook.Name)} attempted to modify the object, which is not supported for this operation");
        }

        JsonNode patched;
        try
        {
            patched = JsonPatch.Apply(sent.DeepClone(), operations);
        }
        catch (Exception e) when (e is PatchApplyException or PatchFormatException)
        {
            throw ApiError.Internal(e.Message);
        }

        if (patched is not JsonObject patchedObject)
        {
            throw ApiError.Internal("the patched object is not a JSON object");
        }

        if (invocation.Target != a.Type)
        {
            patchedObject = await ConvertAsync(invocation.Target, a.Type, patchedObject, ct);
        }

        patchedObject["apiVersion"] = a.Object["apiVersion"]?.DeepClone();
        patchedObject["kind"] = a.Object["kind"]?.DeepClone();
        renormalize(a.Type, patchedObject);
        var changed = !JsonNode.DeepEquals(patchedObject, a.Object);
        a.Object = patchedObject;
        return changed;
    }

    private sealed record ReviewResponse(bool Allowed, JsonObject? Result, string? Patch, IReadOnlyList<string> Warnings);

    /// <summary>The AdmissionRequest for one invocation, with the objects converted to the matched version; also returns the object sent.</summary>
    private async Task<(JsonObject Request, JsonObject? Sent)> BuildRequestAsync(Invocation invocation, AdmissionAttributes a, CancellationToken ct)
    {
        var obj = a.Object;
        var old = a.OldObject;
        if (invocation.Target != a.Type && a.SubresourceKind is null)
        {
            obj = obj is null ? null : await ConvertAsync(a.Type, invocation.Target, obj, ct);
            old = old is null ? null : await ConvertAsync(a.Type, invocation.Target, old, ct);
        }

        var request = RequestSkeleton(invocation, a, newUid());
        request["object"] = obj?.DeepClone();
        request["oldObject"] = old?.DeepClone();
        request["dryRun"] = a.DryRun;
        request["options"] = a.Options.DeepClone();
        return (request, obj);
    }

    private static JsonObject RequestSkeleton(Invocation invocation, AdmissionAttributes a, string uid)
    {
        var target = invocation.Target;
        var (kindGroup, kindVersion, kind) = a.SubresourceKind ?? (target.Group, target.Version, target.Kind);
        var (requestGroup, requestVersion, requestKind) = a.SubresourceKind ?? (a.Type.Group, a.Type.Version, a.Type.Kind);
        var request = new JsonObject
        {
            ["uid"] = uid,
            ["kind"] = new JsonObject { ["group"] = kindGroup, ["version"] = kindVersion, ["kind"] = kind },
            ["resource"] = new JsonObject { ["group"] = target.Group, ["version"] = target.Version, ["resource"] = target.Plural },
        };
        if (a.Subresource is not null)
        {
            request["subResource"] = a.Subresource;
        }

        request["requestKind"] = new JsonObject { ["group"] = requestGroup, ["version"] = requestVersion, ["kind"] = requestKind };
        request["requestResource"] = new JsonObject { ["group"] = a.Type.Group, ["version"] = a.Type.Version, ["resource"] = a.Type.Plural };
        if (a.Subresource is not null)
        {
            request["requestSubResource"] = a.Subresource;
        }

        if (a.Name.Length > 0)
        {
            request["name"] = a.Name;
        }

        if (!string.IsNullOrEmpty(a.Namespace))
        {
            request["namespace"] = a.Namespace;
        }

        request["operation"] = a.Operation;
        request["userInfo"] = UserInfo.DeepClone();
        return request;
    }

    private static async Task<JsonObject> ConvertAsync(ResourceType from, ResourceType to, JsonObject obj, CancellationToken ct)
    {
        try
        {
            var storage = await Http.ApiHandler.ToStorageAsync(from, obj.DeepClone().AsObject(), ct);
            return await Http.ApiHandler.ToViewAsync(to, storage, ct);
        }
        catch (ApiError e)
        {
            throw ApiError.Internal($"unable to convert to {to.ApiVersion}, Kind={to.Kind}: {e.Message}");
        }
    }

    /// <summary>POSTs the review and checks the answer as <c>VerifyAdmissionResponse</c> does.</summary>
    private async Task<ReviewResponse> CallAsync(AdmissionWebhook hook, JsonObject request, bool dryRun, CancellationToken ct)
    {
        var name = KubeJson.GoQuote(hook.Name);
        if (dryRun && hook.SideEffects is not ("None" or "NoneOnDryRun"))
        {
            throw ApiError.BadRequest($"admission webhook {name} does not support dry run");
        }

        var apiVersion = "admission.k8s.io/" + hook.ReviewVersion;
        var uid = request.GetString("uid") ?? "";
        var review = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = "AdmissionReview", ["request"] = request };
        JsonObject answer;
        try
        {
            answer = await client.PostAsync(hook.ClientConfig, review, hook.Timeout, ct);
        }
        catch (WebhookCallException e) when (e.InvalidResponse)
        {
            throw new CallFailure($"failed calling webhook {name}: {e.Message}");
        }
        catch (WebhookCallException e)
        {
            throw new CallFailure($"failed calling webhook {name}: failed to call webhook: {e.Message}");
        }

        string Invalid(string detail) => $"failed calling webhook {name}: received invalid webhook response: {detail}";
        if (answer.GetObject("response") is not { } response)
        {
            throw new CallFailure(Invalid("webhook response was absent"));
        }

        if (response.GetString("uid") != uid)
        {
            throw new CallFailure(Invalid($"expected response.uid={KubeJson.GoQuote(uid)}, got {KubeJson.GoQuote(response.GetString("uid") ?? "")}"));
        }

        if (answer.GetString("apiVersion") != apiVersion || answer.GetString("kind") != "AdmissionReview")
        {
            throw new CallFailure(Invalid($"expected webhook response of {apiVersion}, Kind=AdmissionReview, got {answer.GetString("apiVersion")}, Kind={answer.GetString("kind")}"));
        }

        var patch = response.GetString("patch");
        var patchType = response.GetString("patchType");
        if (hook.Mutating)
        {
            if (!string.IsNullOrEmpty(patch) && patchType is null)
            {
                throw new CallFailure(Invalid("webhook returned response.patch but not response.patchType"));
            }

            if (string.IsNullOrEmpty(patch) && patchType is not null)
            {
                throw new CallFailure(Invalid("webhook returned response.patchType but not response.patch"));
            }

            if (patchType is { Length: 0 })
            {
                throw new CallFailure(Invalid("webhook returned invalid response.patchType of \"\""));
            }
        }
        else if (!string.IsNullOrEmpty(patch))
        {
            throw new CallFailure(Invalid("validating webhook may not return response.patch"));
        }
        else if (patchType is not null)
        {
            throw new CallFailure(Invalid("validating webhook may not return response.patchType"));
        }

        var warnings = (response["warnings"] as JsonArray ?? []).Select(w => w is JsonValue v && v.IsString() ? v.GetValue<string>() : "").Where(w => w.Length > 0).ToList();
        var allowed = response.GetBool("allowed") == true;
        string? decoded = null;
        if (allowed && !string.IsNullOrEmpty(patch))
        {
            if (patchType != "JSONPatch")
            {
                throw new CallFailure($"failed calling webhook {name}: unsupported patch type {KubeJson.GoQuote(patchType!)}");
            }

            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(patch));
            }
            catch (FormatException e)
            {
                throw new CallFailure(Invalid($"json: cannot unmarshal patch: {e.Message}"));
            }
        }

        return new ReviewResponse(allowed, response.GetObject("status"), decoded, warnings);
    }

    /// <summary>webhookerrors <c>ToStatusErr</c>: the webhook's Status with the code forced to at least 400 and the message prefixed.</summary>
    private static ApiError Denial(string name, JsonObject? result)
    {
        var deniedBy = $"admission webhook {KubeJson.GoQuote(name)} denied the request";
        var code = (int)(result?.GetLong("code") ?? 0);
        if (code < 400)
        {
            code = 400;
        }

        var reason = result?.GetString("reason") ?? "";
        var message = result?.GetString("message") is { Length: > 0 } m ? $"{deniedBy}: {m}"
            : reason.Length > 0 ? $"{deniedBy}: {reason}"
            : $"{deniedBy} without explanation";
        return ApiError.Create(code, reason, message, result?.GetObject("details")?.DeepClone().AsObject());
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Failed calling webhook, failing open {Webhook}: {Reason}")]
        public static partial void FailingOpen(ILogger logger, string webhook, string reason);
    }
}

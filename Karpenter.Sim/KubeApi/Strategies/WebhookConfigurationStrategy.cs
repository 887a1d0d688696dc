using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Errors;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Validation;

namespace Karpenter.Sim.KubeApi.Strategies;

/// <summary>
/// Validating- and MutatingWebhookConfiguration (admissionregistration.k8s.io/v1): the v1 defaults
/// (<c>failurePolicy: Fail</c>, <c>matchPolicy: Equivalent</c>, empty selectors, <c>timeoutSeconds: 10</c>,
/// <c>scope: "*"</c>, service port 443, <c>reinvocationPolicy: Never</c>) and the validation of
/// <c>ValidateValidatingWebhookConfiguration</c>, so a configuration the real server refuses is refused here.
/// </summary>
internal sealed class WebhookConfigurationStrategy(bool mutating) : ResourceStrategy
{
    private static readonly string[] Operations = ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"];
    private static readonly string[] SelectorOperators = ["DoesNotExist", "Exists", "In", "NotIn"];

    public override bool TracksGeneration => true;

    public override void PrepareForCreate(IStrategyContext context, JsonObject obj) => Default(obj);

    public override void PrepareForUpdate(IStrategyContext context, JsonObject obj, JsonObject old) => Default(obj);

    private void Default(JsonObject obj)
    {
        foreach (var hook in (obj["webhooks"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (hook.At("clientConfig", "service") is JsonObject service && service["port"] is null)
            {
                service["port"] = 443;
            }

            foreach (var rule in (hook["rules"] as JsonArray ?? []).OfType<JsonObject>())
            {
                rule["scope"] ??= "*";
            }

            hook["failurePolicy"] ??= "Fail";
            hook["matchPolicy"] ??= "Equivalent";
            hook["namespaceSelector"] ??= new JsonObject();
            hook["objectSelector"] ??= new JsonObject();
            hook["timeoutSeconds"] ??= 10;
            if (mutating)
            {
                hook["reinvocationPolicy"] ??= "Never";
            }
        }
    }

    public override void Validate(IStrategyContext context, JsonObject obj, List<FieldError> errors)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var hooks = obj["webhooks"] as JsonArray ?? [];
        for (var i = 0; i < hooks.Count; i++)
        {
            if (hooks[i] is not JsonObject hook)
            {
                continue;
            }

            var path = $"webhooks[{i}]";
            var name = hook.GetString("name") ?? "";
            if (name.Length == 0)
            {
                errors.Add(FieldError.Required(path + ".name"));
            }
            else
            {
                foreach (var problem in ObjectMetaValidation.Dns1123SubdomainErrors(name))
                {
                    errors.Add(FieldError.Invalid(path + ".name", name, problem));
                }

                if (name.Split('.').Length < 3)
                {
                    errors.Add(FieldError.Invalid(path + ".name", name, "should be a domain with at least three segments separated by dots"));
                }

                if (!names.Add(name))
                {
                    errors.Add(FieldError.Duplicate(path + ".name", name));
                }
            }

            ValidateHook(hook, path, errors);
        }
    }

    private void ValidateHook(JsonObject hook, string path, List<FieldError> errors)
    {
        var versions = hook["admissionReviewVersions"] as JsonArray ?? [];
        if (versions.Count == 0)
        {
            errors.Add(FieldError.Required(path + ".admissionReviewVersions", "must specify one of v1, v1beta1"));
        }
        else if (!versions.Any(v => v?.ToString() is "v1" or "v1beta1"))
        {
            errors.Add(FieldError.Invalid(path + ".admissionReviewVersions", versions.DeepClone(), "must include at least one of v1, v1beta1"));
        }

        Enum(hook, "failurePolicy", path, ["Fail", "Ignore"], errors);
        Enum(hook, "matchPolicy", path, ["Equivalent", "Exact"], errors);
        if (mutating)
        {
            Enum(hook, "reinvocationPolicy", path, ["IfNeeded", "Never"], errors);
        }

        if (hook.GetString("sideEffects") is not { } sideEffects)
        {
            errors.Add(FieldError.Required(path + ".sideEffects", "must specify one of None, NoneOnDryRun"));
        }
        else if (sideEffects is not ("None" or "NoneOnDryRun"))
        {
            errors.Add(FieldError.NotSupported(path + ".sideEffects", sideEffects, ["None", "NoneOnDryRun"]));
        }

        if (hook.GetLong("timeoutSeconds") is { } timeout and (< 1 or > 30))
        {
            errors.Add(FieldError.Invalid(path + ".timeoutSeconds", timeout, "the timeout value must be between 1 and 30 seconds"));
        }

        ValidateClientConfig(hook.GetObject("clientConfig"), path + ".clientConfig", errors);
        var rules = hook["rules"] as JsonArray ?? [];
        for (var r = 0; r < rules.Count; r++)
        {
            if (rules[r] is JsonObject rule)
            {
                ValidateRule(rule, $"{path}.rules[{r}]", errors);
            }
        }

        ValidateSelector(hook.GetObject("namespaceSelector"), path + ".namespaceSelector", errors);
        ValidateSelector(hook.GetObject("objectSelector"), path + ".objectSelector", errors);
        var conditions = hook["matchConditions"] as JsonArray ?? [];
        if (conditions.Count > 64)
        {
            errors.Add(FieldError.TooMany(path + ".matchConditions", conditions.Count, 64));
        }

        var conditionNames = new HashSet<string>(StringComparer.Ordinal);
        for (var c = 0; c < conditions.Count; c++)
        {
            var condition = conditions[c] as JsonObject ?? [];
            var conditionPath = $"{path}.matchConditions[{c}]";
            var conditionName = condition.GetString("name") ?? "";
            if (conditionName.Length == 0)
            {
                errors.Add(FieldError.Required(conditionPath + ".name"));
            }
            else if (!conditionNames.Add(conditionName))
            {
                errors.Add(FieldError.Duplicate(conditionPath + ".name", conditionName));
            }

            if (string.IsNullOrEmpty(condition.GetString("expression")))
            {
                errors.Add(FieldError.Required(conditionPath + ".expression"));
            }
        }
    }

    private static void Enum(JsonObject hook, string field, string path, string[] allowed, List<FieldError> errors)
    {
        if (hook.GetString(field) is { } value && !allowed.Contains(value))
        {
            errors.Add(FieldError.NotSupported($"{path}.{field}", value, allowed));
        }
    }

    private static void ValidateClientConfig(JsonObject? config, string path, List<FieldError> errors)
    {
        var url = config?.GetString("url");
        var service = config?.GetObject("service");
        if ((url is null) == (service is null))
        {
            errors.Add(FieldError.Required(path, "exactly one of url or service is required"));
            return;
        }

        if (url is not null)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            {
                errors.Add(FieldError.Invalid(path + ".url", url, "host must be specified"));
            }
            else if (uri.Scheme != "https")
            {
                errors.Add(FieldError.Invalid(path + ".url", url, "'https' is the only allowed URL scheme"));
            }
            else if (uri.UserInfo.Length > 0)
            {
                errors.Add(FieldError.Invalid(path + ".url", url, "user information is not permitted in the URL"));
            }
            else if (uri.Fragment.Length > 0 || uri.Query.Length > 0)
            {
                errors.Add(FieldError.Invalid(path + ".url", url, uri.Fragment.Length > 0 ? "fragments are not permitted in the URL" : "query parameters are not permitted in the URL"));
            }

            return;
        }

        if (service is null)
        {
            return;
        }

        if (string.IsNullOrEmpty(service.GetString("namespace")))
        {
            errors.Add(FieldError.Required(path + ".service.namespace", "service namespace is required"));
        }

        if (string.IsNullOrEmpty(service.GetString("name")))
        {
            errors.Add(FieldError.Required(path + ".service.name", "service name is required"));
        }

        if (service.GetLong("port") is { } port and (< 1 or > 65535))
        {
            errors.Add(FieldError.Invalid(path + ".service.port", port, "port is not valid: must be between 1 and 65535, inclusive"));
        }

        if (service.GetString("path") is { Length: > 0 } servicePath && !servicePath.StartsWith('/'))
        {
            errors.Add(FieldError.Invalid(path + ".service.path", servicePath, "must start with a '/'"));
        }
    }

    private static void ValidateRule(JsonObject rule, string path, List<FieldError> errors)
    {
        foreach (var field in new[] { "operations", "apiGroups", "apiVersions", "resources" })
        {
            if (rule[field] is not JsonArray { Count: > 0 })
            {
                errors.Add(FieldError.Required($"{path}.{field}"));
            }
        }

        var operations = rule["operations"] as JsonArray ?? [];
        for (var o = 0; o < operations.Count; o++)
        {
            var op = operations[o]?.ToString() ?? "";
            if (!Operations.Contains(op))
            {
                errors.Add(FieldError.NotSupported($"{path}.operations[{o}]", op, Operations));
            }
        }

        if (operations.Count > 1 && operations.Any(o => o?.ToString() == "*"))
        {
            errors.Add(FieldError.Invalid(path + ".operations", operations.DeepClone(), "if '*' is present, must not specify other operations"));
        }

        var resources = rule["resources"] as JsonArray ?? [];
        for (var r = 0; r < resources.Count; r++)
        {
            var resource = resources[r]?.ToString() ?? "";
            if (resource.Length == 0)
            {
                errors.Add(FieldError.Required($"{path}.resources[{r}]"));
            }
            else if (resource.Split('/') is var parts && (parts.Length > 2 || parts.Any(p => p.Length == 0)))
            {
                errors.Add(FieldError.Invalid($"{path}.resources[{r}]", resource, "must be a resource, resource/subresource, '*', '*/*', 'resource/*' or '*/subresource'"));
            }
        }

        if (rule.GetString("scope") is { } scope && scope is not ("*" or "Cluster" or "Namespaced"))
        {
            errors.Add(FieldError.NotSupported(path + ".scope", scope, ["*", "Cluster", "Namespaced"]));
        }
    }

    private static void ValidateSelector(JsonObject? selector, string path, List<FieldError> errors)
    {
        var expressions = selector?["matchExpressions"] as JsonArray ?? [];
        for (var e = 0; e < expressions.Count; e++)
        {
            var expression = expressions[e] as JsonObject ?? [];
            var op = expression.GetString("operator") ?? "";
            var expressionPath = $"{path}.matchExpressions[{e}]";
            if (!SelectorOperators.Contains(op))
            {
                errors.Add(FieldError.Invalid(expressionPath + ".operator", op, "not a valid selector operator"));
                continue;
            }

            var values = expression["values"] as JsonArray ?? [];
            if (op is "In" or "NotIn" && values.Count == 0)
            {
                errors.Add(FieldError.Required(expressionPath + ".values", "must be specified when `operator` is 'In' or 'NotIn'"));
            }
            else if (op is "Exists" or "DoesNotExist" && values.Count > 0)
            {
                errors.Add(FieldError.Forbidden(expressionPath + ".values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
            }
        }
    }
}

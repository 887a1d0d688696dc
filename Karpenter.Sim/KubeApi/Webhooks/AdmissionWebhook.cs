using System.Text.Json.Nodes;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Resources;
using Karpenter.Sim.KubeApi.Selectors;

namespace Karpenter.Sim.KubeApi.Webhooks;

/// <summary>One <c>rules[]</c> entry of a webhook (admissionregistration v1 <c>RuleWithOperations</c>).</summary>
internal sealed record AdmissionRule(
    IReadOnlyList<string> Operations,
    IReadOnlyList<string> Groups,
    IReadOnlyList<string> Versions,
    IReadOnlyList<string> Resources,
    string Scope)
{
    /// <summary>apiserver <c>rules.Matcher</c>: operation, group, version, resource/subresource (<c>*</c>, <c>*/*</c>, <c>pods/*</c>) and scope.</summary>
    public bool Matches(string operation, string group, string version, string resource, string? subresource, string? ns)
    {
        if (!(Operations.Contains("*") || Operations.Contains(operation)) ||
            !(Groups.Contains("*") || Groups.Contains(group)) ||
            !(Versions.Contains("*") || Versions.Contains(version)))
        {
            return false;
        }

        var sub = subresource ?? "";
        var resourceMatches = false;
        foreach (var entry in Resources)
        {
            var slash = entry.IndexOf('/', StringComparison.Ordinal);
            var (res, ruleSub) = slash < 0 ? (entry, "") : (entry[..slash], entry[(slash + 1)..]);
            if ((res == "*" || res == resource) && (ruleSub == "*" || ruleSub == sub))
            {
                resourceMatches = true;
                break;
            }
        }

        if (!resourceMatches)
        {
            return false;
        }

        // Namespace objects are cluster-scoped even though their requests carry their own name as namespace.
        var isNamespace = group.Length == 0 && resource == "namespaces";
        return Scope switch
        {
            "Namespaced" => !isNamespace && !string.IsNullOrEmpty(ns),
            "Cluster" => isNamespace || string.IsNullOrEmpty(ns),
            _ => true,
        };
    }
}

/// <summary>A webhook of a stored Validating- or MutatingWebhookConfiguration, read once per stored revision.</summary>
internal sealed class AdmissionWebhook
{
    public required string Name { get; init; }

    public required string ConfigurationName { get; init; }

    public required bool Mutating { get; init; }

    public required JsonObject ClientConfig { get; init; }

    public required IReadOnlyList<AdmissionRule> Rules { get; init; }

    public required LabelSelector NamespaceSelector { get; init; }

    public required LabelSelector ObjectSelector { get; init; }

    /// <summary><c>matchPolicy: Equivalent</c> (the v1 default): rules also match other versions of the same resource.</summary>
    public required bool Equivalent { get; init; }

    public required IReadOnlyList<(string Name, string Expression)> MatchConditions { get; init; }

    public required string SideEffects { get; init; }

    public required TimeSpan Timeout { get; init; }

    /// <summary><c>failurePolicy: Ignore</c>: a webhook that cannot be called is skipped.</summary>
    public required bool FailOpen { get; init; }

    public required bool ReinvokeIfNeeded { get; init; }

    /// <summary>The AdmissionReview version sent: the first of <c>admissionReviewVersions</c> the server speaks.</summary>
    public required string ReviewVersion { get; init; }

    /// <summary>Reads the webhooks of one (defaulted, validated) configuration object.</summary>
    public static IReadOnlyList<AdmissionWebhook> FromConfiguration(JsonObject configuration, bool mutating)
    {
        var name = configuration.StringAt("metadata", "name") ?? "";
        var result = new List<AdmissionWebhook>();
        foreach (var hook in (configuration["webhooks"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var versions = Strings(hook["admissionReviewVersions"]);
            result.Add(new AdmissionWebhook
            {
                Name = hook.GetString("name") ?? "",
                ConfigurationName = name,
                Mutating = mutating,
                ClientConfig = hook.GetObject("clientConfig") ?? [],
                Rules = (hook["rules"] as JsonArray ?? []).OfType<JsonObject>().Select(r => new AdmissionRule(
                    Strings(r["operations"]), Strings(r["apiGroups"]), Strings(r["apiVersions"]), Strings(r["resources"]), r.GetString("scope") ?? "*")).ToList(),
                NamespaceSelector = SelectorOf(hook.GetObject("namespaceSelector")),
                ObjectSelector = SelectorOf(hook.GetObject("objectSelector")),
                Equivalent = hook.GetString("matchPolicy") != "Exact",
                MatchConditions = (hook["matchConditions"] as JsonArray ?? []).OfType<JsonObject>()
                    .Select(c => (c.GetString("name") ?? "", c.GetString("expression") ?? "")).ToList(),
                SideEffects = hook.GetString("sideEffects") ?? "",
                Timeout = TimeSpan.FromSeconds(hook.GetLong("timeoutSeconds") ?? 10),
                FailOpen = hook.GetString("failurePolicy") == "Ignore",
                ReinvokeIfNeeded = hook.GetString("reinvocationPolicy") == "IfNeeded",
                ReviewVersion = versions.FirstOrDefault(v => v is "v1" or "v1beta1") ?? "v1",
            });
        }

        return result;
    }

    private static List<string> Strings(JsonNode? node) =>
        (node as JsonArray ?? []).Select(n => n is JsonValue v && v.IsString() ? v.GetValue<string>() : "").ToList();

    /// <summary>A metav1.LabelSelector (<c>matchLabels</c> and <c>matchExpressions</c>) as a selector; null or empty selects everything.</summary>
    public static LabelSelector SelectorOf(JsonObject? selector)
    {
        if (selector is null)
        {
            return LabelSelector.Everything;
        }

        var requirements = new List<LabelRequirement>();
        foreach (var (key, value) in selector.GetObject("matchLabels") ?? [])
        {
            requirements.Add(new LabelRequirement(key, LabelOperator.Equals, [value?.ToString() ?? ""]));
        }

        foreach (var expression in (selector["matchExpressions"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var op = expression.GetString("operator") switch
            {
                "In" => LabelOperator.In,
                "NotIn" => LabelOperator.NotIn,
                "Exists" => LabelOperator.Exists,
                _ => LabelOperator.DoesNotExist,
            };
            requirements.Add(new LabelRequirement(expression.GetString("key") ?? "", op, Strings(expression["values"])));
        }

        return LabelSelector.FromRequirements(requirements);
    }
}

/// <summary>What one admission call is about: apiserver's <c>admission.Attributes</c>.</summary>
internal sealed class AdmissionAttributes
{
    public required ResourceType Type { get; init; }

    public string? Subresource { get; init; }

    /// <summary><c>CREATE</c>, <c>UPDATE</c> or <c>DELETE</c>.</summary>
    public required string Operation { get; init; }

    /// <summary>The request's namespace (for Namespace objects: their own name, as kube-apiserver sets it).</summary>
    public string? Namespace { get; init; }

    /// <summary>Empty for a create with <c>generateName</c> before the name is generated.</summary>
    public string Name { get; init; } = "";

    /// <summary>The object in the request's version; null on DELETE. Mutating webhooks replace it.</summary>
    public JsonObject? Object { get; set; }

    public JsonObject? OldObject { get; init; }

    public bool DryRun { get; init; }

    /// <summary><c>CreateOptions</c>, <c>UpdateOptions</c> or <c>DeleteOptions</c> (meta.k8s.io/v1).</summary>
    public required JsonObject Options { get; init; }

    /// <summary>The body's own kind for subresources that take another type (pods/binding: Binding, pods/eviction: policy/v1 Eviction).</summary>
    public (string Group, string Version, string Kind)? SubresourceKind { get; init; }
}

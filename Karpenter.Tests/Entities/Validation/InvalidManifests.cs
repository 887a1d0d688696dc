using System.Globalization;
using System.Text.Json.Nodes;
using Karpenter.Entities;

namespace Karpenter.Tests.Entities.Validation;

/// <summary>Which part of the API refuses a manifest.</summary>
public enum RefusedBy
{
    /// <summary>The CRD's OpenAPI schema (a bound, pattern, enum or required field): every API server.</summary>
    Schema,

    /// <summary>A CEL rule of the CRD: API servers that run CEL, and the validating webhook for those that do not.</summary>
    Cel,

    /// <summary>Only the validating webhook: what CEL cannot check.</summary>
    Webhook,
}

/// <summary>
/// One invalid manifest: a valid base object of <see cref="Kind"/> changed by <see cref="Change"/> (and, for a rule
/// on updates, the object it replaces changed by <see cref="OldChange"/>), and the field error a user gets.
/// </summary>
public sealed record InvalidManifest(string Name, string Kind, RefusedBy By, string Expected, Action<JsonObject> Change, Action<JsonObject>? OldChange = null)
{
    public override string ToString() => Name;

    public JsonObject Build() => Apply(Change);

    public JsonObject? BuildOld() => OldChange is null ? null : Apply(OldChange);

    private JsonObject Apply(Action<JsonObject> change)
    {
        var obj = InvalidManifests.Base(Kind);
        change(obj);
        return obj;
    }
}

/// <summary>
/// For every CEL rule and every bound of Karpenter's v1 CRDs, and every check the webhook adds, a manifest that
/// violates it and the exact field error a user gets (the API server's rendering).
/// </summary>
public static class InvalidManifests
{
    private const string NodePool = "NodePool";
    private const string NodeClaim = "NodeClaim";
    private const string NodeClass = "EC2NodeClass";

    public static JsonObject Base(string kind) => JsonNode.Parse(kind switch
    {
        NodePool => """
            {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "base"},
             "spec": {"template": {"metadata": {"labels": {"team": "a"}},
                                   "spec": {"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
                                            "requirements": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot", "on-demand"]}],
                                            "taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}],
                                            "expireAfter": "720h"}},
                      "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m", "budgets": [{"nodes": "10%"}]},
                      "limits": {"cpu": "100"}}}
            """,
        NodeClaim => """
            {"apiVersion": "karpenter.sh/v1", "kind": "NodeClaim", "metadata": {"name": "base"},
             "spec": {"nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
                      "requirements": [{"key": "karpenter.sh/nodepool", "operator": "In", "values": ["default"]},
                                       {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["m5.large"]}],
                      "expireAfter": "720h"}}
            """,
        NodeClass => """
            {"apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass", "metadata": {"name": "base"},
             "spec": {"role": "KarpenterNodeRole", "amiSelectorTerms": [{"alias": "al2023@latest"}],
                      "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "c"}}],
                      "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": "c"}}]}}
            """,
        _ => throw new ArgumentException(kind, nameof(kind)),
    })!.AsObject();

    public static IReadOnlyList<InvalidManifest> All { get; } = [.. NodePools(), .. NodeClaims(), .. NodeClasses()];

    private static IEnumerable<InvalidManifest> NodePools()
    {
        const string t = "spec.template.spec";
        const string r0 = t + ".requirements[0]";

        // CEL rules.
        yield return new("static NodePool from dynamic", NodePool, RefusedBy.Cel,
            Cel("spec", "object", "Cannot transition NodePool between static (replicas set) and dynamic (replicas unset) provisioning modes"),
            o => { Set(o, "spec.replicas", 2); Remove(o, "spec.limits"); }, _ => { });
        yield return new("static NodePool with cpu limits", NodePool, RefusedBy.Cel, Cel("spec", "object", "only 'limits.nodes' is supported on static NodePools"),
            o => Set(o, "spec.replicas", 2));
        yield return new("static NodePool with weight", NodePool, RefusedBy.Cel, Cel("spec", "object", "'weight' is not supported on static NodePools"),
            o => { Set(o, "spec.replicas", 2); Remove(o, "spec.limits"); Set(o, "spec.weight", 10); });
        yield return new("budget schedule without duration", NodePool, RefusedBy.Cel, Cel("spec.disruption.budgets", "array", "'schedule' must be set with 'duration'"),
            o => Set(o, "spec.disruption.budgets[0].schedule", "@daily"));
        yield return new("template label in karpenter.sh", NodePool, RefusedBy.Cel, Cel("spec.template.metadata.labels", "object", "label domain \"karpenter.sh\" is restricted"),
            o => Set(o, "spec.template.metadata.labels", Obj("""{"karpenter.sh/custom": "x"}""")));
        yield return new("template label karpenter.sh/nodepool", NodePool, RefusedBy.Cel, Cel("spec.template.metadata.labels", "object", "label \"karpenter.sh/nodepool\" is restricted"),
            o => Set(o, "spec.template.metadata.labels", Obj("""{"karpenter.sh/nodepool": "x"}""")));
        yield return new("template label kubernetes.io/hostname", NodePool, RefusedBy.Cel, Cel("spec.template.metadata.labels", "object", "label \"kubernetes.io/hostname\" is restricted"),
            o => Set(o, "spec.template.metadata.labels", Obj("""{"kubernetes.io/hostname": "x"}""")));
        yield return new("template label in karpenter.k8s.aws", NodePool, RefusedBy.Cel, Cel("spec.template.metadata.labels", "object", "label domain \"karpenter.k8s.aws\" is restricted"),
            o => Set(o, "spec.template.metadata.labels", Obj("""{"karpenter.k8s.aws/custom": "x"}""")));
        foreach (var c in RequirementCases(NodePool, t + ".requirements", nodePoolKeyAllowed: false))
        {
            yield return c;
        }

        yield return new("nodeClassRef group empty", NodePool, RefusedBy.Cel, Cel(t + ".nodeClassRef.group", "string", "group may not be empty"),
            o => Set(o, t + ".nodeClassRef.group", ""));
        yield return new("nodeClassRef kind empty", NodePool, RefusedBy.Cel, Cel(t + ".nodeClassRef.kind", "string", "kind may not be empty"),
            o => Set(o, t + ".nodeClassRef.kind", ""));
        yield return new("nodeClassRef name empty", NodePool, RefusedBy.Cel, Cel(t + ".nodeClassRef.name", "string", "name may not be empty"),
            o => Set(o, t + ".nodeClassRef.name", ""));
        yield return new("nodeClassRef group changed", NodePool, RefusedBy.Cel, Cel(t + ".nodeClassRef", "object", "nodeClassRef.group is immutable"),
            o => Set(o, t + ".nodeClassRef.group", "karpenter.k8s.aws"), old => Set(old, t + ".nodeClassRef.group", "example.com"));
        yield return new("nodeClassRef kind changed", NodePool, RefusedBy.Cel, Cel(t + ".nodeClassRef", "object", "nodeClassRef.kind is immutable"),
            o => Set(o, t + ".nodeClassRef.kind", "EC2NodeClass"), old => Set(old, t + ".nodeClassRef.kind", "OtherNodeClass"));

        // Bounds.
        yield return new("weight 0", NodePool, RefusedBy.Schema, Bound("spec.weight", "0", "greater than or equal to 1"), o => Set(o, "spec.weight", 0));
        yield return new("weight 101", NodePool, RefusedBy.Schema, Bound("spec.weight", "101", "less than or equal to 100"), o => Set(o, "spec.weight", 101));
        yield return new("replicas -1", NodePool, RefusedBy.Schema, Bound("spec.replicas", "-1", "greater than or equal to 0"),
            o => { Set(o, "spec.replicas", -1); Remove(o, "spec.limits"); });
        yield return new("51 budgets", NodePool, RefusedBy.Schema, TooMany("spec.disruption.budgets", 51, 50),
            o => Set(o, "spec.disruption.budgets", Repeat("""{"nodes": "1"}""", 51)));
        yield return new("budget nodes 101%", NodePool, RefusedBy.Schema, Pattern("spec.disruption.budgets[0].nodes", "101%", SchemaPatterns.BudgetNodes),
            o => Set(o, "spec.disruption.budgets[0].nodes", "101%"));
        yield return new("budget schedule of four fields", NodePool, RefusedBy.Schema, Pattern("spec.disruption.budgets[0].schedule", "0 9 * *", SchemaPatterns.BudgetSchedule),
            o => { Set(o, "spec.disruption.budgets[0].schedule", "0 9 * *"); Set(o, "spec.disruption.budgets[0].duration", "1h"); });
        yield return new("budget duration in seconds", NodePool, RefusedBy.Schema, Pattern("spec.disruption.budgets[0].duration", "30s", SchemaPatterns.BudgetDuration),
            o => { Set(o, "spec.disruption.budgets[0].schedule", "@daily"); Set(o, "spec.disruption.budgets[0].duration", "30s"); });
        yield return new("budget reason unknown", NodePool, RefusedBy.Schema, NotSupported("spec.disruption.budgets[0].reasons[0]", "Expired", "Underutilized", "Empty", "Drifted"),
            o => Set(o, "spec.disruption.budgets[0].reasons", Arr("""["Expired"]""")));
        yield return new("budget reason twice", NodePool, RefusedBy.Schema, "spec.disruption.budgets[0].reasons[1]: Duplicate value: \"Empty\"",
            o => Set(o, "spec.disruption.budgets[0].reasons", Arr("""["Empty", "Empty"]""")));
        yield return new("51 budget reasons", NodePool, RefusedBy.Schema, TooMany("spec.disruption.budgets[0].reasons", 51, 50),
            o => Set(o, "spec.disruption.budgets[0].reasons", Repeat("\"Empty\"", 51)));
        yield return new("consolidateAfter in days", NodePool, RefusedBy.Schema, Pattern("spec.disruption.consolidateAfter", "1d", SchemaPatterns.NillableDuration),
            o => Set(o, "spec.disruption.consolidateAfter", "1d"));
        yield return new("consolidateAfter missing", NodePool, RefusedBy.Schema, "spec.disruption.consolidateAfter: Required value",
            o => Remove(o, "spec.disruption.consolidateAfter"));
        yield return new("consolidationPolicy unknown", NodePool, RefusedBy.Schema,
            NotSupported("spec.disruption.consolidationPolicy", "WhenUnderutilized", "WhenEmpty", "WhenEmptyOrUnderutilized", "Balanced"),
            o => Set(o, "spec.disruption.consolidationPolicy", "WhenUnderutilized"));
        yield return new("limit not a quantity", NodePool, RefusedBy.Schema, Pattern("spec.limits.cpu", "lots", SchemaPatterns.Quantity),
            o => Set(o, "spec.limits.cpu", "lots"));
        yield return new("expireAfter in days", NodePool, RefusedBy.Schema, Pattern(t + ".expireAfter", "30d", SchemaPatterns.NillableDuration),
            o => Set(o, t + ".expireAfter", "30d"));
        yield return new("terminationGracePeriod Never", NodePool, RefusedBy.Schema, Pattern(t + ".terminationGracePeriod", "Never", SchemaPatterns.Duration),
            o => Set(o, t + ".terminationGracePeriod", "Never"));
        yield return new("nodeClassRef group with a slash", NodePool, RefusedBy.Schema, Pattern(t + ".nodeClassRef.group", "karpenter.k8s.aws/v1", SchemaPatterns.Group),
            o => Set(o, t + ".nodeClassRef.group", "karpenter.k8s.aws/v1"));
        yield return new("template missing", NodePool, RefusedBy.Schema, "spec.template: Required value", o => Remove(o, "spec.template"));
        yield return new("requirements missing", NodePool, RefusedBy.Schema, t + ".requirements: Required value", o => Remove(o, t + ".requirements"));
        yield return new("nodeClassRef missing", NodePool, RefusedBy.Schema, t + ".nodeClassRef: Required value", o => Remove(o, t + ".nodeClassRef"));
        yield return new("template label value too long", NodePool, RefusedBy.Schema, "spec.template.metadata.labels.team: Too long: may not be more than 63 bytes",
            o => Set(o, "spec.template.metadata.labels.team", new string('a', 64)));
        yield return new("template label value with a space", NodePool, RefusedBy.Schema, Pattern("spec.template.metadata.labels.team", "a b", SchemaPatterns.LabelValue),
            o => Set(o, "spec.template.metadata.labels.team", "a b"));
        foreach (var c in TaintCases(NodePool, t + ".taints"))
        {
            yield return c;
        }

        // What only the webhook checks.
        yield return new("budget schedule that is not cron", NodePool, RefusedBy.Webhook,
            "spec.disruption.budgets[0].schedule: Invalid value: \"61 * * * *\": not a valid cron schedule",
            o => { Set(o, "spec.disruption.budgets[0].schedule", "61 * * * *"); Set(o, "spec.disruption.budgets[0].duration", "1h"); });
        yield return new("requirement key in kubernetes.io", NodePool, RefusedBy.Webhook,
            $"{r0}.key: Invalid value: \"example.kubernetes.io/role\": label example.kubernetes.io/role is restricted; specify a well known label: [",
            o => Set(o, r0 + ".key", "example.kubernetes.io/role"));
        yield return new("template label in k8s.io", NodePool, RefusedBy.Webhook,
            "spec.template.metadata.labels[team.k8s.io/x]: Invalid value: \"team.k8s.io/x\": label team.k8s.io/x is restricted",
            o => Set(o, "spec.template.metadata.labels", Obj("""{"team.k8s.io/x": "a"}""")));
        yield return new("nodeClassRef to another provider", NodePool, RefusedBy.Webhook,
            NotSupported(t + ".nodeClassRef.group", "karpenter.azure.com", "karpenter.k8s.aws"),
            o => Set(o, t + ".nodeClassRef.group", "karpenter.azure.com"), old => Set(old, t + ".nodeClassRef.group", "karpenter.azure.com"));
        yield return new("nodeClassRef to an unknown kind", NodePool, RefusedBy.Webhook,
            NotSupported(t + ".nodeClassRef.kind", "AKSNodeClass", "EC2NodeClass"),
            o => Set(o, t + ".nodeClassRef.kind", "AKSNodeClass"), old => Set(old, t + ".nodeClassRef.kind", "AKSNodeClass"));
        yield return new("taint repeated", NodePool, RefusedBy.Webhook,
            $"{t}.taints[1]: Duplicate value: duplicate taint Key/Effect pair dedicated=NoSchedule",
            o => Set(o, t + ".taints", Arr("""[{"key": "dedicated", "value": "a", "effect": "NoSchedule"}, {"key": "dedicated", "value": "b", "effect": "NoSchedule"}]""")));
        yield return new("expireAfter beyond Go's range", NodePool, RefusedBy.Webhook,
            $"{t}.expireAfter: Invalid value: \"99999999999h\": must be a duration",
            o => Set(o, t + ".expireAfter", "99999999999h"));
    }

    private static IEnumerable<InvalidManifest> RequirementCases(string kind, string path, bool nodePoolKeyAllowed)
    {
        var r0 = path + "[0]";
        yield return new($"{kind}: In without values", kind, RefusedBy.Cel, Cel(path, "array", "requirements with operator 'In' must have a value defined"),
            o => Set(o, r0 + ".values", Arr("[]")));
        yield return new($"{kind}: Gt with two values", kind, RefusedBy.Cel, Cel(path, "array", "requirements operator 'Gt', 'Lt', 'Gte', or 'Lte' must have a single positive integer value"),
            o => { Set(o, r0 + ".key", "karpenter.k8s.aws/instance-cpu"); Set(o, r0 + ".operator", "Gt"); Set(o, r0 + ".values", Arr("""["2", "4"]""")); });
        yield return new($"{kind}: Lte negative", kind, RefusedBy.Cel, Cel(path, "array", "requirements operator 'Gt', 'Lt', 'Gte', or 'Lte' must have a single positive integer value"),
            o => { Set(o, r0 + ".key", "karpenter.k8s.aws/instance-cpu"); Set(o, r0 + ".operator", "Lte"); Set(o, r0 + ".values", Arr("""["-4"]""")); });
        yield return new($"{kind}: minValues above the values", kind, RefusedBy.Cel, Cel(path, "array", "requirements with 'minValues' must have at least that many values specified in the 'values' field"),
            o => Set(o, r0 + ".minValues", 5));
        yield return new($"{kind}: key in karpenter.sh", kind, RefusedBy.Cel, Cel(r0 + ".key", "string", "label domain \"karpenter.sh\" is restricted"),
            o => Set(o, r0 + ".key", "karpenter.sh/custom"));
        if (!nodePoolKeyAllowed)
        {
            yield return new($"{kind}: key karpenter.sh/nodepool", kind, RefusedBy.Cel, Cel(r0 + ".key", "string", "label \"karpenter.sh/nodepool\" is restricted"),
                o => Set(o, r0 + ".key", "karpenter.sh/nodepool"));
        }

        yield return new($"{kind}: key kubernetes.io/hostname", kind, RefusedBy.Cel, Cel(r0 + ".key", "string", "label \"kubernetes.io/hostname\" is restricted"),
            o => Set(o, r0 + ".key", "kubernetes.io/hostname"));
        yield return new($"{kind}: key in karpenter.k8s.aws", kind, RefusedBy.Cel, Cel(r0 + ".key", "string", "label domain \"karpenter.k8s.aws\" is restricted"),
            o => Set(o, r0 + ".key", "karpenter.k8s.aws/custom"));
        yield return new($"{kind}: 101 requirements", kind, RefusedBy.Schema, TooMany(path, 101, 100),
            o => Set(o, path, Repeat("""{"key": "team", "operator": "Exists"}""", 101)));
        yield return new($"{kind}: minValues 0", kind, RefusedBy.Schema, Bound(r0 + ".minValues", "0", "greater than or equal to 1"),
            o => Set(o, r0 + ".minValues", 0));
        yield return new($"{kind}: minValues 51", kind, RefusedBy.Schema, Bound(r0 + ".minValues", "51", "less than or equal to 50"),
            o => Set(o, r0 + ".minValues", 51));
        yield return new($"{kind}: operator unknown", kind, RefusedBy.Schema,
            NotSupported(r0 + ".operator", "Like", "Gte", "Lte", "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"),
            o => Set(o, r0 + ".operator", "Like"));
        yield return new($"{kind}: key not a qualified name", kind, RefusedBy.Schema, Pattern(r0 + ".key", "-team", SchemaPatterns.QualifiedName),
            o => Set(o, r0 + ".key", "-team"));
        yield return new($"{kind}: key too long", kind, RefusedBy.Schema, $"{r0}.key: Too long: may not be more than 316 bytes",
            o => Set(o, r0 + ".key", "a." + new string('b', 315)));
        yield return new($"{kind}: operator missing", kind, RefusedBy.Schema, $"{r0}.operator: Required value", o => Remove(o, r0 + ".operator"));
    }

    private static IEnumerable<InvalidManifest> TaintCases(string kind, string path)
    {
        yield return new($"{kind}: taint effect unknown", kind, RefusedBy.Schema, NotSupported(path + "[0].effect", "NoRun", "NoSchedule", "PreferNoSchedule", "NoExecute"),
            o => Set(o, path, Arr("""[{"key": "k", "effect": "NoRun"}]""")));
        yield return new($"{kind}: taint key empty", kind, RefusedBy.Schema, $"{path}[0].key: Invalid value: \"\": {path}[0].key in body should be at least 1 chars long",
            o => Set(o, path, Arr("""[{"key": "", "effect": "NoSchedule"}]""")));
        yield return new($"{kind}: taint value with a space", kind, RefusedBy.Schema, Pattern(path + "[0].value", "a b", SchemaPatterns.QualifiedName),
            o => Set(o, path, Arr("""[{"key": "k", "value": "a b", "effect": "NoSchedule"}]""")));
        yield return new($"{kind}: taint effect missing", kind, RefusedBy.Schema, $"{path}[0].effect: Required value",
            o => Set(o, path, Arr("""[{"key": "k"}]""")));
    }

    private static IEnumerable<InvalidManifest> NodeClaims()
    {
        yield return new("NodeClaim: spec changed", NodeClaim, RefusedBy.Cel, Cel("spec", "object", "spec is immutable"),
            o => Set(o, "spec.expireAfter", "24h"), _ => { });
        foreach (var c in RequirementCases(NodeClaim, "spec.requirements", nodePoolKeyAllowed: true))
        {
            yield return c;
        }

        foreach (var c in TaintCases(NodeClaim, "spec.startupTaints"))
        {
            yield return c;
        }

        yield return new("NodeClaim: nodeClassRef name empty", NodeClaim, RefusedBy.Cel, Cel("spec.nodeClassRef.name", "string", "name may not be empty"),
            o => Set(o, "spec.nodeClassRef.name", ""));
        yield return new("NodeClaim: request not a quantity", NodeClaim, RefusedBy.Schema, Pattern("spec.resources.requests.cpu", "two", SchemaPatterns.Quantity),
            o => Set(o, "spec.resources", Obj("""{"requests": {"cpu": "two"}}""")));
        yield return new("NodeClaim: expireAfter in weeks", NodeClaim, RefusedBy.Schema, Pattern("spec.expireAfter", "1w", SchemaPatterns.NillableDuration),
            o => Set(o, "spec.expireAfter", "1w"));
    }

    private static IEnumerable<InvalidManifest> NodeClasses()
    {
        // Spec-level CEL rules.
        yield return new("role and instanceProfile", NodeClass, RefusedBy.Cel, Cel("spec", "object", "must specify exactly one of ['role', 'instanceProfile']"),
            o => Set(o, "spec.instanceProfile", "profile"));
        yield return new("neither role nor instanceProfile", NodeClass, RefusedBy.Cel, Cel("spec", "object", "must specify exactly one of ['role', 'instanceProfile']"),
            o => Remove(o, "spec.role"));
        foreach (var (alias, family, article) in new[] { ("al2", "AL2", "an"), ("al2023", "AL2023", "an"), ("bottlerocket", "Bottlerocket", "a"), ("windows2019", "Windows2019", "a"), ("windows2022", "Windows2022", "a"), ("windows2025", "Windows2025", "a") })
        {
            var other = family == "AL2" ? "AL2023" : "AL2";
            yield return new($"amiFamily {other} with an {alias} alias", NodeClass, RefusedBy.Cel,
                Cel("spec", "object", $"if set, amiFamily must be '{family}' or 'Custom' when using {article} {family} alias"),
                o => { Set(o, "spec.amiSelectorTerms[0].alias", $"{alias}@latest"); Set(o, "spec.amiFamily", other); });
        }

        yield return new("no alias and no amiFamily", NodeClass, RefusedBy.Cel, Cel("spec", "object", "must specify amiFamily if amiSelectorTerms does not contain an alias"),
            o => Set(o, "spec.amiSelectorTerms", Arr("""[{"id": "ami-0123"}]""")));

        // Selector terms.
        const string ami = "spec.amiSelectorTerms";
        yield return new("AMI term without a selector", NodeClass, RefusedBy.Cel, Cel(ami, "array", "expected at least one, got none, ['tags', 'id', 'name', 'alias', 'ssmParameter']"),
            o => { Set(o, ami, Arr("""[{"owner": "amazon"}]""")); Set(o, "spec.amiFamily", "AL2023"); });
        yield return new("AMI id with a name", NodeClass, RefusedBy.Cel, Cel(ami, "array", "'id' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms"),
            o => { Set(o, ami, Arr("""[{"id": "ami-0123", "name": "x"}]""")); Set(o, "spec.amiFamily", "AL2023"); });
        yield return new("AMI alias with tags", NodeClass, RefusedBy.Cel, Cel(ami, "array", "'alias' is mutually exclusive, cannot be set with a combination of other fields in amiSelectorTerms"),
            o => Set(o, ami + "[0].tags", Obj("""{"a": "b"}""")));
        yield return new("AMI alias with another term", NodeClass, RefusedBy.Cel, Cel(ami, "array", "'alias' is mutually exclusive, cannot be set with a combination of other amiSelectorTerms"),
            o => Set(o, ami, Arr("""[{"alias": "al2023@latest"}, {"id": "ami-0123"}]""")));
        yield return new("alias without a version", NodeClass, RefusedBy.Cel, Cel(ami + "[0].alias", "string", "'alias' is improperly formatted, must match the format 'family@version'"),
            o => Set(o, ami + "[0].alias", "al2023@"));
        yield return new("alias of an unknown family", NodeClass, RefusedBy.Cel,
            Cel(ami + "[0].alias", "string", "family is not supported, must be one of the following: 'al2', 'al2023', 'bottlerocket', 'windows2019', 'windows2022', 'windows2025'"),
            o => Set(o, ami + "[0].alias", "ubuntu@latest"));
        yield return new("windows alias pinned", NodeClass, RefusedBy.Cel, Cel(ami + "[0].alias", "string", "windows families may only specify version 'latest'"),
            o => Set(o, ami + "[0].alias", "windows2022@v20240101"));
        yield return new("AMI tags with an empty value", NodeClass, RefusedBy.Cel, Cel(ami + "[0].tags", "object", "empty tag keys or values aren't supported"),
            o => { Set(o, ami, Arr("""[{"tags": {"a": ""}}]""")); Set(o, "spec.amiFamily", "AL2023"); });
        yield return new("no AMI terms", NodeClass, RefusedBy.Schema, $"{ami}: Invalid value: 0: {ami} in body should have at least 1 items", o => Set(o, ami, Arr("[]")));
        yield return new("31 AMI terms", NodeClass, RefusedBy.Schema, TooMany(ami, 31, 30),
            o => { Set(o, ami, Repeat("""{"name": "x"}""", 31)); Set(o, "spec.amiFamily", "AL2023"); });
        yield return new("alias too long", NodeClass, RefusedBy.Schema, $"{ami}[0].alias: Too long: may not be more than 30 bytes",
            o => Set(o, ami + "[0].alias", "al2023@" + new string('v', 30)));
        yield return new("AMI id malformed", NodeClass, RefusedBy.Schema, Pattern(ami + "[0].id", "image-1", "ami-[0-9a-z]+"),
            o => { Set(o, ami, Arr("""[{"id": "image-1"}]""")); Set(o, "spec.amiFamily", "AL2023"); });
        yield return new("amiFamily unknown", NodeClass, RefusedBy.Schema,
            NotSupported("spec.amiFamily", "Ubuntu", "AL2", "AL2023", "Bottlerocket", "Custom", "Windows2019", "Windows2022", "Windows2025"),
            o => Set(o, "spec.amiFamily", "Ubuntu"));

        const string subnets = "spec.subnetSelectorTerms";
        yield return new("no subnet terms", NodeClass, RefusedBy.Cel, Cel(subnets, "array", "subnetSelectorTerms cannot be empty"), o => Set(o, subnets, Arr("[]")));
        yield return new("subnet term without a selector", NodeClass, RefusedBy.Cel, Cel(subnets, "array", "expected at least one, got none, ['tags', 'id']"),
            o => Set(o, subnets, Arr("[{}]")));
        yield return new("subnet id with tags", NodeClass, RefusedBy.Cel, Cel(subnets, "array", "'id' is mutually exclusive, cannot be set with a combination of other fields in a subnet selector term"),
            o => Set(o, subnets, Arr("""[{"id": "subnet-0123", "tags": {"a": "b"}}]""")));
        yield return new("subnet tags with an empty key", NodeClass, RefusedBy.Cel, Cel(subnets + "[0].tags", "object", "empty tag keys or values aren't supported"),
            o => Set(o, subnets + "[0].tags", Obj("""{"": "b"}""")));
        yield return new("31 subnet terms", NodeClass, RefusedBy.Schema, TooMany(subnets, 31, 30), o => Set(o, subnets, Repeat("""{"id": "subnet-0123"}""", 31)));
        yield return new("subnet id malformed", NodeClass, RefusedBy.Schema, Pattern(subnets + "[0].id", "sn-1", "subnet-[0-9a-z]+"),
            o => Set(o, subnets, Arr("""[{"id": "sn-1"}]""")));
        yield return new("21 subnet tags", NodeClass, RefusedBy.Schema, TooMany(subnets + "[0].tags", 21, 20),
            o => Set(o, subnets + "[0].tags", Obj("{" + string.Join(", ", Enumerable.Range(0, 21).Select(i => $"\"k{i}\": \"v\"")) + "}")));
        yield return new("subnet terms missing", NodeClass, RefusedBy.Schema, $"{subnets}: Required value", o => Remove(o, subnets));

        const string groups = "spec.securityGroupSelectorTerms";
        yield return new("no security group terms", NodeClass, RefusedBy.Cel, Cel(groups, "array", "securityGroupSelectorTerms cannot be empty"), o => Set(o, groups, Arr("[]")));
        yield return new("security group term without a selector", NodeClass, RefusedBy.Cel, Cel(groups, "array", "expected at least one, got none, ['tags', 'id', 'name']"),
            o => Set(o, groups, Arr("[{}]")));
        yield return new("security group id with a name", NodeClass, RefusedBy.Cel,
            Cel(groups, "array", "'id' is mutually exclusive, cannot be set with a combination of other fields in a security group selector term"),
            o => Set(o, groups, Arr("""[{"id": "sg-0123", "name": "x"}]""")));
        yield return new("security group name with tags", NodeClass, RefusedBy.Cel,
            Cel(groups, "array", "'name' is mutually exclusive, cannot be set with a combination of other fields in a security group selector term"),
            o => Set(o, groups, Arr("""[{"name": "x", "tags": {"a": "b"}}]""")));
        yield return new("security group id malformed", NodeClass, RefusedBy.Schema, Pattern(groups + "[0].id", "group-1", "sg-[0-9a-z]+"),
            o => Set(o, groups, Arr("""[{"id": "group-1"}]""")));
        yield return new("31 security group terms", NodeClass, RefusedBy.Schema, TooMany(groups, 31, 30), o => Set(o, groups, Repeat("""{"id": "sg-0123"}""", 31)));

        const string reservations = "spec.capacityReservationSelectorTerms";
        yield return new("capacity reservation term without a selector", NodeClass, RefusedBy.Cel,
            Cel(reservations, "array", "expected at least one, got none, ['tags', 'id', 'instanceMatchCriteria']"),
            o => Set(o, reservations, Arr("""[{"ownerID": "123456789012"}]""")));
        yield return new("capacity reservation id with an owner", NodeClass, RefusedBy.Cel,
            Cel(reservations, "array", "'id' is mutually exclusive, cannot be set along with other fields in a capacity reservation selector term"),
            o => Set(o, reservations, Arr("""[{"id": "cr-0123", "ownerID": "123456789012"}]""")));
        yield return new("capacity reservation id malformed", NodeClass, RefusedBy.Schema, Pattern(reservations + "[0].id", "cr_1", "^cr-[0-9a-z]+$"),
            o => Set(o, reservations, Arr("""[{"id": "cr_1"}]""")));
        yield return new("capacity reservation owner malformed", NodeClass, RefusedBy.Schema, Pattern(reservations + "[0].ownerID", "12345", "^[0-9]{12}$"),
            o => Set(o, reservations, Arr("""[{"ownerID": "12345", "tags": {"a": "b"}}]""")));
        yield return new("instanceMatchCriteria unknown", NodeClass, RefusedBy.Schema, NotSupported(reservations + "[0].instanceMatchCriteria", "any", "open", "targeted"),
            o => Set(o, reservations, Arr("""[{"instanceMatchCriteria": "any"}]""")));
        yield return new("31 capacity reservation terms", NodeClass, RefusedBy.Schema, TooMany(reservations, 31, 30),
            o => Set(o, reservations, Repeat("""{"id": "cr-0123"}""", 31)));

        // Tags.
        foreach (var (key, message) in new[]
                 {
                     ("", "empty tag keys aren't supported"),
                     ("eks:eks-cluster-name", "tag contains a restricted tag matching eks:eks-cluster-name"),
                     ("kubernetes.io/cluster/my-cluster", "tag contains a restricted tag matching kubernetes.io/cluster/"),
                     ("karpenter.sh/nodepool", "tag contains a restricted tag matching karpenter.sh/nodepool"),
                     ("karpenter.sh/nodeclaim", "tag contains a restricted tag matching karpenter.sh/nodeclaim"),
                     ("karpenter.k8s.aws/ec2nodeclass", "tag contains a restricted tag matching karpenter.k8s.aws/ec2nodeclass"),
                 })
        {
            yield return new($"tag '{key}'", NodeClass, RefusedBy.Cel, Cel("spec.tags", "object", message), o => Set(o, "spec.tags", new JsonObject { [key] = "v" }));
        }

        // Kubelet.
        const string kubelet = "spec.kubelet";
        yield return new("imageGC high not above low", NodeClass, RefusedBy.Cel, Cel(kubelet, "object", "imageGCHighThresholdPercent must be greater than imageGCLowThresholdPercent"),
            o => Set(o, kubelet, Obj("""{"imageGCHighThresholdPercent": 50, "imageGCLowThresholdPercent": 50}""")));
        yield return new("evictionSoft without a grace period", NodeClass, RefusedBy.Cel, Cel(kubelet, "object", "evictionSoft OwnerKey does not have a matching evictionSoftGracePeriod"),
            o => Set(o, kubelet, Obj("""{"evictionSoft": {"memory.available": "5%"}, "evictionSoftGracePeriod": {}}""")));
        yield return new("grace period without evictionSoft", NodeClass, RefusedBy.Cel, Cel(kubelet, "object", "evictionSoftGracePeriod OwnerKey does not have a matching evictionSoft"),
            o => Set(o, kubelet, Obj("""{"evictionSoft": {}, "evictionSoftGracePeriod": {"memory.available": "1m"}}""")));
        foreach (var map in new[] { "evictionHard", "evictionSoft", "evictionSoftGracePeriod" })
        {
            yield return new($"{map} signal unknown", NodeClass, RefusedBy.Cel,
                Cel($"{kubelet}.{map}", "object", $"valid keys for {map} are ['memory.available','nodefs.available','nodefs.inodesFree','imagefs.available','imagefs.inodesFree','pid.available']"),
                o => Set(o, kubelet, Obj(map == "evictionHard"
                    ? """{"evictionHard": {"disk.available": "5%"}}"""
                    : """{"evictionSoft": {"disk.available": "5%"}, "evictionSoftGracePeriod": {"disk.available": "1m"}}""")));
        }

        foreach (var map in new[] { "systemReserved", "kubeReserved" })
        {
            yield return new($"{map} resource unknown", NodeClass, RefusedBy.Cel,
                Cel($"{kubelet}.{map}", "object", $"valid keys for {map} are ['cpu','memory','ephemeral-storage','pid']"),
                o => Set(o, kubelet, new JsonObject { [map] = Obj("""{"gpu": "1"}""") }));
            yield return new($"{map} negative", NodeClass, RefusedBy.Cel, Cel($"{kubelet}.{map}", "object", $"{map} value cannot be a negative resource quantity"),
                o => Set(o, kubelet, new JsonObject { [map] = Obj("""{"cpu": "-1"}""") }));
            yield return new($"{map} not a quantity", NodeClass, RefusedBy.Schema, Pattern($"{kubelet}.{map}.cpu", "one", SchemaPatterns.Quantity),
                o => Set(o, kubelet, new JsonObject { [map] = Obj("""{"cpu": "one"}""") }));
        }

        yield return new("evictionHard threshold malformed", NodeClass, RefusedBy.Schema, Pattern($"{kubelet}.evictionHard.memory.available", "5 percent", SchemaPatterns.EvictionThreshold),
            o => Set(o, kubelet, Obj("""{"evictionHard": {"memory.available": "5 percent"}}""")));
        yield return new("maxPods -1", NodeClass, RefusedBy.Schema, Bound($"{kubelet}.maxPods", "-1", "greater than or equal to 0"),
            o => Set(o, kubelet, Obj("""{"maxPods": -1}""")));
        yield return new("podsPerCore -1", NodeClass, RefusedBy.Schema, Bound($"{kubelet}.podsPerCore", "-1", "greater than or equal to 0"),
            o => Set(o, kubelet, Obj("""{"podsPerCore": -1}""")));
        yield return new("imageGCHighThresholdPercent 101", NodeClass, RefusedBy.Schema, Bound($"{kubelet}.imageGCHighThresholdPercent", "101", "less than or equal to 100"),
            o => Set(o, kubelet, Obj("""{"imageGCHighThresholdPercent": 101}""")));
        yield return new("imageGCLowThresholdPercent -1", NodeClass, RefusedBy.Schema, Bound($"{kubelet}.imageGCLowThresholdPercent", "-1", "greater than or equal to 0"),
            o => Set(o, kubelet, Obj("""{"imageGCLowThresholdPercent": -1}""")));

        // Block devices.
        const string bdm = "spec.blockDeviceMappings";
        yield return new("two root volumes", NodeClass, RefusedBy.Cel, Cel(bdm, "array", "must have only one blockDeviceMappings with rootVolume"),
            o => Set(o, bdm, Arr("""[{"rootVolume": true, "ebs": {"volumeSize": "20Gi"}}, {"rootVolume": true, "ebs": {"volumeSize": "20Gi"}}]""")));
        yield return new("ebs without size or snapshot", NodeClass, RefusedBy.Cel, Cel(bdm + "[0].ebs", "object", "snapshotID or volumeSize must be defined"),
            o => Set(o, bdm, Arr("""[{"ebs": {"volumeType": "gp3"}}]""")));
        yield return new("initialization rate without a snapshot", NodeClass, RefusedBy.Cel, Cel(bdm + "[0].ebs", "object", "snapshotID must be set when volumeInitializationRate is set"),
            o => Set(o, bdm, Arr("""[{"ebs": {"volumeSize": "20Gi", "volumeInitializationRate": 200}}]""")));
        yield return new("51 block devices", NodeClass, RefusedBy.Schema, TooMany(bdm, 51, 50),
            o => Set(o, bdm, Repeat("""{"ebs": {"volumeSize": "20Gi"}}""", 51)));
        yield return new("initialization rate 99", NodeClass, RefusedBy.Schema, Bound(bdm + "[0].ebs.volumeInitializationRate", "99", "greater than or equal to 100"),
            o => Set(o, bdm, Arr("""[{"ebs": {"snapshotID": "snap-1", "volumeInitializationRate": 99}}]""")));
        yield return new("initialization rate 301", NodeClass, RefusedBy.Schema, Bound(bdm + "[0].ebs.volumeInitializationRate", "301", "less than or equal to 300"),
            o => Set(o, bdm, Arr("""[{"ebs": {"snapshotID": "snap-1", "volumeInitializationRate": 301}}]""")));
        yield return new("volume size in Mi", NodeClass, RefusedBy.Schema, Pattern(bdm + "[0].ebs.volumeSize", "100Mi", SchemaPatterns.VolumeSize),
            o => Set(o, bdm, Arr("""[{"ebs": {"volumeSize": "100Mi"}}]""")));
        yield return new("volume type unknown", NodeClass, RefusedBy.Schema, NotSupported(bdm + "[0].ebs.volumeType", "gp4", "standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"),
            o => Set(o, bdm, Arr("""[{"ebs": {"volumeSize": "20Gi", "volumeType": "gp4"}}]""")));

        // Launch options.
        yield return new("instanceStorePolicy unknown", NodeClass, RefusedBy.Schema, NotSupported("spec.instanceStorePolicy", "RAID1", "RAID0"),
            o => Set(o, "spec.instanceStorePolicy", "RAID1"));
        yield return new("ipPrefixCount -1", NodeClass, RefusedBy.Schema, Bound("spec.ipPrefixCount", "-1", "greater than or equal to 0"), o => Set(o, "spec.ipPrefixCount", -1));
        yield return new("hop limit 0", NodeClass, RefusedBy.Schema, Bound("spec.metadataOptions.httpPutResponseHopLimit", "0", "greater than or equal to 1"),
            o => Set(o, "spec.metadataOptions", Obj("""{"httpPutResponseHopLimit": 0}""")));
        yield return new("hop limit 65", NodeClass, RefusedBy.Schema, Bound("spec.metadataOptions.httpPutResponseHopLimit", "65", "less than or equal to 64"),
            o => Set(o, "spec.metadataOptions", Obj("""{"httpPutResponseHopLimit": 65}""")));
        yield return new("httpTokens unknown", NodeClass, RefusedBy.Schema, NotSupported("spec.metadataOptions.httpTokens", "always", "required", "optional"),
            o => Set(o, "spec.metadataOptions", Obj("""{"httpTokens": "always"}""")));
        yield return new("httpEndpoint unknown", NodeClass, RefusedBy.Schema, NotSupported("spec.metadataOptions.httpEndpoint", "on", "enabled", "disabled"),
            o => Set(o, "spec.metadataOptions", Obj("""{"httpEndpoint": "on"}""")));
        yield return new("nested virtualization unknown", NodeClass, RefusedBy.Schema, NotSupported("spec.cpuOptions.nestedVirtualization", "yes", "enabled", "disabled"),
            o => Set(o, "spec.cpuOptions", Obj("""{"nestedVirtualization": "yes"}""")));

        const string nics = "spec.networkInterfaces";
        yield return new("no primary network interface", NodeClass, RefusedBy.Cel, Cel(nics, "array", "networkInterfaces must include a primary interface with interfaceType='interface'"),
            o => Set(o, nics, Arr("""[{"networkCardIndex": 0, "deviceIndex": 1, "interfaceType": "interface"}]""")));
        yield return new("two interfaces on one slot", NodeClass, RefusedBy.Cel,
            Cel(nics, "array", "networkInterfaces must not have duplicate networkCardIndex and deviceIndex pairs, and can have at most one efa device per network card"),
            o => Set(o, nics, Arr("""[{"networkCardIndex": 0, "deviceIndex": 0, "interfaceType": "interface"}, {"networkCardIndex": 0, "deviceIndex": 0, "interfaceType": "efa-only"}]""")));
        yield return new("151 network interfaces", NodeClass, RefusedBy.Schema, TooMany(nics, 151, 150),
            o => Set(o, nics, new JsonArray(Enumerable.Range(0, 151).Select(i => (JsonNode)Obj($$"""{"networkCardIndex": {{i}}, "deviceIndex": 0, "interfaceType": "interface"}""")).ToArray())));
        yield return new("device index -1", NodeClass, RefusedBy.Schema, Bound(nics + "[0].deviceIndex", "-1", "greater than or equal to 0"),
            o => Set(o, nics, Arr("""[{"networkCardIndex": 0, "deviceIndex": -1, "interfaceType": "interface"}]""")));
        yield return new("interface type unknown", NodeClass, RefusedBy.Schema, NotSupported(nics + "[0].interfaceType", "ena", "interface", "efa-only"),
            o => Set(o, nics, Arr("""[{"networkCardIndex": 0, "deviceIndex": 0, "interfaceType": "ena"}]""")));
        yield return new("network card index missing", NodeClass, RefusedBy.Schema, $"{nics}[0].networkCardIndex: Required value",
            o => Set(o, nics, Arr("""[{"deviceIndex": 0, "interfaceType": "interface"}]""")));

        const string placement = "spec.placementGroupSelector";
        yield return new("placement group selector empty", NodeClass, RefusedBy.Cel, Cel(placement, "object", "expected at least one, got none, ['name', 'id']"),
            o => Set(o, placement, Obj("{}")));
        yield return new("placement group name and id", NodeClass, RefusedBy.Cel, Cel(placement, "object", "'name' and 'id' are mutually exclusive"),
            o => Set(o, placement, Obj("""{"name": "pg", "id": "pg-0123"}""")));
        yield return new("placement group id malformed", NodeClass, RefusedBy.Schema, Pattern(placement + ".id", "group-1", "^pg-[0-9a-z]+$"),
            o => Set(o, placement, Obj("""{"id": "group-1"}""")));
        yield return new("placement group name empty", NodeClass, RefusedBy.Schema, $"{placement}.name: Invalid value: \"\": {placement}.name in body should be at least 1 chars long",
            o => Set(o, placement, Obj("""{"name": ""}""")));

        const string tracking = "spec.connectionTracking";
        yield return new("connection tracking empty", NodeClass, RefusedBy.Cel, Cel(tracking, "object", "at least one of tcpEstablishedTimeout, udpStreamTimeout, or udpTimeout must be set"),
            o => Set(o, tracking, Obj("{}")));
        foreach (var (field, low, high) in new[] { ("tcpEstablishedTimeout", 60, 432000), ("udpStreamTimeout", 60, 180), ("udpTimeout", 30, 60) })
        {
            yield return new($"{field} below {low}", NodeClass, RefusedBy.Schema, Bound($"{tracking}.{field}", (low - 1).ToString(CultureInfo.InvariantCulture), $"greater than or equal to {low}"),
                o => Set(o, tracking, new JsonObject { [field] = low - 1 }));
            yield return new($"{field} above {high}", NodeClass, RefusedBy.Schema, Bound($"{tracking}.{field}", (high + 1).ToString(CultureInfo.InvariantCulture), $"less than or equal to {high}"),
                o => Set(o, tracking, new JsonObject { [field] = high + 1 }));
        }

        yield return new("role empty", NodeClass, RefusedBy.Cel, Cel("spec.role", "string", "role cannot be empty"), o => Set(o, "spec.role", ""));
        yield return new("instanceProfile empty", NodeClass, RefusedBy.Cel, Cel("spec.instanceProfile", "string", "instanceProfile cannot be empty"),
            o => { Remove(o, "spec.role"); Set(o, "spec.instanceProfile", ""); });

        // What only the webhook checks.
        yield return new("tag in AWS's prefix", NodeClass, RefusedBy.Webhook,
            "spec.tags[aws:cost-center]: Invalid value: \"aws:cost-center\": tag keys starting with \"aws:\" are reserved by AWS and cannot be set",
            o => Set(o, "spec.tags", Obj("""{"aws:cost-center": "1"}""")));
        yield return new("eviction grace period not a duration", NodeClass, RefusedBy.Webhook,
            $"{kubelet}.evictionSoftGracePeriod[memory.available]: Invalid value: \"soon\": must be a duration such as 30s or 1m30s",
            o => Set(o, kubelet, Obj("""{"evictionSoft": {"memory.available": "5%"}, "evictionSoftGracePeriod": {"memory.available": "soon"}}""")));
    }

    private static string Cel(string path, string type, string message) => $"{path}: Invalid value: \"{type}\": {message}";

    private static string Bound(string path, string value, string comparison) => $"{path}: Invalid value: {value}: {path} in body should be {comparison}";

    private static string Pattern(string path, string value, string pattern) => $"{path}: Invalid value: \"{value}\": {path} in body should match '{pattern}'";

    private static string TooMany(string path, int count, int max) => $"{path}: Too many: {count}: must have at most {max} items";

    private static string NotSupported(string path, string value, params string[] supported) =>
        $"{path}: Unsupported value: \"{value}\": supported values: {string.Join(", ", supported.Select(s => $"\"{s}\""))}";

    private static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();

    private static JsonArray Arr(string json) => JsonNode.Parse(json)!.AsArray();

    private static JsonArray Repeat(string item, int count) => new(Enumerable.Range(0, count).Select(_ => JsonNode.Parse(item)).ToArray());

    /// <summary>Sets the value at a dotted path (<c>spec.a[0].b</c>), creating objects on the way.</summary>
    private static void Set(JsonObject root, string path, JsonNode? value)
    {
        var (parent, last) = Walk(root, path, create: true);
        switch (parent)
        {
            case JsonObject obj:
                obj[last] = value;
                break;
            case JsonArray array:
                array[int.Parse(last, CultureInfo.InvariantCulture)] = value;
                break;
        }
    }

    private static void Remove(JsonObject root, string path)
    {
        var (parent, last) = Walk(root, path, create: false);
        (parent as JsonObject)?.Remove(last);
    }

    private static (JsonNode Parent, string Last) Walk(JsonObject root, string path, bool create)
    {
        var segments = path.Replace("[", ".", StringComparison.Ordinal).Replace("]", string.Empty, StringComparison.Ordinal).Split('.');
        JsonNode current = root;
        foreach (var segment in segments[..^1])
        {
            var next = current is JsonArray array ? array[int.Parse(segment, CultureInfo.InvariantCulture)] : current[segment];
            if (next is null && create)
            {
                next = new JsonObject();
                current[segment] = next;
            }

            current = next!;
        }

        return (current, segments[^1]);
    }
}

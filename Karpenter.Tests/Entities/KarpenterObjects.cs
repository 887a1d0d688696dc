using System.Text.Json.Nodes;
using CsCheck;

namespace Karpenter.Tests.Entities;

/// <summary>
/// CsCheck generators of Karpenter objects as JSON: v1beta1 and v1 NodePools and EC2NodeClasses with every field the
/// conversion maps (the v1beta1 shorthands included), drawn from realistic values, valid or not; and mutations that
/// put odd values (wrong types, out-of-range numbers, bad strings, nulls) at random places of an object.
/// </summary>
internal static class KarpenterObjects
{
    private static readonly string[] Durations = ["30s", "5m", "1h", "720h", "1h30m", "Never"];
    private static readonly string[] RequirementKeys =
    [
        "karpenter.sh/capacity-type", "karpenter.k8s.aws/instance-family", "karpenter.k8s.aws/instance-cpu", "kubernetes.io/arch",
        "topology.kubernetes.io/zone", "node.kubernetes.io/instance-type", "team",
    ];

    private static readonly string[] Operators = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Gte", "Lte"];
    private static readonly string[] Words = ["spot", "on-demand", "amd64", "arm64", "c5", "m5", "4", "us-east-1a", "my-cluster", "a"];

    public static Gen<JsonObject> V1Beta1NodePool { get; } =
        Gen.Select(Metadata, Template(beta: true), BetaDisruption, Limits, Int(1, 100).Opt(), (m, t, d, l, w) =>
            Object(("apiVersion", "karpenter.sh/v1beta1"), ("kind", "NodePool"), ("metadata", m),
                ("spec", Object(("template", t), ("disruption", d), ("limits", l), ("weight", w)))));

    public static Gen<JsonObject> V1NodePool { get; } =
        Gen.Select(Metadata, Template(beta: false), V1Disruption, Limits, Int(1, 100).Opt(), (m, t, d, l, w) =>
            Object(("apiVersion", "karpenter.sh/v1"), ("kind", "NodePool"), ("metadata", m),
                ("spec", Object(("template", t), ("disruption", d), ("limits", l), ("weight", w)))));

    public static Gen<JsonObject> V1Beta1NodeClass { get; } =
        Gen.Select(
            Gen.Select(Metadata, Tags.Opt(), Terms("tags", "id").Opt(), Tags.Opt(), Terms("tags", "id", "name").Opt()),
            Gen.Select(String("AL2", "AL2023", "Bottlerocket", "Custom", "Windows2019", "Windows2022").Opt(), AmiTerms(alias: false).Opt(), RoleOrProfile, Tags.Opt()),
            Gen.Select(String("#!/bin/bash\necho hi", "[settings]").Opt(), Bool.Opt(), Bool.Opt(), MetadataOptions.Opt(), BlockDevices.Opt()),
            (a, b, c) =>
            {
                var spec = Object(("subnetSelector", a.Item2), ("subnetSelectorTerms", a.Item3), ("securityGroupSelector", a.Item4),
                    ("securityGroupSelectorTerms", a.Item5), ("amiFamily", b.Item1), ("amiSelectorTerms", b.Item2), ("tags", b.Item4),
                    ("userData", c.Item1), ("detailedMonitoring", c.Item2), ("associatePublicIPAddress", c.Item3), ("metadataOptions", c.Item4),
                    ("blockDeviceMappings", c.Item5));
                foreach (var (key, value) in b.Item3)
                {
                    spec[key] = value?.DeepClone();
                }

                return Object(("apiVersion", "karpenter.k8s.aws/v1beta1"), ("kind", "EC2NodeClass"), ("metadata", a.Item1), ("spec", spec));
            });

    public static Gen<JsonObject> V1NodeClass { get; } =
        Gen.Select(
            Gen.Select(Metadata, Terms("tags", "id"), Terms("tags", "id", "name"), AmiTerms(alias: true)),
            Gen.Select(String("AL2", "AL2023", "Bottlerocket", "Custom", "Windows2019", "Windows2022", "Windows2025").Opt(), RoleOrProfile, Tags.Opt(), Kubelet.Opt()),
            Gen.Select(String("#!/bin/bash\necho hi", "[settings]").Opt(), Bool.Opt(), Bool.Opt(), MetadataOptions.Opt(), BlockDevices.Opt()),
            (a, b, c) =>
            {
                var spec = Object(("subnetSelectorTerms", a.Item2), ("securityGroupSelectorTerms", a.Item3), ("amiSelectorTerms", a.Item4),
                    ("amiFamily", b.Item1), ("tags", b.Item3), ("kubelet", b.Item4), ("userData", c.Item1), ("detailedMonitoring", c.Item2),
                    ("associatePublicIPAddress", c.Item3), ("metadataOptions", c.Item4), ("blockDeviceMappings", c.Item5));
                foreach (var (key, value) in b.Item2)
                {
                    spec[key] = value?.DeepClone();
                }

                return Object(("apiVersion", "karpenter.k8s.aws/v1"), ("kind", "EC2NodeClass"), ("metadata", a.Item1), ("spec", spec));
            });

    /// <summary>Odd values to put anywhere: wrong types, bounds, bad patterns, restricted keys, nulls.</summary>
    public static Gen<JsonNode?> OddValue { get; } = Gen.OneOf(
        String("", " ", "Never", "-1", "101%", "1d", "karpenter.sh/nodepool", "kubernetes.io/hostname", "al2023@v1", "bogus@latest",
            "0 9 * *", "61 * * * *", "@daily", "NoSchedule", "In", "Gt", "WhenUnderutilized", new string('x', 300), "\u0000\ud7ff", "1e3", "99999999999h"),
        Gen.OneOf<long>(0, -1, 1, 51, 101, long.MaxValue).Select(n => (JsonNode?)JsonValue.Create(n)),
        Gen.OneOf(0.5, -2.5e10).Select(n => (JsonNode?)JsonValue.Create(n)),
        Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b)),
        Gen.Const<JsonNode?>(() => null),
        Gen.Const<JsonNode?>(() => new JsonArray()),
        Gen.Const<JsonNode?>(() => new JsonObject()),
        Gen.Const<JsonNode?>(() => new JsonArray(JsonValue.Create("x"), JsonValue.Create(1))),
        Gen.Const<JsonNode?>(() => new JsonObject { ["key"] = "karpenter.sh/x", ["operator"] = "In" }));

    /// <summary>
    /// <paramref name="valid"/> with one to four changes: a value replaced by an odd one, a field removed, or a known field
    /// name added with an odd value. Metadata, apiVersion and kind are left alone (the API server owns them).
    /// </summary>
    public static Gen<JsonObject> Mutated(Gen<JsonObject> valid) =>
        from obj in valid
        from changes in Gen.Select(Gen.Int[0, 1 << 20], Gen.Int[0, 2], OddValue).Array[1, 4]
        select Mutate(obj, changes);

    private static readonly string[] KnownFields =
    [
        "replicas", "weight", "expireAfter", "minValues", "schedule", "duration", "reasons", "alias", "ssmParameter", "role", "instanceProfile",
        "kubelet", "maxPods", "evictionHard", "kubeReserved", "tags", "group", "kind", "consolidateAfter", "terminationGracePeriod", "rootVolume",
    ];

    private static JsonObject Mutate(JsonObject obj, (int Pick, int Change, JsonNode? Value)[] changes)
    {
        foreach (var (pick, change, value) in changes)
        {
            var places = new List<(JsonNode Parent, string? Key, int Index)>();
            Collect(obj["spec"], places);
            if (places.Count == 0)
            {
                break;
            }

            var (parent, key, index) = places[pick % places.Count];
            var odd = value?.DeepClone();
            switch (parent, change)
            {
                case (JsonObject o, 0):
                    o[key!] = odd;
                    break;
                case (JsonObject o, 1):
                    o.Remove(key!);
                    break;
                case (JsonObject o, _):
                    o[KnownFields[pick % KnownFields.Length]] = odd;
                    break;
                case (JsonArray a, 1):
                    a.RemoveAt(index);
                    break;
                case (JsonArray a, _):
                    a[index] = odd;
                    break;
            }
        }

        return obj;
    }

    private static void Collect(JsonNode? node, List<(JsonNode, string?, int)> places)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, child) in o)
                {
                    places.Add((o, key, 0));
                    Collect(child, places);
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    places.Add((a, null, i));
                    Collect(a[i], places);
                }

                break;
        }
    }

    private static Gen<JsonNode?> Metadata =>
        Gen.Select(Gen.Int[1, 1000], Map(OneOf("example.com/owner", "compatibility.karpenter.sh/v1-spec", "compatibility.karpenter.sh/v1beta1-spec"), String("x", "{}", "{\"template\":1}")).Opt(),
            (n, annotations) => (JsonNode?)Object(("name", $"object-{n}"), ("annotations", annotations)));

    private static Gen<JsonNode?> Template(bool beta) =>
        Gen.Select(
            Gen.Select(Map(OneOf("team", "example.com/tier"), String("a", "web")).Opt(), Requirements, Taints.Opt(), Taints.Opt()),
            Gen.Select(NodeClassRef(beta), String(Durations).Opt(), String(Durations).Opt(), Int(1, 200).Opt()),
            (a, b) =>
            {
                var spec = Object(("requirements", a.Item2), ("taints", a.Item3), ("startupTaints", a.Item4), ("nodeClassRef", b.Item1),
                    ("terminationGracePeriod", b.Item2));
                if (beta)
                {
                    spec["kubelet"] = b.Item4 is null ? null : Object(("maxPods", b.Item4));
                }
                else
                {
                    spec["expireAfter"] = b.Item3;
                }

                return (JsonNode?)Object(("metadata", a.Item1 is null ? null : Object(("labels", a.Item1))), ("spec", spec));
            });

    private static Gen<JsonNode?> NodeClassRef(bool beta) => beta
        ? Gen.Select(String("default", "default-ec2"), String("EC2NodeClass").Opt(), String("karpenter.k8s.aws/v1beta1", "karpenter.k8s.aws/v1").Opt(),
            (name, kind, apiVersion) => (JsonNode?)Object(("name", name), ("kind", kind), ("apiVersion", apiVersion)))
        : Gen.Select(String("default", "default-ec2"), String("EC2NodeClass"), String("karpenter.k8s.aws"),
            (name, kind, group) => (JsonNode?)Object(("name", name), ("kind", kind), ("group", group)));

    private static Gen<JsonNode?> Requirements =>
        Gen.Select(OneOf(RequirementKeys), OneOf(Operators), String(Words).Array[0, 3], Int(1, 3).Opt(),
            (key, op, values, min) => (JsonNode?)Object(("key", key), ("operator", op), ("values", new JsonArray([.. values])), ("minValues", min)))
        .Array[0, 3].Select(items => (JsonNode?)new JsonArray([.. items]));

    private static Gen<JsonNode?> Taints =>
        Gen.Select(String("dedicated", "example.com/gpu"), String("gpu", "true").Opt(), String("NoSchedule", "NoExecute", "PreferNoSchedule"),
            (key, value, effect) => (JsonNode?)Object(("key", key), ("value", value), ("effect", effect)))
        .Array[1, 2].Select(items => (JsonNode?)new JsonArray([.. items]));

    private static Gen<JsonNode?> Budgets =>
        Gen.Select(String("10%", "0", "5", "100%"), String("@daily", "0 9 * * mon-fri").Opt(), String("10m", "1h30m"), String("Empty", "Drifted", "Underutilized").Array[0, 2],
            (nodes, schedule, duration, reasons) => (JsonNode?)Object(("nodes", nodes), ("schedule", schedule), ("duration", schedule is null ? null : duration),
                ("reasons", reasons.Length == 0 ? null : new JsonArray([.. reasons.DistinctBy(r => (string?)r, StringComparer.Ordinal)]))))
        .Array[0, 3].Select(items => (JsonNode?)new JsonArray([.. items]));

    private static Gen<JsonNode?> BetaDisruption =>
        Gen.Select(String("WhenEmpty", "WhenUnderutilized").Opt(), String(Durations).Opt(), String(Durations).Opt(), Budgets.Opt(),
            (policy, after, expire, budgets) => (JsonNode?)Object(("consolidationPolicy", policy), ("consolidateAfter", after), ("expireAfter", expire), ("budgets", budgets)))
        .Opt();

    private static Gen<JsonNode?> V1Disruption =>
        Gen.Select(String("WhenEmpty", "WhenEmptyOrUnderutilized", "Balanced").Opt(), String(Durations), Budgets.Opt(),
            (policy, after, budgets) => (JsonNode?)Object(("consolidationPolicy", policy), ("consolidateAfter", after), ("budgets", budgets)));

    private static Gen<JsonNode?> Limits => Map(OneOf("cpu", "memory", "nvidia.com/gpu"), String("1000", "100", "64Gi", "8")).Opt();

    private static Gen<JsonNode?> Tags => Map(OneOf("team", "karpenter.sh/discovery", "Name", "cost-center"), String(Words));

    private static Gen<JsonNode?> Terms(params string[] fields) =>
        Gen.Select(Gen.Int[0, fields.Length - 1], Tags, String("sg-0123456789abcdef0", "subnet-0abc", "my-group"),
            (which, tags, text) => (JsonNode?)(fields[which] == "tags" ? Object(("tags", tags)) : Object((fields[which], text))))
        .Array[1, 2].Select(items => (JsonNode?)new JsonArray([.. items]));

    private static Gen<JsonNode?> AmiTerms(bool alias) =>
        Gen.Select(Gen.Int[0, alias ? 3 : 2], Tags, String("ami-0123456789abcdef0", "my-ami-*"), String("al2023@latest", "bottlerocket@v1.20.0", "al2@latest", "windows2022@latest"),
            (which, tags, text, a) => (JsonNode?)(which switch
            {
                0 => Object(("tags", tags)),
                1 => Object(("id", text)),
                2 => Object(("name", text), ("owner", "amazon")),
                _ => Object(("alias", a)),
            }))
        .Array[1, 2].Select(items => (JsonNode?)new JsonArray([.. items]));

    private static Gen<JsonObject> RoleOrProfile =>
        Gen.Select(Gen.Bool, String("KarpenterNodeRole-my-cluster", "KarpenterNodeInstanceProfile-my-cluster"),
            (role, name) => role ? Object(("role", name)) : Object(("instanceProfile", name)));

    private static Gen<JsonNode?> MetadataOptions =>
        Gen.Select(String("enabled", "disabled"), String("required", "optional"), Int(1, 3),
            (endpoint, tokens, hops) => (JsonNode?)Object(("httpEndpoint", endpoint), ("httpTokens", tokens), ("httpPutResponseHopLimit", hops)));

    private static Gen<JsonNode?> BlockDevices =>
        Gen.Select(String("/dev/xvda", "/dev/xvdb"), String("20Gi", "100Gi"), String("gp3", "io2"), Bool.Opt(),
            (device, size, type, root) => (JsonNode?)Object(("deviceName", device), ("ebs", Object(("volumeSize", size), ("volumeType", type), ("encrypted", true))), ("rootVolume", root)))
        .Array[1, 1].Select(items => (JsonNode?)new JsonArray([.. items]));

    private static Gen<JsonNode?> Kubelet =>
        Gen.Select(Int(10, 110).Opt(), Map(OneOf("cpu", "memory"), String("100m", "1Gi")).Opt(), String("/etc/resolv.conf", "10.0.0.10").Array[0, 1],
            (pods, reserved, dns) => (JsonNode?)Object(("maxPods", pods), ("kubeReserved", reserved), ("clusterDNS", dns.Length == 0 ? null : new JsonArray([.. dns]))));

    private static Gen<JsonNode?> Bool => Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b));

    private static Gen<JsonNode?> Int(int min, int max) => Gen.Int[min, max].Select(n => (JsonNode?)JsonValue.Create(n));

    private static Gen<string> OneOf(params string[] values) => Gen.OneOf(values);

    private static Gen<JsonNode?> String(params string[] values) => Gen.OneOf(values).Select(v => (JsonNode?)JsonValue.Create(v));

    private static Gen<JsonNode?> Map(Gen<string> key, Gen<JsonNode?> value) =>
        Gen.Select(key, value).Array[1, 3].Select(pairs =>
        {
            var map = new JsonObject();
            foreach (var (k, v) in pairs)
            {
                map[k] = v;
            }

            return (JsonNode?)map;
        });

    /// <summary>The value or, as often, nothing (an absent field).</summary>
    private static Gen<JsonNode?> Opt(this Gen<JsonNode?> gen) => Gen.Select(Gen.Bool, gen, (present, value) => present ? value : null);

    /// <summary>An object of the fields that are not null (absent fields stay absent).</summary>
    private static JsonObject Object(params (string Key, JsonNode? Value)[] fields)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in fields)
        {
            if (value is not null)
            {
                obj[key] = value.Parent is null ? value : value.DeepClone();
            }
        }

        return obj;
    }
}

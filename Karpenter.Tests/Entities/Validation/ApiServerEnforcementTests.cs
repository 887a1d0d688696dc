using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Karpenter.Tests.Aws;
using Karpenter.Tests.Support;

namespace Karpenter.Tests.Entities.Validation;

/// <summary>
/// The committed CRDs (<c>config/crds</c>) installed in the in-memory API server: for every CEL rule and bound of the
/// table, the valid object is stored and the violating one is refused with the rule's message; what only the webhook
/// checks is stored (an API server without the webhook cannot know); and every default is applied.
/// </summary>
public sealed class ApiServerEnforcementTests(ApiServerEnforcementTests.CrdFixture fixture) : IClassFixture<ApiServerEnforcementTests.CrdFixture>
{
    public static TheoryData<InvalidManifest> ServerCases => new(InvalidManifests.All.Where(c => c.By != RefusedBy.Webhook));

    public static TheoryData<InvalidManifest> WebhookOnlyCases => new(InvalidManifests.All.Where(c => c.By == RefusedBy.Webhook));

    [Theory]
    [MemberData(nameof(ServerCases))]
    public async Task Every_cel_rule_and_bound_stores_the_valid_object_and_refuses_the_violation_with_its_message(InvalidManifest manifest)
    {
        var name = fixture.UniqueName();
        var valid = Named(manifest.BuildOld() ?? InvalidManifests.Base(manifest.Kind), name);
        await fixture.CreateAsync(valid);

        var invalid = Named(manifest.Build(), manifest.OldChange is null ? name + "-bad" : name);
        var error = manifest.OldChange is null ? await CrdFixture.ExpectRefusedAsync(() => fixture.CreateAsync(invalid)) : await CrdFixture.ExpectRefusedAsync(() => fixture.ReplaceAsync(invalid));

        Assert.Equal("Invalid", error.Reason);
        Assert.StartsWith($"{manifest.Kind}.{Group(manifest.Kind)} \"{invalid["metadata"]!["name"]}\" is invalid: ", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Contains(manifest.Expected, StringComparison.Ordinal), $"expected: {manifest.Expected}\ngot: {error.Message}");
    }

    [Theory]
    [MemberData(nameof(WebhookOnlyCases))]
    public async Task What_only_the_webhook_checks_is_stored_by_an_api_server_without_it(InvalidManifest manifest)
    {
        var name = fixture.UniqueName();
        if (manifest.BuildOld() is { } old)
        {
            await fixture.CreateAsync(Named(old, name));
            await fixture.ReplaceAsync(Named(manifest.Build(), name));
        }
        else
        {
            await fixture.CreateAsync(Named(manifest.Build(), name));
        }
    }

    [Fact]
    public void The_table_has_a_case_for_every_cel_rule_of_the_stored_versions()
    {
        var uncovered = new List<string>();
        var rules = 0;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(AwsTestPaths.RepoRoot, "config", "crds"), "*_*.yaml"))
        {
            var crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(File.ReadAllText(file));
            foreach (var version in crd.Spec.Versions.Where(v => v.Storage))
            {
                foreach (var rule in Rules(version.Schema.OpenAPIV3Schema))
                {
                    rules++;
                    var message = rule.Message ?? rule.Rule;
                    if (!InvalidManifests.All.Any(c => c.By == RefusedBy.Cel && c.Expected.EndsWith(": " + message, StringComparison.Ordinal)))
                    {
                        uncovered.Add($"{crd.Spec.Names.Kind}: {message}");
                    }
                }
            }
        }

        Assert.True(rules > 50, $"only {rules} CEL rules found in config/crds");
        Assert.True(uncovered.Count == 0, "CEL rules without a case:\n  " + string.Join("\n  ", uncovered));
    }

    private static IEnumerable<V1ValidationRule> Rules(V1JSONSchemaProps? node)
    {
        if (node is null)
        {
            yield break;
        }

        foreach (var rule in node.XKubernetesValidations ?? [])
        {
            yield return rule;
        }

        var children = (node.Properties?.Values ?? []).Append(node.Items as V1JSONSchemaProps).Append(node.AdditionalProperties as V1JSONSchemaProps);
        foreach (var rule in children.SelectMany(Rules))
        {
            yield return rule;
        }
    }

    public static TheoryData<string, string, string, string> Defaults => new()
    {
        // kind, field removed from the valid object, path read back, the default (JSON)
        { "NodePool", "spec.disruption", "spec.disruption", """{"budgets":[{"nodes":"10%"}],"consolidateAfter":"0s","consolidationPolicy":"WhenEmptyOrUnderutilized"}""" },
        { "NodePool", "spec.disruption.budgets", "spec.disruption.budgets", """[{"nodes":"10%"}]""" },
        { "NodePool", "spec.disruption.consolidationPolicy", "spec.disruption.consolidationPolicy", "\"WhenEmptyOrUnderutilized\"" },
        { "NodePool", "spec.template.spec.expireAfter", "spec.template.spec.expireAfter", "\"720h\"" },
        { "NodeClaim", "spec.expireAfter", "spec.expireAfter", "\"720h\"" },
        { "EC2NodeClass", "spec.metadataOptions", "spec.metadataOptions", """{"httpEndpoint":"enabled","httpProtocolIPv6":"disabled","httpPutResponseHopLimit":1,"httpTokens":"required"}""" },
    };

    [Theory]
    [MemberData(nameof(Defaults))]
    public async Task Every_default_is_applied_when_the_field_is_absent(string kind, string removed, string path, string expected)
    {
        var obj = Named(InvalidManifests.Base(kind), fixture.UniqueName());
        var parent = Walk(obj, removed[..removed.LastIndexOf('.')])!.AsObject();
        parent.Remove(removed[(removed.LastIndexOf('.') + 1)..]);

        var stored = await fixture.CreateAsync(obj);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), Walk(stored, path)), $"{path}: expected {expected}, got {Walk(stored, path)?.ToJsonString()}");
    }

    [Fact]
    public async Task A_budget_without_nodes_gets_the_default_of_ten_percent()
    {
        var obj = Named(InvalidManifests.Base("NodePool"), fixture.UniqueName());
        obj["spec"]!["disruption"]!["budgets"] = JsonNode.Parse("""[{"reasons":["Empty"]}]""");

        var stored = await fixture.CreateAsync(obj);

        Assert.Equal("10%", (string?)Walk(stored, "spec.disruption.budgets")![0]!["nodes"]);
    }

    private static string Group(string kind) => kind == "EC2NodeClass" ? "karpenter.k8s.aws" : "karpenter.sh";

    private static JsonObject Named(JsonObject obj, string name)
    {
        obj["metadata"]!["name"] = name;
        return obj;
    }

    private static JsonNode? Walk(JsonNode? node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            node = node?[part];
        }

        return node;
    }

    /// <summary>One API server with the committed CRDs, no webhooks.</summary>
    public sealed class CrdFixture : IAsyncLifetime
    {
        private readonly KubeApiFixture _api = new();
        private int _names;

        public string UniqueName() => $"case-{Interlocked.Increment(ref _names)}";

        public async Task InitializeAsync()
        {
            await _api.InitializeAsync();
            foreach (var file in Directory.EnumerateFiles(Path.Combine(AwsTestPaths.RepoRoot, "config", "crds"), "*_*.yaml"))
            {
                var crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(await File.ReadAllTextAsync(file));
                await _api.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
            }
        }

        public Task DisposeAsync() => _api.DisposeAsync();

        public async Task<JsonObject> CreateAsync(JsonObject obj)
        {
            var (group, version, plural) = Resource(obj);
            var created = await _api.Client.CustomObjects.CreateClusterCustomObjectAsync(obj, group, version, plural);
            return JsonNode.Parse(KubernetesJson.Serialize(created))!.AsObject();
        }

        public async Task<JsonObject> ReplaceAsync(JsonObject obj)
        {
            var (group, version, plural) = Resource(obj);
            var name = (string)obj["metadata"]!["name"]!;
            var current = JsonNode.Parse(KubernetesJson.Serialize(await _api.Client.CustomObjects.GetClusterCustomObjectAsync(group, version, plural, name)))!;
            obj["metadata"]!["resourceVersion"] = current["metadata"]!["resourceVersion"]!.DeepClone();
            var replaced = await _api.Client.CustomObjects.ReplaceClusterCustomObjectAsync(obj, group, version, plural, name);
            return JsonNode.Parse(KubernetesJson.Serialize(replaced))!.AsObject();
        }

        /// <summary>Runs a request that must be refused with 422 and returns the Status it was refused with.</summary>
        public static async Task<V1Status> ExpectRefusedAsync(Func<Task> request)
        {
            var e = await Assert.ThrowsAsync<HttpOperationException>(request);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, e.Response.StatusCode);
            return KubernetesJson.Deserialize<V1Status>(e.Response.Content);
        }

        private static (string Group, string Version, string Plural) Resource(JsonObject obj)
        {
            var apiVersion = (string)obj["apiVersion"]!;
            var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
            var plural = (string)obj["kind"]! switch
            {
                "NodePool" => "nodepools",
                "NodeClaim" => "nodeclaims",
                "EC2NodeClass" => "ec2nodeclasses",
                var other => throw new ArgumentException($"not a Karpenter kind: {other}", nameof(obj)),
            };
            return (apiVersion[..slash], apiVersion[(slash + 1)..], plural);
        }
    }
}

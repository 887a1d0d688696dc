using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Karpenter.Entities;
using Karpenter.Kube.Hosting;
using Karpenter.Kube.LeaderElection;
using Karpenter.Kube.Webhooks;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Tests.Aws;
using Karpenter.Tests.Sim.KubeApi;
using Karpenter.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Karpenter.Tests.Entities.Conversion;

/// <summary>
/// The product brief's two v1beta1 manifests, applied as they are with the real <c>kubectl</c> to the API server
/// emulator, which has the committed CRDs (<c>config/crds</c>, applied with <c>kubectl apply -k</c>) and calls our
/// conversion webhook (served by <see cref="KarpenterWebhooks.AddKarpenterWebhooks"/>, its CA injected into the CRDs by
/// the runtime's caBundle injector): accepted, stored as v1 with the shorthands expanded, and read back as v1beta1 as
/// they were applied. The same for the repository's realistic v1 manifests.
/// </summary>
public sealed class SeedEndToEndTests : IAsyncLifetime
{
    private static readonly string[] Crds = ["nodepools.karpenter.sh", "nodeclaims.karpenter.sh", "ec2nodeclasses.karpenter.k8s.aws"];

    private readonly KubeApiFixture _api = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("seed-e2e-").FullName;
    private WebApplication? _operator;
    private int _webhookPort;

    public async Task InitializeAsync()
    {
        if (KubectlFidelityTests.FindKubectl() is null)
        {
            return;
        }

        // The CRDs name the webhook as the service karpenter.kube-system; the emulator finds it on our loopback port.
        _api.Options.WebhookServiceResolver = (_, _, _, path) => new Uri($"https://localhost:{_webhookPort}{path}");
        await _api.InitializeAsync();
        _api.Server.WriteKubeconfig(Path.Combine(_directory, "config"));
        await ExpectKubectlAsync("apply", "-k", Path.Combine(AwsTestPaths.RepoRoot, "config", "crds"));

        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddSingleton(_api.Server.ClientConfiguration);
        builder.Services.Configure<LeaderElectionOptions>(o => o.Enabled = false);
        builder.Services.Configure<WebhookOptions>(o =>
        {
            o.Enabled = true;
            o.Port = 0;
        });
        builder.AddKubeOperatorHosting(o =>
        {
            o.MetricsPort = 0;
            o.HealthProbePort = 0;
            o.LoopbackOnly = true;
            o.LogFormat = "console";
        })
            .AddKarpenterWebhooks()
            .AddCaBundleInjection(new CaBundleTargets { CustomResourceDefinitions = Crds });
        _operator = builder.Build();
        _operator.MapKubeOperatorEndpoints();
        await _operator.StartAsync();
        var https = _operator.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First(a => a.StartsWith("https://", StringComparison.Ordinal));
        _webhookPort = new Uri(https).Port;

        await Eventually(async () =>
        {
            foreach (var name in Crds)
            {
                var crd = await _api.Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(name);
                if (crd.Spec.Conversion?.Strategy == "Webhook" && crd.Spec.Conversion.Webhook?.ClientConfig?.CaBundle is not { Length: > 0 })
                {
                    return false;
                }
            }

            return true;
        }, "the caBundle injector to put the webhook's CA into the CRDs");
    }

    public async Task DisposeAsync()
    {
        if (_operator is not null)
        {
            await _operator.StopAsync();
            await _operator.DisposeAsync();
        }

        await _api.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [KubectlFact]
    public async Task The_seed_manifests_apply_as_they_are_are_stored_as_v1_and_read_back_as_applied()
    {
        var seeds = EntitiesTestPaths.Seeds;
        if (seeds is null)
        {
            // The seed manifests live in ../shared; without it there is nothing to apply.
            return;
        }

        var nodeClassFile = Path.Combine(seeds, "ec2nodeclass-default-ec2.yaml");
        var nodePoolFile = Path.Combine(seeds, "nodepool-general-purpose.yaml");
        Assert.Contains("ec2nodeclass.karpenter.k8s.aws/default-ec2 created", await ExpectKubectlAsync("apply", "-f", nodeClassFile), StringComparison.Ordinal);
        Assert.Contains("nodepool.karpenter.sh/general-purpose created", await ExpectKubectlAsync("apply", "-f", nodePoolFile), StringComparison.Ordinal);

        var pool = await GetAsync("nodepool", "general-purpose");
        Assert.Equal("karpenter.sh/v1", (string?)pool["apiVersion"]);
        Assert.Equal("WhenEmptyOrUnderutilized", (string?)pool["spec"]!["disruption"]!["consolidationPolicy"]);
        ExpectJson("""{"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default-ec2"}""", pool["spec"]!["template"]!["spec"]!["nodeClassRef"]);
        Assert.Equal("720h", (string?)pool["spec"]!["template"]!["spec"]!["expireAfter"]);

        var nodeClass = await GetAsync("ec2nodeclass", "default-ec2");
        Assert.Equal("karpenter.k8s.aws/v1", (string?)nodeClass["apiVersion"]);
        ExpectJson("""[{"tags": {"karpenter.sh/discovery": "my-cluster"}}]""", nodeClass["spec"]!["subnetSelectorTerms"]);
        ExpectJson("""[{"tags": {"karpenter.sh/discovery": "my-cluster"}}]""", nodeClass["spec"]!["securityGroupSelectorTerms"]);
        ExpectJson("""[{"alias": "al2@latest"}]""", nodeClass["spec"]!["amiSelectorTerms"]);
        Assert.Equal("KarpenterNodeInstanceProfile-my-cluster", (string?)nodeClass["spec"]!["instanceProfile"]);

        ExpectContains(Applied(nodePoolFile), await GetAsync("nodepools.v1beta1.karpenter.sh", "general-purpose"));
        ExpectContains(Applied(nodeClassFile), await GetAsync("ec2nodeclasses.v1beta1.karpenter.k8s.aws", "default-ec2"));

        foreach (var crd in new[] { "nodepools.karpenter.sh", "ec2nodeclasses.karpenter.k8s.aws" })
        {
            var stored = await _api.Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crd);
            Assert.Equal(["v1"], stored.Status.StoredVersions);
        }
    }

    [KubectlFact]
    public async Task The_seed_nodepool_applied_again_with_a_change_keeps_the_change()
    {
        var seeds = EntitiesTestPaths.Seeds;
        if (seeds is null)
        {
            return;
        }

        var nodePoolFile = Path.Combine(seeds, "nodepool-general-purpose.yaml");
        await ExpectKubectlAsync("apply", "-f", nodePoolFile);
        var changed = File.ReadAllText(nodePoolFile).Replace("cpu: \"1000\"", "cpu: \"500\"", StringComparison.Ordinal);
        Assert.Contains("500", changed, StringComparison.Ordinal);
        var changedFile = Path.Combine(_directory, "changed.yaml");
        await File.WriteAllTextAsync(changedFile, changed);

        Assert.Contains("nodepool.karpenter.sh/general-purpose configured", await ExpectKubectlAsync("apply", "-f", changedFile), StringComparison.Ordinal);

        Assert.Equal("500", (string?)(await GetAsync("nodepool", "general-purpose"))["spec"]!["limits"]!["cpu"]);
        ExpectContains(Applied(changedFile), await GetAsync("nodepools.v1beta1.karpenter.sh", "general-purpose"));
    }

    [KubectlFact]
    public async Task The_realistic_v1_manifests_apply_and_read_back_as_v1beta1_and_v1()
    {
        foreach (var file in EntitiesTestPaths.ExampleFiles())
        {
            await ExpectKubectlAsync("apply", "-f", file);
            foreach (var applied in YamlToJson.ConvertAll(await File.ReadAllTextAsync(file)).OfType<JsonObject>())
            {
                var plural = (string)applied["kind"]! == "EC2NodeClass" ? "ec2nodeclasses" : ((string)applied["kind"]!).ToLowerInvariant() + "s";
                var name = (string)applied["metadata"]!["name"]!;
                var group = ((string)applied["apiVersion"]!).Split('/')[0];
                ExpectContains(applied, await GetAsync($"{plural}.v1.{group}", name));

                var beta = await GetAsync($"{plural}.v1beta1.{group}", name);
                Assert.Equal($"{group}/v1beta1", (string?)beta["apiVersion"]);
            }
        }
    }

    private static JsonObject Applied(string file) => YamlToJson.Convert(File.ReadAllText(file))!.AsObject();

    /// <summary>Every field of <paramref name="expected"/> is in <paramref name="actual"/> with the same value (lists item by item).</summary>
    private static void ExpectContains(JsonNode? expected, JsonNode? actual, string path = "")
    {
        switch (expected)
        {
            case JsonObject obj:
                var actualObject = Assert.IsType<JsonObject>(actual, exactMatch: false);
                foreach (var (key, value) in obj)
                {
                    ExpectContains(value, actualObject[key], $"{path}.{key}");
                }

                break;
            case JsonArray array:
                var actualArray = Assert.IsType<JsonArray>(actual, exactMatch: false);
                Assert.True(array.Count == actualArray.Count, $"{path}: expected {array.ToJsonString()}, got {actualArray.ToJsonString()}");
                for (var i = 0; i < array.Count; i++)
                {
                    ExpectContains(array[i], actualArray[i], $"{path}[{i}]");
                }

                break;
            case JsonValue value when path.Contains(".limits.", StringComparison.Ordinal) && actual is JsonValue actualValue:
                // Quantities are canonical once decoded, as Go's resource.Quantity writes them ("1000" reads back "1k").
                Assert.True(new ResourceQuantity(value.ToString()).ToDecimal() == new ResourceQuantity(actualValue.ToString()).ToDecimal(),
                    $"{path}: expected {value}, got {actualValue}");
                break;
            default:
                Assert.True(JsonNode.DeepEquals(expected, actual), $"{path}: expected {expected?.ToJsonString()}, got {actual?.ToJsonString()}");
                break;
        }
    }

    private static void ExpectJson(string expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}, got {actual?.ToJsonString()}");

    private async Task<JsonObject> GetAsync(string resource, string name) =>
        JsonNode.Parse(await ExpectKubectlAsync("get", resource, name, "-o", "json"))!.AsObject();

    private Task<string> ExpectKubectlAsync(params string[] args) =>
        Kubectl.ExpectAsync(Path.Combine(_directory, "config"), Path.Combine(_directory, "cache"), args);

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            try
            {
                await Task.Delay(50, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"timed out waiting for {what}");
            }
        }
    }
}

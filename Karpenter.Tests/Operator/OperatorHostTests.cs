using k8s;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Generation;
using Karpenter.Operator.Hosting;
using Karpenter.Sim.Aws;
using Karpenter.Tests.Sim.Aws;
using Karpenter.Tests.Support;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Karpenter.Tests.Operator;

/// <summary>The composition root against the in-memory API server: the process the simulator and a pod run.</summary>
public sealed class OperatorHostTests(KubeApiFixture api) : IClassFixture<KubeApiFixture>, IAsyncLifetime
{
    private AwsEmulator _aws = null!;

    public async Task InitializeAsync() => _aws = await AwsEmulator.StartAsync(new AwsEmulatorOptions { ClusterName = "host-test" });

    public async Task DisposeAsync() => await _aws.DisposeAsync();

    [Fact]
    public async Task A_missing_cluster_name_stops_the_start_with_its_name()
    {
        await using var app = Build(("CLUSTER_NAME", ""));

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(e.Failures, f => f.Contains("CLUSTER_NAME", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Starts_takes_the_leader_lease_serves_probes_and_releases_the_lease_on_stop()
    {
        await using var app = await StartAsync(("DISABLE_WEBHOOK", "true"), ("LEADER_ELECTION_NAME", "host-test"));
        try
        {
            var http = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var client = new HttpClient();
            Assert.Equal("ok", await client.GetStringAsync($"{http}/healthz"));

            var lease = await Eventually(async () =>
            {
                try
                {
                    var l = await api.Client.CoordinationV1.ReadNamespacedLeaseAsync("host-test", "kube-system");
                    return string.IsNullOrEmpty(l.Spec?.HolderIdentity) ? null : l;
                }
                catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
                {
                    return null;
                }
            });
            Assert.NotNull(lease.Spec.HolderIdentity);
        }
        finally
        {
            await app.StopAsync();
        }

        var released = await api.Client.CoordinationV1.ReadNamespacedLeaseAsync("host-test", "kube-system");
        Assert.True(string.IsNullOrEmpty(released.Spec.HolderIdentity), "the lease is released on a graceful stop so a successor takes over at once");
    }

    [Fact]
    public async Task Serves_the_v1beta1_conversion_webhook_over_tls()
    {
        await using var app = await StartAsync(("WEBHOOK_PORT", "0"), ("DISABLE_LEADER_ELECTION", "true"));
        try
        {
            var https = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
                .First(a => a.StartsWith("https://", StringComparison.Ordinal));
            using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
            using var client = new HttpClient(handler);
            var review = """
                {"apiVersion":"apiextensions.k8s.io/v1","kind":"ConversionReview","request":{"uid":"u1","desiredAPIVersion":"karpenter.sh/v1",
                 "objects":[{"apiVersion":"karpenter.sh/v1beta1","kind":"NodePool","metadata":{"name":"general-purpose"},
                  "spec":{"template":{"spec":{"nodeClassRef":{"name":"default-ec2"},"requirements":[]}},"disruption":{"consolidationPolicy":"WhenUnderutilized"}}}]}}
                """;
            using var response = await client.PostAsync(
                $"{https}{Karpenter.Kube.Webhooks.WebhookPaths.Convert("karpenter.sh", "NodePool")}",
                new StringContent(review, System.Text.Encoding.UTF8, "application/json"));
            var body = await response.Content.ReadAsStringAsync();

            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("\"uid\":\"u1\"", body, StringComparison.Ordinal);
            Assert.Contains("\"status\":\"Success\"", body, StringComparison.Ordinal);
            Assert.Contains("\"apiVersion\":\"karpenter.sh/v1\"", body, StringComparison.Ordinal);
            Assert.Contains("WhenEmptyOrUnderutilized", body, StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task The_hosted_controllers_make_an_EC2NodeClass_ready_against_the_aws_emulator()
    {
        await EnsureKarpenterCrdsAsync();
        await using var app = await StartAsync(("DISABLE_WEBHOOK", "true"), ("DISABLE_LEADER_ELECTION", "true"), ("CLUSTER_CIDR", "10.100.0.0/16"));
        try
        {
            var client = app.Services.GetRequiredService<IKubeClient>();
            await client.CreateAsync(KubernetesYaml.Deserialize<EC2NodeClass>("""
                apiVersion: karpenter.k8s.aws/v1
                kind: EC2NodeClass
                metadata:
                  name: hosted
                spec:
                  role: KarpenterNodeRole-host-test
                  amiSelectorTerms:
                  - alias: al2023@latest
                  subnetSelectorTerms:
                  - tags:
                      karpenter.sh/discovery: host-test
                  securityGroupSelectorTerms:
                  - tags:
                      karpenter.sh/discovery: host-test
                """));

            var ready = await Eventually(async () =>
            {
                var nodeClass = await client.GetAsync<EC2NodeClass>("hosted");
                return nodeClass.GetCondition(ConditionTypes.Ready) is { Status: "True" } ? nodeClass : null;
            });
            Assert.NotEmpty(ready.Status.Subnets!);
            Assert.Contains(Finalizers.AwsTermination, ready.Metadata.Finalizers);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [RequiresSharedDataFact("karpenter/metrics.json")]
    public async Task Every_metric_the_operator_exports_under_an_upstream_prefix_has_an_upstream_name()
    {
        var upstream = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(RequiresSharedDataFactAttribute.Find("karpenter/metrics.json")!))
            .RootElement.EnumerateArray().Select(m => m.GetProperty("name").GetString()!).ToHashSet(StringComparer.Ordinal);
        await EnsureKarpenterCrdsAsync();
        await using var app = await StartAsync(("DISABLE_WEBHOOK", "true"), ("DISABLE_LEADER_ELECTION", "true"));
        try
        {
            var client = app.Services.GetRequiredService<IKubeClient>();
            await client.CreateAsync(new NodePool
            {
                Metadata = new k8s.Models.V1ObjectMeta { Name = "metrics-" + Guid.NewGuid().ToString("N")[..8] },
                Spec = new NodePoolSpec
                {
                    Limits = new Dictionary<string, k8s.Models.ResourceQuantity> { ["cpu"] = new("10") },
                    Template = new NodeClaimTemplate { Spec = new NodeClaimTemplateSpec { NodeClassRef = NodeClassReference.Ec2NodeClass("none"), Requirements = [] } },
                },
            });

            using var http = new HttpClient();
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            var families = await Eventually(async () =>
            {
                foreach (var address in addresses)
                {
                    using var response = await http.GetAsync($"{address}/metrics");
                    var text = await response.Content.ReadAsStringAsync();
                    if (response.IsSuccessStatusCode && text.Contains("karpenter_nodepools_limit", StringComparison.Ordinal))
                    {
                        return text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).ToList();
                    }
                }

                return null;
            });

            string[] prefixes = ["karpenter_", "operator_", "controller_runtime_", "workqueue_", "leader_election_", "client_go_", "aws_sdk_go_"];
            var foreign = families.Where(f => prefixes.Any(p => f.StartsWith(p, StringComparison.Ordinal)) && !upstream.Contains(f) && !OwnMetrics.Contains(f)).ToList();
            Assert.True(foreign.Count == 0, $"exported under an upstream prefix but not an upstream name (a dashboard would miss them): {string.Join(", ", foreign)}");
            Assert.Contains("karpenter_nodepools_limit", families);
            Assert.Contains("karpenter_cluster_state_synced", families);
            Assert.Contains("controller_runtime_reconcile_total", families);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task Settings_reach_the_options_of_the_runtime_and_the_core()
    {
        await using var app = OperatorHost.Build(new OperatorHostOptions
        {
            ReadEnvironment = false,
            Kubernetes = api.Server.ClientConfiguration,
            Settings = new Dictionary<string, string?> { ["KUBE_CLIENT_QPS"] = "50", ["FEATURE_GATES"] = "SpotToSpotConsolidation=true" },
            Args = ["--batch-idle-duration=3s", "--leader-election-namespace", "karpenter"],
        });

        Assert.Equal(50, app.Services.GetRequiredService<IOptions<Karpenter.Kube.Client.KubeClientOptions>>().Value.Qps);
        Assert.True(app.Services.GetRequiredService<IOptions<Karpenter.Core.KarpenterOptions>>().Value.FeatureGates.SpotToSpotConsolidation);
        Assert.Equal(TimeSpan.FromSeconds(3), app.Services.GetRequiredService<IOptions<Karpenter.Core.Provisioning.BatchingOptions>>().Value.BatchIdleDuration);
        Assert.Equal("karpenter", app.Services.GetRequiredService<IOptions<Karpenter.Kube.LeaderElection.LeaderElectionOptions>>().Value.LeaseNamespace);
    }

    [Fact]
    public void A_bad_setting_stops_the_build_with_its_name()
    {
        var e = Assert.Throws<OperatorSettingsException>(() => OperatorHost.Build(new OperatorHostOptions
        {
            ReadEnvironment = false,
            Settings = new Dictionary<string, string?> { ["BATCH_MAX_DURATION"] = "-1s" },
        }));

        Assert.Equal("BATCH_MAX_DURATION: '-1s' must be positive", Assert.Single(e.Problems));
    }

    /// <summary>Metrics of ours outside upstream's list, each named for what it adds.</summary>
    private static readonly HashSet<string> OwnMetrics = new(StringComparer.Ordinal)
    {
        "karpenter_kube_events_dropped_total", "karpenter_kube_events_written_total",
    };

    /// <summary>Installs the Karpenter CRDs once in the class's API server.</summary>
    private async Task EnsureKarpenterCrdsAsync()
    {
        foreach (var type in new[] { typeof(NodePool), typeof(NodeClaim), typeof(EC2NodeClass) })
        {
            try
            {
                await api.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(new CrdGenerator().Generate(type));
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
            }
        }
    }

    /// <summary>The host on loopback with ephemeral ports and console logs, against both emulators, plus <paramref name="settings"/>, started.</summary>
    private async Task<Microsoft.AspNetCore.Builder.WebApplication> StartAsync(params (string Key, string Value)[] settings)
    {
        var app = Build(settings);
        await app.StartAsync();
        return app;
    }

    private Microsoft.AspNetCore.Builder.WebApplication Build(params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["METRICS_PORT"] = "0",
            ["HEALTH_PROBE_PORT"] = "0",
            ["LOG_FORMAT"] = "console",
            ["CLUSTER_NAME"] = "host-test",
            ["CLUSTER_ENDPOINT"] = api.Server.BaseAddress.ToString(),
            ["AWS_REGION"] = _aws.Region,
            ["AWS_ENDPOINT_URL"] = _aws.ServiceUrl.ToString(),
            ["AWS_ACCESS_KEY_ID"] = _aws.AccessKeyId,
            ["AWS_SECRET_ACCESS_KEY"] = _aws.SecretAccessKey,
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return OperatorHost.Build(new OperatorHostOptions
        {
            ReadEnvironment = false,
            Kubernetes = api.Server.ClientConfiguration,
            LoopbackOnly = true,
            Settings = all,
        });
    }

    private static async Task<T> Eventually<T>(Func<Task<T?>> probe)
        where T : class
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            await Task.Delay(50, timeout.Token);
        }
    }
}

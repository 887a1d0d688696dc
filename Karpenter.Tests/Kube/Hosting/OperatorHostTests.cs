using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;
using k8s.Models;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Hosting;
using Karpenter.Kube.LeaderElection;
using Karpenter.Kube.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Karpenter.Tests.Kube.Hosting;

/// <summary>The whole process shape: probes, metrics, a TLS webhook with the development CA, and a singleton controller.</summary>
public sealed class OperatorHostTests
{
    [Fact]
    public async Task Serves_probes_metrics_and_a_tls_webhook_and_runs_a_singleton_controller()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddSingleton(new KubernetesClientConfiguration { Host = "http://127.0.0.1:9" });
        builder.Services.Configure<LeaderElectionOptions>(o => o.Enabled = false);
        builder.Services.Configure<WebhookOptions>(o =>
        {
            o.Enabled = true;
            o.Port = 0;
        });
        var ticks = new Ticks();
        builder.Services.AddSingleton(ticks);
        builder.AddKubeOperatorHosting(o =>
        {
            o.MetricsPort = 0;
            o.HealthProbePort = 0;
            o.LoopbackOnly = true;
            o.LogFormat = "console";
        })
            .AddSingletonController<Tick>("test.tick")
            .AddValidator<V1Pod, AllowAll>();
        await using var app = builder.Build();
        app.MapKubeOperatorEndpoints();
        await app.StartAsync();
        try
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            var http = addresses.First(a => a.StartsWith("http://", StringComparison.Ordinal));
            var https = addresses.First(a => a.StartsWith("https://", StringComparison.Ordinal));
            using var client = new HttpClient();

            Assert.Equal("ok", await client.GetStringAsync($"{http}/healthz"));
            Assert.Equal("ok", await client.GetStringAsync($"{http}/readyz"));
            await ticks.Reconciled.Task.WaitAsync(TimeSpan.FromSeconds(20));
            var metrics = await Eventually(async () =>
            {
                var text = await client.GetStringAsync($"{http}/metrics");
                return text.Contains("controller_runtime_reconcile_total", StringComparison.Ordinal) ? text : null;
            });
            Assert.Contains("workqueue_adds_total", metrics, StringComparison.Ordinal);

            var caBundle = app.Services.GetRequiredService<WebhookCertificates>().CaBundle!;
            using var ca = X509Certificate2.CreateFromPem(Encoding.ASCII.GetString(caBundle));
            using var handler = new HttpClientHandler
            {
                ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
                {
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return cert is not null && chain.Build(cert);
                },
            };
            using var tls = new HttpClient(handler);
            var review = """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}}}""";
            using var response = await tls.PostAsync($"{https}{WebhookPaths.Validate<V1Pod>()}", new StringContent(review, Encoding.UTF8, "application/json"));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("\"allowed\":true", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    private static async Task<string> Eventually(Func<Task<string?>> probe)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            await Task.Delay(50, timeout.Token);
        }
    }

    private sealed class Ticks
    {
        public TaskCompletionSource Reconciled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Tick(Ticks ticks) : ISingletonReconciler
    {
        public Task<ReconcileResult> ReconcileAsync(CancellationToken cancellationToken)
        {
            ticks.Reconciled.TrySetResult();
            return Task.FromResult(ReconcileResult.Done);
        }
    }

    private sealed class AllowAll : IAdmissionValidator<V1Pod>
    {
        public Task<AdmissionVerdict> ValidateAsync(AdmissionContext<V1Pod> context, CancellationToken cancellationToken) =>
            Task.FromResult(AdmissionVerdict.Allow());
    }
}

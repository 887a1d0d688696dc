using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.LeaderElection;
using Karpenter.Operator.Hosting;
using Karpenter.Sim.Clock;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Karpenter.Sim.World;

/// <summary>
/// Starts the whole operator, built by <see cref="OperatorHost"/> exactly as <c>karpenter run</c> builds it (same
/// settings binding, leader election and webhooks on), against a <see cref="SimulatedWorld"/>: the world's API server
/// and clock, its AWS endpoint and cluster settings, loopback ports chosen by the system, and the CRDs' conversion
/// webhook service routed to the operator's webhook port.
/// </summary>
public static class OperatorLauncher
{
    /// <summary>The Service the CRDs' conversion webhook and the webhook configurations name (<c>kube-system/karpenter</c>).</summary>
    public static readonly (string Namespace, string Name) WebhookService = ("kube-system", "karpenter");

    /// <summary>The Service ports that may be named: 443 in <c>config/</c> (the chart's Service), 8443 in generated CRDs.</summary>
    private static readonly int[] WebhookServicePorts = [443, 8443];

    /// <summary>How long (real time) to wait for the operator to inject its CA into the CRDs' conversion webhooks.</summary>
    private static readonly TimeSpan CaBundlePatience = TimeSpan.FromSeconds(60);

    /// <summary>Builds and starts the operator in <paramref name="world"/>; the world stops it when disposed.</summary>
    /// <param name="world">The started world.</param>
    /// <param name="settings">Extra settings by environment name (they win over the world's).</param>
    /// <param name="logging">Where the operator logs (the simulator routes them away from its live view).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<WebApplication> StartAsync(
        SimulatedWorld world,
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<ILoggingBuilder>? logging = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(world);
        var all = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["METRICS_PORT"] = "0",
            ["HEALTH_PROBE_PORT"] = "0",
            ["WEBHOOK_PORT"] = "0",
            ["LOG_FORMAT"] = "console",
        };
        foreach (var (key, value) in world.OperatorEnvironment)
        {
            all[key] = value;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var app = OperatorHost.Build(new OperatorHostOptions
        {
            ReadEnvironment = false,
            Kubernetes = world.ClientConfiguration,
            Time = world.Clock,
            LoopbackOnly = true,
            Settings = all,
            Logging = logging,
            Services = services => services.Configure<LeaderElectionOptions>(o => KeepLeaseTimingsInRealTime(o, world.AcceleratedClock?.Speed ?? 1)),
        });
        await world.RunHostAsync(app, cancellationToken);
        var https = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
            .Select(a => new Uri(a))
            .FirstOrDefault(a => a.Scheme == Uri.UriSchemeHttps);
        if (https is not null)
        {
            // The development certificate is issued for localhost.
            foreach (var port in WebhookServicePorts)
            {
                world.KubeApi.RegisterWebhookService(WebhookService.Namespace, WebhookService.Name, port, new Uri($"https://localhost:{https.Port}"));
            }

            await WaitForConversionCaAsync(world, cancellationToken);
        }

        return app;
    }

    /// <summary>
    /// Leader election stays on, as in a cluster, but its lease timings are stretched by the clock's speed: at 60x the
    /// default 10 s renew deadline would be 170 ms of real time, and a renewal delayed that long by a busy machine would
    /// stop the operator mid-run (it did, at 60x on a loaded 2-core machine). The lease then behaves in real time as it
    /// does in a cluster.
    /// </summary>
    private static void KeepLeaseTimingsInRealTime(LeaderElectionOptions options, double speed)
    {
        if (speed <= 1)
        {
            return;
        }

        options.LeaseDuration *= speed;
        options.RenewDeadline *= speed;
        options.RetryPeriod *= speed;
    }

    /// <summary>
    /// Waits until every CRD converted by the operator's webhook carries a caBundle (the operator injects its serving CA
    /// at start), so that the first v1beta1 object applied is converted rather than refused.
    /// </summary>
    private static async Task WaitForConversionCaAsync(SimulatedWorld world, CancellationToken cancellationToken)
    {
        var names = world.InstalledCrds;
        await SimulationWait.UntilAsync(
            world.Clock,
            async ct =>
            {
                foreach (var name in names)
                {
                    var crd = await world.Client.GetAsync<V1CustomResourceDefinition>(name, cancellationToken: ct);
                    if (crd.Spec.Conversion?.Webhook?.ClientConfig?.Service is { } service && service.Name == WebhookService.Name &&
                        crd.Spec.Conversion.Webhook.ClientConfig.CaBundle is not { Length: > 0 })
                    {
                        return false;
                    }
                }

                return true;
            },
            CaBundlePatience,
            "the operator to inject its webhook CA into the CRDs",
            cancellationToken: cancellationToken);
    }
}

using Karpenter.Operator.Hosting;
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
    /// <summary>The Service the generated CRDs and webhook configurations name (<c>kube-system/karpenter:8443</c>).</summary>
    public static readonly (string Namespace, string Name, int Port) WebhookService = ("kube-system", "karpenter", 8443);

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
        });
        await world.RunHostAsync(app, cancellationToken);
        var https = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
            .Select(a => new Uri(a))
            .FirstOrDefault(a => a.Scheme == Uri.UriSchemeHttps);
        if (https is not null)
        {
            // The development certificate is issued for localhost.
            world.KubeApi.RegisterWebhookService(WebhookService.Namespace, WebhookService.Name, WebhookService.Port, new Uri($"https://localhost:{https.Port}"));
        }

        return app;
    }
}

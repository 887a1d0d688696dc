using System.Net;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Informers;
using Karpenter.Kube.Queue;
using Karpenter.Kube.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace Karpenter.Kube.Hosting;

/// <summary>
/// Hosting of the operator process on ASP.NET Core: Kestrel endpoints for metrics, probes and (TLS) webhooks,
/// OpenTelemetry metrics with the Prometheus exporter, and JSON or console logs.
/// </summary>
public static class KubeOperatorHosting
{
    /// <summary>
    /// Configures the web host and registers the runtime (<see cref="KubeOperatorServiceCollectionExtensions.AddKubeOperator"/>).
    /// Add controllers and webhooks on the returned builder; after <c>Build()</c>, call <see cref="MapKubeOperatorEndpoints"/>.
    /// </summary>
    /// <param name="builder">The web application builder of the process.</param>
    /// <param name="configure">Ports and logging; webhook, leader-election and other options are configured through their own options types.</param>
    /// <param name="meters">Extra meters to export (e.g. the product's own).</param>
    public static KubeOperatorBuilder AddKubeOperatorHosting(this WebApplicationBuilder builder, Action<KubeHostingOptions>? configure = null, params string[] meters)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var hosting = new KubeHostingOptions();
        configure?.Invoke(hosting);
        Validator.Validate(hosting);
        builder.Services.AddSingleton(Options.Create(hosting));

        builder.Logging.ClearProviders();
        if (hosting.LogFormat == "json")
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.IncludeScopes = true;
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
        }

        builder.Services.AddOpenTelemetry().WithMetrics(m =>
        {
            m.AddMeter(WorkQueueMetrics.MeterName);
            foreach (var meter in meters)
            {
                m.AddMeter(meter);
            }

            m.AddPrometheusExporter();
        });

        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var webhooks = kestrel.ApplicationServices.GetRequiredService<IOptions<WebhookOptions>>().Value;
            Listen(kestrel, hosting, hosting.MetricsPort, null);
            Listen(kestrel, hosting, hosting.HealthProbePort, null);
            if (webhooks.Enabled)
            {
                Listen(kestrel, hosting, webhooks.Port, listen => listen.UseHttps(https =>
                {
                    var certificates = kestrel.ApplicationServices.GetRequiredService<WebhookCertificates>();
                    https.ServerCertificateSelector = (_, _) => certificates.Current;
                }));
            }
        });

        return builder.Services.AddKubeOperator();
    }

    /// <summary>
    /// Maps <c>/metrics</c> (metrics port), <c>/healthz</c> and <c>/readyz</c> (probe port; ready once every informer
    /// has synced) and the registered webhooks (webhook port).
    /// </summary>
    public static WebApplication MapKubeOperatorEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var hosting = app.Services.GetRequiredService<IOptions<KubeHostingOptions>>().Value;
        var webhooks = app.Services.GetRequiredService<IOptions<WebhookOptions>>().Value;
        var metrics = app.MapPrometheusScrapingEndpoint("/metrics");
        OnPort(metrics, hosting.MetricsPort);
        OnPort(app.MapGet("/healthz", () => Results.Text("ok")), hosting.HealthProbePort);
        OnPort(app.MapGet("/readyz", (InformerFactory informers) => Readiness(informers)), hosting.HealthProbePort);
        if (webhooks.Enabled)
        {
            app.MapKubeWebhooks(webhooks.Port == 0 ? null : webhooks.Port);
        }

        return app;
    }

    /// <summary>200 once every informer has synced, else 503 naming the ones that have not.</summary>
    public static IResult Readiness(InformerFactory informers)
    {
        ArgumentNullException.ThrowIfNull(informers);
        var waiting = informers.Informers.Where(i => !i.HasSynced).Select(i => i.Description).ToArray();
        return waiting.Length == 0
            ? Results.Text("ok")
            : Results.Text($"caches not synced: {string.Join(", ", waiting)}", statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private static void OnPort(IEndpointConventionBuilder endpoint, int port)
    {
        if (port != 0)
        {
            endpoint.RequireHost($"*:{port}");
        }
    }

    private static void Listen(KestrelServerOptions kestrel, KubeHostingOptions hosting, int port, Action<ListenOptions>? configure)
    {
        if (hosting.LoopbackOnly)
        {
            kestrel.Listen(IPAddress.Loopback, port, configure ?? (_ => { }));
        }
        else
        {
            kestrel.ListenAnyIP(port, configure ?? (_ => { }));
        }
    }

    private static class Validator
    {
        public static void Validate(KubeHostingOptions options)
        {
            var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
            if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new System.ComponentModel.DataAnnotations.ValidationContext(options), results, true))
            {
                throw new OptionsValidationException(nameof(KubeHostingOptions), typeof(KubeHostingOptions), results.Select(r => $"KubeHosting: {r.ErrorMessage}"));
            }
        }
    }
}

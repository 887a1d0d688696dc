using k8s;
using k8s.Models;
using Karpenter.Aws;
using Karpenter.Core;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Provisioning;
using Karpenter.Entities;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Hosting;
using Karpenter.Kube.LeaderElection;
using Karpenter.Kube.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Karpenter.Operator.Hosting;

/// <summary>What differs between the operator in a pod and the same operator hosted by the simulator or a test.</summary>
public sealed class OperatorHostOptions
{
    /// <summary>Flags (<c>--cluster-name=demo</c> or <c>--cluster-name demo</c>); they win over <see cref="Settings"/> and the environment.</summary>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>Settings by their environment-variable names (<c>CLUSTER_NAME</c>, <c>AWS_ENDPOINT_URL</c>, …); they win over the environment.</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    /// <summary>Read settings from the process environment (true in a pod; the simulator turns it off so a user's shell cannot leak in).</summary>
    public bool ReadEnvironment { get; init; } = true;

    /// <summary>The API server to talk to; null: the kubeconfig (<c>KUBECONFIG</c>, <c>~/.kube/config</c>) or the in-cluster service account.</summary>
    public KubernetesClientConfiguration? Kubernetes { get; init; }

    /// <summary>The clock every component reads; null: the system clock.</summary>
    public TimeProvider? Time { get; init; }

    /// <summary>Listen on loopback only (the simulator, tests).</summary>
    public bool LoopbackOnly { get; init; }

    /// <summary>Replaces or adds logging providers after the host's own (the simulator routes logs to its view).</summary>
    public Action<ILoggingBuilder>? Logging { get; init; }

    /// <summary>Last word on the services (the simulator registers its emulators' certificates, tests their fakes).</summary>
    public Action<IServiceCollection>? Services { get; init; }
}

/// <summary>
/// The composition root: the one place the runtime, the cloud-neutral core, the AWS provider, their controllers and the
/// webhooks are put together. <c>karpenter run</c> and the simulator build the operator here, so what the simulator
/// runs is the product, not a copy of it.
/// </summary>
public static class OperatorHost
{
    /// <summary>The meters exported on <c>/metrics</c>, besides the runtime's own.</summary>
    public static IReadOnlyList<string> Meters { get; } = ["Karpenter.Core", "Karpenter.Aws"];

    /// <summary>
    /// Builds the operator: settings read and validated (throws <see cref="OperatorSettingsException"/> naming every bad
    /// value), services registered, endpoints mapped. Start it with <c>RunAsync</c> or <c>StartAsync</c>; options
    /// validated at start-up throw <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> there.
    /// </summary>
    public static WebApplication Build(OperatorHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "karpenter" });
        builder.Configuration.Sources.Clear();
        if (options.ReadEnvironment)
        {
            builder.Configuration.AddEnvironmentVariables();
        }

        builder.Configuration.AddInMemoryCollection(options.Settings);
        builder.Configuration.AddInMemoryCollection(SettingFlags.Parse(options.Args));
        var settings = OperatorSettings.Read(builder.Configuration);

        var kube = builder.AddKubeOperatorHosting(hosting =>
        {
            hosting.MetricsPort = settings.MetricsPort;
            hosting.HealthProbePort = settings.HealthProbePort;
            hosting.LogFormat = settings.LogFormat;
            hosting.LoopbackOnly = options.LoopbackOnly;
        }, [.. Meters]);
        builder.Logging.SetMinimumLevel(settings.LogLevel);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        options.Logging?.Invoke(builder.Logging);

        var services = builder.Services;
        if (options.Time is { } time)
        {
            services.AddSingleton(time);
        }

        if (options.Kubernetes is { } config)
        {
            services.AddSingleton(config);
        }

        Configure(services, settings);
        services.AddKarpenterCore();
        services.AddKarpenterAws(builder.Configuration);
        MeteredCloudProvider.Decorate(services);
        services.AddKarpenterNodeClass<EC2NodeClass>(nodeClass => nodeClass.GetCondition(ConditionTypes.Ready));
        kube.AddKarpenterAwsControllers()
            .AddKarpenterWebhooks()
            .AddCaBundleInjection(CaBundleTargets(settings));
        options.Services?.Invoke(services);

        var app = builder.Build();
        app.MapKubeOperatorEndpoints();
        return app;
    }

    /// <summary>Our CRDs with a conversion webhook and our webhook configurations, named as <c>manifests</c> generates them.</summary>
    private static CaBundleTargets CaBundleTargets(OperatorSettings settings)
    {
        var name = settings.KarpenterService ?? "karpenter";
        return new CaBundleTargets
        {
            CustomResourceDefinitions = [.. KarpenterApi.EntityTypes
                .Select(t => t.GetCustomAttributes(typeof(KubernetesEntityAttribute), false).Cast<KubernetesEntityAttribute>().Single())
                .Select(e => $"{e.PluralName}.{e.Group}")
                .Distinct()],
            ValidatingWebhookConfigurations = [$"validation.webhook.{name}.sh"],
            MutatingWebhookConfigurations = [$"defaulting.webhook.{name}.sh"],
        };
    }

    private static void Configure(IServiceCollection services, OperatorSettings settings)
    {
        services.Configure<KubeClientOptions>(o =>
        {
            o.Qps = settings.KubeClientQps;
            o.Burst = settings.KubeClientBurst;
        });
        services.Configure<LeaderElectionOptions>(o =>
        {
            o.Enabled = !settings.DisableLeaderElection;
            o.LeaseName = settings.LeaderElectionName;
            o.LeaseNamespace = settings.LeaderElectionNamespace;
        });
        services.Configure<WebhookOptions>(o =>
        {
            o.Enabled = !settings.DisableWebhook;
            o.Port = settings.WebhookPort;
            o.DnsNames = settings.WebhookDnsNames();
            o.CertificateFile = settings.WebhookCertFile;
            o.KeyFile = settings.WebhookKeyFile;
            o.CaFile = settings.WebhookCaFile;
        });
        services.Configure<BatchingOptions>(o =>
        {
            o.BatchIdleDuration = settings.BatchIdleDuration;
            o.BatchMaxDuration = settings.BatchMaxDuration;
        });
        services.Configure<KarpenterOptions>(o =>
        {
            o.PreferencePolicy = settings.PreferencePolicy;
            o.MinValuesPolicy = settings.MinValuesPolicy;
            o.FeatureGates = settings.FeatureGates;
        });
    }
}

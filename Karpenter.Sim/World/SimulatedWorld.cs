using System.Collections.Concurrent;
using System.Net;
using System.Text;
using k8s;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Sim.Aws;
using Karpenter.Sim.Clock;
using Karpenter.Sim.Cluster;
using Karpenter.Sim.Cluster.Kubelet;
using Karpenter.Sim.KubeApi;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Karpenter.Sim.World;

/// <summary>
/// A Kubernetes cluster on AWS, minus Karpenter, on one clock: the Kubernetes API emulator, the AWS emulator and the
/// simulated cluster (kubelets, kube-scheduler, cloud controller manager, kube-controller-manager's controllers)
/// driving them. The operator is added by the caller (<see cref="ConfigureHost"/>, <see cref="StartHostAsync"/>,
/// <see cref="OperatorEnvironment"/>), so that it runs unchanged against the world as against a real cluster.
/// </summary>
public sealed class SimulatedWorld : IAsyncDisposable
{
    private readonly List<IHost> _hosts = [];
    private readonly Lock _hostsLock = new();
    private readonly ConcurrentDictionary<(string Namespace, string Name), Uri> _webhookRoutes = new();
    private readonly AcceleratedTimeProvider? _ownedClock;
    private IHost _cluster = null!;
    private int _disposed;

    private SimulatedWorld(SimulatedWorldOptions options, TimeProvider clock, AcceleratedTimeProvider? ownedClock)
    {
        Options = options;
        Clock = clock;
        _ownedClock = ownedClock;
    }

    public SimulatedWorldOptions Options { get; }

    /// <summary>The clock every component of the world reads (and that added hosts must read).</summary>
    public TimeProvider Clock { get; }

    /// <summary>The world's clock when it is accelerated (to change its speed or jump ahead), else null.</summary>
    public AcceleratedTimeProvider? AcceleratedClock => Clock as AcceleratedTimeProvider;

    public KubeApiServer KubeApi { get; private set; } = null!;

    public AwsEmulator Aws { get; private set; } = null!;

    public string ClusterName => Options.ClusterName;

    public string KubernetesVersion => Options.KubernetesVersion;

    /// <summary>The API server URL nodes and the operator use (<c>CLUSTER_ENDPOINT</c>), e.g. <c>https://127.0.0.1:40123</c>.</summary>
    public string ClusterEndpoint => KubeApi.BaseAddress.GetLeftPart(UriPartial.Authority);

    /// <summary>Base64 of the API server's CA PEM (<c>CLUSTER_CA_BUNDLE</c>), or null without TLS.</summary>
    public string? ClusterCaBundle => KubeApi.CertificateAuthorityPem is { } pem ? Convert.ToBase64String(Encoding.UTF8.GetBytes(pem)) : null;

    /// <summary>The Service CIDR (<c>CLUSTER_CIDR</c>).</summary>
    public string ServiceCidr => Options.ServiceCidr;

    /// <summary>The kube-dns Service address: the tenth address of the Service CIDR (<c>CLUSTER_DNS_IP</c>).</summary>
    public string ClusterDnsIp
    {
        get
        {
            var network = IPNetwork.Parse(Options.ServiceCidr);
            var bytes = network.BaseAddress.GetAddressBytes();
            bytes[3] = (byte)(bytes[3] + 10);
            return new IPAddress(bytes).ToString();
        }
    }

    /// <summary>The SQS queue interruption events go to (<c>INTERRUPTION_QUEUE</c>), or null when none was created.</summary>
    public string? InterruptionQueueName => Options.InterruptionQueue ? Options.ClusterName : null;

    /// <summary>The one endpoint of every AWS service (<c>AWS_ENDPOINT_URL</c>).</summary>
    public Uri AwsEndpoint => Aws.ServiceUrl;

    public string AwsRegion => Aws.Region;

    public string AwsAccessKeyId => Aws.AccessKeyId;

    public string AwsSecretAccessKey => Aws.SecretAccessKey;

    /// <summary>A fresh client configuration for the API server (trusting its CA).</summary>
    public KubernetesClientConfiguration ClientConfiguration => KubeApi.ClientConfiguration;

    /// <summary>
    /// The settings the operator needs to run against this world, under upstream Karpenter's environment names
    /// (<c>CLUSTER_NAME</c>, <c>CLUSTER_ENDPOINT</c>, <c>CLUSTER_CA_BUNDLE</c>, <c>CLUSTER_CIDR</c>, <c>CLUSTER_DNS_IP</c>,
    /// <c>KUBERNETES_VERSION</c>, <c>INTERRUPTION_QUEUE</c>) and the AWS SDK's (<c>AWS_REGION</c>,
    /// <c>AWS_ENDPOINT_URL</c>, <c>AWS_ACCESS_KEY_ID</c>, <c>AWS_SECRET_ACCESS_KEY</c>).
    /// </summary>
    public IReadOnlyDictionary<string, string> OperatorEnvironment
    {
        get
        {
            var environment = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["CLUSTER_NAME"] = ClusterName,
                ["CLUSTER_ENDPOINT"] = ClusterEndpoint,
                ["CLUSTER_CIDR"] = ServiceCidr,
                ["CLUSTER_DNS_IP"] = ClusterDnsIp,
                ["KUBERNETES_VERSION"] = KubernetesVersion,
                ["AWS_REGION"] = AwsRegion,
                ["AWS_ENDPOINT_URL"] = AwsEndpoint.ToString().TrimEnd('/'),
                ["AWS_ACCESS_KEY_ID"] = AwsAccessKeyId,
                ["AWS_SECRET_ACCESS_KEY"] = AwsSecretAccessKey,
            };
            if (ClusterCaBundle is { } ca)
            {
                environment["CLUSTER_CA_BUNDLE"] = ca;
            }

            if (InterruptionQueueName is { } queue)
            {
                environment["INTERRUPTION_QUEUE"] = queue;
            }

            return environment;
        }
    }

    /// <summary>The simulated cluster's services (its informer caches, client, observer, kubelets).</summary>
    public IServiceProvider ClusterServices => _cluster.Services;

    /// <summary>A client of the API server (the simulated cluster's own).</summary>
    public IKubeClient Client => _cluster.Services.GetRequiredService<IKubeClient>();

    /// <summary>What happened in the cluster: node registrations and boot failures, bindings, pods running and failing.</summary>
    public ClusterObserver Observer => _cluster.Services.GetRequiredService<ClusterObserver>();

    /// <summary>The machines the kubelets know (instance, node name, phase, measured shape).</summary>
    public SimulatedNodes Machines => _cluster.Services.GetRequiredService<SimulatedNodes>();

    /// <summary>Instances that never became Nodes, and why.</summary>
    public IReadOnlyList<BootFailure> BootFailures => Machines.BootFailures;

    /// <summary>The CRDs installed at start (names).</summary>
    public IReadOnlyList<string> InstalledCrds { get; private set; } = [];

    private ClusterCaches Caches => _cluster.Services.GetRequiredService<ClusterCaches>();

    /// <summary>Starts a world; with default options, the sandbox's default world at real speed.</summary>
    public static async Task<SimulatedWorld> StartAsync(SimulatedWorldOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SimulatedWorldOptions();
        options.Validate();
        var owned = options.Clock is null ? new AcceleratedTimeProvider(options.Speed, options.StartTime) : null;
        var world = new SimulatedWorld(options, options.Clock ?? owned!, owned);
        try
        {
            await world.StartComponentsAsync(cancellationToken);
            return world;
        }
        catch
        {
            await world.DisposeAsync();
            throw;
        }
    }

    /// <summary>Nodes as the simulated cluster's cache holds them.</summary>
    public IReadOnlyList<V1Node> Nodes() => Caches.Nodes.List();

    /// <summary>Pods as the simulated cluster's cache holds them (all namespaces, or one).</summary>
    public IReadOnlyList<V1Pod> Pods(string? ns = null) => ns is null ? Caches.Pods.List() : [.. Caches.Pods.List().Where(p => p.Metadata.NamespaceProperty == ns)];

    /// <summary>Writes a kubeconfig for the API server (for kubectl); returns its path.</summary>
    public string WriteKubeconfig(string path) => KubeApi.WriteKubeconfig(path, "karpenter-sim", "default");

    /// <summary>
    /// Routes the API server's calls to a webhook service (<c>clientConfig.service</c> namespace/name, e.g. the
    /// operator's conversion and admission webhooks in <c>kube-system/karpenter</c>) to <paramref name="baseUrl"/>.
    /// </summary>
    public void RouteWebhookService(string ns, string name, Uri baseUrl)
    {
        ArgumentException.ThrowIfNullOrEmpty(ns);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(baseUrl);
        _webhookRoutes[(ns, name)] = baseUrl;
    }

    /// <summary>
    /// Prepares any host builder (the operator's <c>WebApplicationBuilder</c> or a <c>HostApplicationBuilder</c>) to run
    /// against this world: the world's clock as <see cref="TimeProvider"/>, the API server's
    /// <see cref="KubernetesClientConfiguration"/>, and <see cref="OperatorEnvironment"/> as configuration (later
    /// sources added by the caller win).
    /// </summary>
    public void ConfigureHost(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Configuration.AddInMemoryCollection(OperatorEnvironment.Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value)));
        builder.Services.Replace(ServiceDescriptor.Singleton(Clock));
        builder.Services.Replace(ServiceDescriptor.Singleton(ClientConfiguration));
    }

    /// <summary>
    /// Builds and starts a host on the world (see <see cref="ConfigureHost"/>); <paramref name="configure"/> adds its
    /// services (e.g. the operator's composition root). The world stops and disposes it first when it is disposed.
    /// </summary>
    public async Task<IHost> StartHostAsync(Action<HostApplicationBuilder> configure, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        ConfigureLogging(builder.Services);
        ConfigureHost(builder);
        configure(builder);
        var host = builder.Build();
        await RunHostAsync(host, cancellationToken);
        return host;
    }

    /// <summary>Starts a host built elsewhere (configured with <see cref="ConfigureHost"/>) and ties its lifetime to the world's.</summary>
    public async Task RunHostAsync(IHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        lock (_hostsLock)
        {
            _hosts.Add(host);
        }

        await host.StartAsync(cancellationToken);
    }

    /// <summary>Stops a host started by <see cref="StartHostAsync"/> or <see cref="RunHostAsync"/> (a crash or a restart in a test).</summary>
    public async Task StopHostAsync(IHost host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        lock (_hostsLock)
        {
            _hosts.Remove(host);
        }

        await StopAsync(host, cancellationToken);
    }

    /// <summary>Waits (in real time, at most <paramref name="realTimeout"/>) until <paramref name="condition"/> holds of the world.</summary>
    public Task<TimeSpan> UntilAsync(Func<SimulatedWorld, bool> condition, TimeSpan realTimeout, string description, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return SimulationWait.UntilAsync(Clock, () => condition(this), realTimeout, description, Describe, cancellationToken);
    }

    /// <summary>A one-line summary of the world for failure messages and logs.</summary>
    public string Describe()
    {
        var nodes = Nodes();
        var pods = Pods();
        var phases = string.Join(", ", pods.GroupBy(p => p.Status?.Phase ?? "?").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}"));
        var failures = BootFailures.Count == 0 ? string.Empty : $"; boot failures: {string.Join("; ", BootFailures.Select(f => $"{f.InstanceId}: {f.Reason}"))}";
        return $"{Clock.GetUtcNow():O}: {Aws.World.Instances().Count} instances, {nodes.Count} nodes " +
               $"({nodes.Count(n => n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)} Ready), pods: {phases}{failures}";
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        IHost[] hosts;
        lock (_hostsLock)
        {
            hosts = [.. _hosts];
            _hosts.Clear();
        }

        foreach (var host in hosts.Reverse())
        {
            await StopAsync(host, CancellationToken.None);
        }

        if (_cluster is not null)
        {
            _cluster.Services.GetService<ClusterObserver>()?.Complete();
            await StopAsync(_cluster, CancellationToken.None);
        }

        if (Aws is not null)
        {
            await Aws.DisposeAsync();
        }

        if (KubeApi is not null)
        {
            await KubeApi.DisposeAsync();
        }

        _ownedClock?.Dispose();
    }

    private static async Task StopAsync(IHost host, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        try
        {
            await host.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Stopped as far as it could in time; disposing ends the rest.
        }

        if (host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            host.Dispose();
        }
    }

    private async Task StartComponentsAsync(CancellationToken cancellationToken)
    {
        var kubeOptions = new KubeApiServerOptions
        {
            TimeProvider = Clock,
            UseTls = Options.UseTls,
            RandomSeed = Options.Seed,
            LoggerFactory = Options.LoggerFactory,
            WebhookServiceResolver = ResolveWebhook,

            // Webhook calls are real network work: on an accelerated clock their deadline would pass before a TLS handshake.
            WebhookDeadlineClock = Clock is AcceleratedTimeProvider ? TimeProvider.System : null,
        };
        Options.ConfigureKubeApi?.Invoke(kubeOptions);
        KubeApi = await KubeApiServer.StartAsync(kubeOptions, cancellationToken);

        var awsOptions = new AwsEmulatorOptions
        {
            TimeProvider = Clock,
            ClusterName = Options.ClusterName,
            Region = Options.Region,
            Seed = Options.Seed,
            InstanceTypeCatalogPath = Options.InstanceTypeCatalogPath,
            Network = Options.Network,
            LoggerFactory = Options.LoggerFactory,
        };
        if (!awsOptions.KubernetesVersions.Contains(Options.KubernetesVersion))
        {
            awsOptions.KubernetesVersions.Add(Options.KubernetesVersion);
        }

        Options.ConfigureAws?.Invoke(awsOptions);
        Aws = await AwsEmulator.StartAsync(awsOptions, cancellationToken);
        if (InterruptionQueueName is { } queue)
        {
            Aws.World.CreateQueue(queue);
        }

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        ConfigureLogging(builder.Services);
        builder.Services.AddSingleton(Clock);
        builder.Services.AddSingleton(ClientConfiguration);
        builder.Services.AddSimulatedCluster(
            Aws.World,
            kubelet =>
            {
                kubelet.ClusterName = Options.ClusterName;
                kubelet.ClusterEndpoint = ClusterEndpoint;
                kubelet.ClusterCertificateAuthority = ClusterCaBundle;
                kubelet.KubernetesVersion = Options.KubernetesVersion;
                Options.ConfigureKubelet?.Invoke(kubelet);
            },
            Options.ConfigureScheduler);
        _cluster = builder.Build();
        await _cluster.StartAsync(cancellationToken);

        if (Options.InstallCrds)
        {
            var crds = CrdInstaller.Resolve(Options.CrdDirectory);
            await CrdInstaller.InstallAsync(Client, crds, Clock, cancellationToken);
            InstalledCrds = [.. crds.Select(c => c.Metadata.Name)];
        }

        if (Options.SystemDaemonSets)
        {
            foreach (var daemonSet in SystemWorkloads.DaemonSets(Options.Region))
            {
                try
                {
                    await Client.CreateAsync(daemonSet, cancellationToken);
                }
                catch (KubeAlreadyExistsException)
                {
                    // Present already.
                }
            }
        }
    }

    private void ConfigureLogging(IServiceCollection services)
    {
        services.AddLogging();
        if (Options.LoggerFactory is { } loggers)
        {
            services.Replace(ServiceDescriptor.Singleton(loggers));
        }
    }

    private Uri ResolveWebhook(string ns, string name, int port, string? path)
    {
        var relative = (path ?? "/").TrimStart('/');
        if (_webhookRoutes.TryGetValue((ns, name), out var baseUrl))
        {
            return new Uri(new Uri(baseUrl.ToString().TrimEnd('/') + "/"), relative);
        }

        return new Uri($"https://{name}.{ns}.svc:{port}/{relative}");
    }
}

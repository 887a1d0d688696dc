using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using k8s;
using Karpenter.Sim.KubeApi.Http;
using Karpenter.Sim.KubeApi.Json;
using Karpenter.Sim.KubeApi.Resources;
using Karpenter.Sim.KubeApi.Storage;
using Karpenter.Sim.KubeApi.Tls;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Karpenter.Sim.KubeApi;

/// <summary>
/// An in-memory Kubernetes API server that speaks the real REST and watch protocol over HTTP(S) on loopback,
/// so that KubernetesClient and kubectl talk to it exactly as to a real cluster. Where it cannot reproduce
/// kube-apiserver it refuses with the real error shape. Runs on an injectable <see cref="TimeProvider"/>.
/// </summary>
public sealed class KubeApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ApiHandler _handler;
    private readonly ObjectStore _store;
    private readonly CertificateAuthority? _authority;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ITimer _bookmarks;
    private readonly SemaphoreSlim _namespaceSignal = new(0);
    private readonly Task _namespaceController;
    private readonly SemaphoreSlim _garbageSignal = new(0);
    private readonly Task _garbageCollector;
    private volatile bool _namespacesPending;
    private int _disposed;

    private KubeApiServer(WebApplication app, ApiHandler handler, ObjectStore store, KubeApiServerOptions options, CertificateAuthority? authority, KubeApiFaults faults)
    {
        _app = app;
        _handler = handler;
        _store = store;
        _authority = authority;
        Options = options;
        Faults = faults;
        store.Changed += id =>
        {
            if (id == ApiHandler.CrdStorage)
            {
                handler.SyncCustomResources();
            }
        };
        _bookmarks = options.TimeProvider.CreateTimer(_ => handler.SendBookmarks(), null, options.BookmarkInterval, options.BookmarkInterval);
        if (options.RunNamespaceController)
        {
            handler.NamespaceTerminating += SignalNamespaces;
            store.Committed += _ =>
            {
                if (_namespacesPending)
                {
                    SignalNamespaces();
                }
            };
            _namespaceController = RunNamespaceControllerAsync(_stopping.Token);
        }
        else
        {
            _namespaceController = Task.CompletedTask;
        }

        if (options.RunGarbageCollector)
        {
            store.Committed += _ => Signal(_garbageSignal);
            _garbageCollector = RunGarbageCollectorAsync(_stopping.Token);
        }
        else
        {
            _garbageCollector = Task.CompletedTask;
        }
    }

    private static void Signal(SemaphoreSlim signal)
    {
        if (signal.CurrentCount == 0)
        {
            signal.Release();
        }
    }

    /// <summary>Passes of the garbage collector after writes (coalesced); a pass that leaves work waits for the next write.</summary>
    private async Task RunGarbageCollectorAsync(CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await _garbageSignal.WaitAsync(ct);
                _ = await _handler.CollectGarbageAsync(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    public KubeApiServerOptions Options { get; }

    /// <summary>The server's URL, e.g. <c>http://127.0.0.1:40123/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Fault injection hooks (fail, conflict, delay, drop watches).</summary>
    public KubeApiFaults Faults { get; }

    /// <summary>PEM of the CA that signed the serving certificate (null without TLS or with a caller-supplied certificate).</summary>
    public string? CertificateAuthorityPem => _authority?.CertificatePem;

    /// <summary>The newest resourceVersion committed.</summary>
    public long CurrentResourceVersion => _store.CurrentRevision;

    /// <summary>A fresh client configuration for this server (KubernetesClient).</summary>
    public KubernetesClientConfiguration ClientConfiguration
    {
        get
        {
            var configuration = new KubernetesClientConfiguration
            {
                Host = BaseAddress.GetLeftPart(UriPartial.Authority),
                AccessToken = "karpenter-sim",
            };
            if (_authority is not null)
            {
                configuration.SslCaCerts = [X509CertificateLoader.LoadCertificate(_authority.Certificate.RawData)];
            }
            else if (Options.UseTls)
            {
                configuration.SkipTlsVerify = true;
            }

            return configuration;
        }
    }

    /// <summary>Starts a server; with default options on an ephemeral loopback port over plain HTTP.</summary>
    public static async Task<KubeApiServer> StartAsync(KubeApiServerOptions? options = null, CancellationToken ct = default)
    {
        options ??= new KubeApiServerOptions();
        options.Validate();
        var loggerFactory = options.LoggerFactory ?? NullLoggerFactory.Instance;
        CertificateAuthority? authority = null;
        var certificate = options.ServerCertificate;
        if (options.UseTls && certificate is null)
        {
            authority = CertificateAuthority.Create("karpenter-sim-kube-apiserver-ca", options.TimeProvider);
            certificate = authority.IssueLoopbackCertificate(options.TimeProvider);
        }

        var random = options.RandomSeed is { } seed ? new Random(seed) : new Random();
        var store = new ObjectStore(options.TimeProvider, options.HistoryWindow, options.MaxHistoryEvents);
        var registry = new ResourceRegistry();
        ApiHandler? handler = null;
        var faults = new KubeApiFaults(new Random(random.Next()), resource => handler!.DropWatches(resource));
        handler = new ApiHandler(options, registry, store, faults, random, loggerFactory.CreateLogger("Karpenter.Sim.KubeApi"));
        Bootstrap(handler, store, registry, options.TimeProvider);

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddLogging();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Limits.MinResponseDataRate = null;
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromMinutes(10);
            kestrel.Listen(IPAddress.Parse(options.Host), options.Port, listen =>
            {
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
        });
        var app = builder.Build();
        app.Run(handler.HandleAsync);
        await app.StartAsync(ct);

        var server = new KubeApiServer(app, handler, store, options, authority, faults);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var bound = new Uri(address);
        server.BaseAddress = new UriBuilder(bound.Scheme, options.Host, bound.Port).Uri;
        return server;
    }

    /// <summary>Writes a kubeconfig for this server (usable by kubectl); returns its path.</summary>
    public string WriteKubeconfig(string path, string contextName = "karpenter-sim", string? defaultNamespace = null)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var ca = _authority?.CertificatePem;
        File.WriteAllText(path, Kubeconfig.Render(BaseAddress, ca, contextName, defaultNamespace));
        return path;
    }

    /// <summary>
    /// Test hook: forget the change history, as an etcd compaction at the current revision does. Watches
    /// (and paginated lists) from older revisions then fail with 410 Expired.
    /// </summary>
    public void CompactHistory() => _store.Compact();

    /// <summary>Test hook: compacts the history and ends every open watch with the 410 Expired ERROR event.</summary>
    public int ExpireWatches()
    {
        _store.Compact();
        return _handler.ExpireWatches();
    }

    /// <summary>
    /// Makes webhook configurations that name <c>service {namespace, name, port}</c> (port defaults to 443)
    /// reach <paramref name="endpoint"/>, e.g. a webhook server on a loopback port: the emulator has no Services,
    /// so this stands in for the Service and its endpoints. The configuration's <c>path</c> is appended and the
    /// TLS certificate must be valid for the endpoint's host and chain to the configuration's <c>caBundle</c>.
    /// Registered endpoints take precedence over <see cref="KubeApiServerOptions.WebhookServiceResolver"/>.
    /// </summary>
    public void RegisterWebhookService(string @namespace, string name, int port, Uri endpoint)
    {
        ArgumentException.ThrowIfNullOrEmpty(@namespace);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        _handler.Webhooks.RegisterService(@namespace, name, port, endpoint);
    }

    /// <summary>Test hook: sends a BOOKMARK now to every watch that allows bookmarks.</summary>
    public void SendBookmarks() => _handler.SendBookmarks();

    /// <summary>How many objects of a resource (plural or plural.group) are stored.</summary>
    public int Count(string resource)
    {
        var type = _handler.Registry.All.FirstOrDefault(t => t.Plural == resource || t.GroupResource == resource)
                   ?? throw new ArgumentException($"unknown resource {resource}", nameof(resource));
        return _handler.StorageOf(type).Items.Count;
    }

    private void SignalNamespaces()
    {
        _namespacesPending = true;
        if (_namespaceSignal.CurrentCount == 0)
        {
            _namespaceSignal.Release();
        }
    }

    private async Task RunNamespaceControllerAsync(CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await _namespaceSignal.WaitAsync(ct);
                _namespacesPending = await _handler.ReconcileNamespacesAsync(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private static void Bootstrap(ApiHandler handler, ObjectStore store, ResourceRegistry registry, TimeProvider time)
    {
        var now = KubeTime.Format(time.GetUtcNow());
        var namespaces = store.Resource("namespaces", registry.FieldExtractor("namespaces"));
        foreach (var name in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
        {
            var ns = new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Namespace",
                ["metadata"] = new JsonObject
                {
                    ["name"] = name,
                    ["uid"] = Guid.NewGuid().ToString(),
                    ["creationTimestamp"] = now,
                    ["labels"] = new JsonObject { ["kubernetes.io/metadata.name"] = name },
                },
                ["spec"] = new JsonObject { ["finalizers"] = new JsonArray("kubernetes") },
                ["status"] = new JsonObject { ["phase"] = "Active" },
            };
            store.Create(namespaces, ns, name);
        }

        var priorityClasses = store.Resource(Strategies.PodStrategy.PriorityClassesStorage, registry.FieldExtractor(Strategies.PodStrategy.PriorityClassesStorage));
        foreach (var (name, value, description) in new[]
                 {
                     ("system-node-critical", 2000001000, "Used for system critical pods that must not be moved from their current node."),
                     ("system-cluster-critical", 2000000000, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
                 })
        {
            var pc = new JsonObject
            {
                ["apiVersion"] = "scheduling.k8s.io/v1",
                ["kind"] = "PriorityClass",
                ["metadata"] = new JsonObject { ["name"] = name, ["uid"] = Guid.NewGuid().ToString(), ["creationTimestamp"] = now, ["generation"] = 1 },
                ["value"] = value,
                ["description"] = description,
                ["preemptionPolicy"] = "PreemptLowerPriority",
            };
            store.Create(priorityClasses, pc, name);
        }

        _ = handler;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _bookmarks.DisposeAsync();
        _handler.DropWatches(null);
        try
        {
            await _namespaceController;
            await _garbageCollector;
        }
        catch (OperationCanceledException)
        {
            // Expected on stop.
        }

        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stopTimeout.Token);
        await _app.DisposeAsync();
        _handler.Dispose();
        _authority?.Dispose();
        _namespaceSignal.Dispose();
        _garbageSignal.Dispose();
        _stopping.Dispose();
    }
}

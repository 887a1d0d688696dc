using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Karpenter.Core;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Lifecycle;
using Karpenter.Core.NodePools;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Karpenter.Kube.Generation;
using Karpenter.Kube.Hosting;
using Karpenter.Kube.Informers;
using Karpenter.Kube.LeaderElection;
using Karpenter.Sim.KubeApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Core.Lifecycle.Support;

/// <summary>
/// Core's controllers against the Kubernetes API emulator, reconciled one call at a time as upstream's suites do
/// (<c>ExpectObjectReconciled</c>): the real client, the real shared informers, Karpenter.Core's composition root,
/// a <see cref="ScriptedCloudProvider"/> and a <see cref="FakeTimeProvider"/> the test steps. Informers keep the system
/// clock so that stepping time never stalls a watch; everything that decides (controllers, the server's timestamps)
/// reads <see cref="Clock"/>.
/// </summary>
internal sealed class ControllerEnvironment : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private int _names;

    private readonly bool _ownsServer;

    private ControllerEnvironment(FakeTimeProvider clock, KubeApiServer server, ServiceProvider services, ScriptedCloudProvider cloud, bool ownsServer)
    {
        _ownsServer = ownsServer;
        Clock = clock;
        Server = server;
        Services = services;
        Cloud = cloud;
        Client = services.GetRequiredService<IKubeClient>();
        Informers = services.GetRequiredService<InformerFactory>();
        Indexes = services.GetRequiredService<ClusterIndexes>();
        Events = (RecordingEventRecorder)services.GetRequiredService<IEventRecorder>();
    }

    public FakeTimeProvider Clock { get; }

    public KubeApiServer Server { get; }

    public ServiceProvider Services { get; }

    public ScriptedCloudProvider Cloud { get; }

    public IKubeClient Client { get; }

    public InformerFactory Informers { get; }

    public ClusterIndexes Indexes { get; }

    public RecordingEventRecorder Events { get; }

    /// <summary>
    /// Starts an environment; with <paramref name="sharing"/>, a second operator process against the same API server,
    /// cloud and clock (a restart after a crash, or a second replica).
    /// </summary>
    public static async Task<ControllerEnvironment> StartAsync(Action<IServiceCollection>? configure = null, ControllerEnvironment? sharing = null)
    {
        var clock = sharing?.Clock ?? new FakeTimeProvider(new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero));
        var server = sharing?.Server ?? await KubeApiServer.StartAsync(new KubeApiServerOptions { TimeProvider = clock });
        if (sharing is null)
        {
            await InstallCrdsAsync(server);
        }

        var cloud = sharing?.Cloud ?? new ScriptedCloudProvider();
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<TimeProvider>(clock);
        services.AddSingleton(server.ClientConfiguration);
        services.AddSingleton<IEventRecorder, RecordingEventRecorder>();
        services.AddSingleton<ICloudProvider>(cloud);
        services.AddSingleton(sp => new InformerFactory(
            sp.GetRequiredService<IKubeClient>(),
            sp.GetRequiredService<IOptions<InformerOptions>>(),
            TimeProvider.System,
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddKubeOperator();
        services.AddKarpenterCore();

        // One operator per environment; a test that runs the controller host needs no lease to do so.
        services.Configure<LeaderElectionOptions>(o => o.Enabled = false);
        services.AddKarpenterNodeClass<EC2NodeClass>(n => n.GetCondition(ConditionTypes.Ready));
        configure?.Invoke(services);
        var provider = services.BuildServiceProvider();
        var env = new ControllerEnvironment(clock, server, provider, cloud, ownsServer: sharing is null);
        provider.GetRequiredService<INodeClassReadiness>();
        env.Informers.Start(env._stop.Token);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await env.Informers.WaitForSyncAsync(timeout.Token);
        return env;
    }

    /// <summary>A fresh name for this test's objects.</summary>
    public string NewName(string prefix) => $"{prefix}-{Interlocked.Increment(ref _names)}";

    public T Get<T>()
        where T : notnull => Services.GetRequiredService<T>();

    // ------------------------------------------------------------------ objects

    public static NodePool NodePool(string name, string nodeClass = "default", Action<NodePool>? configure = null)
    {
        var pool = new NodePool
        {
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new NodePoolSpec
            {
                Template = new NodeClaimTemplate
                {
                    Spec = new NodeClaimTemplateSpec
                    {
                        NodeClassRef = NodeClassReference.Ec2NodeClass(nodeClass),
                        Requirements = [new NodePoolRequirement { Key = Labels.CapacityType, Operator = "In", Values = [CapacityTypes.OnDemand] }],
                    },
                },
            },
        };
        configure?.Invoke(pool);
        return pool;
    }

    public static EC2NodeClass NodeClass(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new EC2NodeClassSpec
        {
            Role = "KarpenterNodeRole",
            AmiSelectorTerms = [new AmiSelectorTerm { Alias = "al2023@latest" }],
            SubnetSelectorTerms = [new SubnetSelectorTerm { Tags = new Dictionary<string, string> { ["karpenter.sh/discovery"] = "test" } }],
            SecurityGroupSelectorTerms = [new SecurityGroupSelectorTerm { Tags = new Dictionary<string, string> { ["karpenter.sh/discovery"] = "test" } }],
        },
    };

    /// <summary>A NodeClaim as the provisioner makes it: NodePool label, requirements, an EC2NodeClass reference.</summary>
    public static NodeClaim NodeClaim(string name, string? nodePool = "default", Action<NodeClaim>? configure = null)
    {
        var claim = new NodeClaim
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                Labels = nodePool is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [Labels.NodePool] = nodePool },
            },
            Spec = new NodeClaimSpec
            {
                NodeClassRef = NodeClassReference.Ec2NodeClass("default"),
                Requirements =
                [
                    new NodeClaimRequirement { Key = Labels.CapacityType, Operator = "In", Values = [CapacityTypes.OnDemand] },
                    new NodeClaimRequirement { Key = Labels.InstanceType, Operator = "In", Values = ["fake-it-1", "fake-it-2", "fake-it-3"] },
                ],
            },
        };
        configure?.Invoke(claim);
        return claim;
    }

    /// <summary>The Node a kubelet registers for a machine: the unregistered taint, not Ready yet.</summary>
    public static V1Node Node(string name, string providerId, bool withUnregisteredTaint = true) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { [Labels.Hostname] = name } },
        Spec = new V1NodeSpec
        {
            ProviderID = providerId,
            Taints = withUnregisteredTaint
                ? [new V1Taint { Key = Taints.UnregisteredKey, Effect = Taints.EffectNoExecute }, new V1Taint { Key = Taints.NotReadyKey, Effect = Taints.EffectNoSchedule }]
                : [new V1Taint { Key = Taints.NotReadyKey, Effect = Taints.EffectNoSchedule }],
        },
        Status = new V1NodeStatus
        {
            Capacity = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("2"), ["memory"] = new("4Gi"), ["pods"] = new("20") },
            Allocatable = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("1900m"), ["memory"] = new("3Gi"), ["pods"] = new("20") },
            Conditions = [new V1NodeCondition { Type = "Ready", Status = "False", Reason = "KubeletNotReady" }],
        },
    };

    // ------------------------------------------------------------------ verbs

    public async Task<T> CreateAsync<T>(T obj)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var created = await Client.CreateAsync(obj);
        return await CachedAsync(created);
    }

    /// <summary>Writes a custom resource's status (the create drops it) and waits for the cache.</summary>
    public async Task<T> SetStatusAsync<T>(T obj, Action<T> mutate)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var current = await Client.GetAsync<T>(obj.Metadata.Name, obj.Metadata.NamespaceProperty);
        var modified = KubeObjects.DeepClone(current);
        mutate(modified);
        var written = await Client.PatchStatusFromAsync(current, modified);
        return await CachedAsync(written);
    }

    /// <summary>Changes an object (not its status) and waits for the cache.</summary>
    public async Task<T> UpdateAsync<T>(T obj, Action<T> mutate)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var current = await Client.GetAsync<T>(obj.Metadata.Name, obj.Metadata.NamespaceProperty);
        var modified = KubeObjects.DeepClone(current);
        mutate(modified);
        var written = await Client.PatchFromAsync(current, modified);
        return await CachedAsync(written);
    }

    public Task<T?> GetAsync<T>(string name, string? ns = null)
        where T : class, IKubernetesObject<V1ObjectMeta> => Client.TryGetAsync<T>(name, ns);

    public async Task DeleteAsync<T>(T obj)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        await Client.DeleteIfExistsAsync<T>(obj.Metadata.Name, obj.Metadata.NamespaceProperty);
        await SettledAsync<T>(obj.Metadata.Name, obj.Metadata.NamespaceProperty);
    }

    /// <summary>Waits until the shared cache holds the server's current version of the object (or its absence).</summary>
    public async Task<T> CachedAsync<T>(T obj)
        where T : class, IKubernetesObject<V1ObjectMeta> =>
        await SettledAsync<T>(obj.Metadata.Name, obj.Metadata.NamespaceProperty)
        ?? throw new InvalidOperationException($"{typeof(T).Name} {obj.Metadata.Name} is gone");

    public async Task<T?> SettledAsync<T>(string name, string? ns = null)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var informer = Informers.Get<T>();
        var key = new ObjectKey(ns, name);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (true)
        {
            var server = await Client.TryGetAsync<T>(name, ns);
            var cached = informer.Get(key);
            if ((server is null && cached is null) || (server is not null && cached?.Metadata.ResourceVersion == server.Metadata.ResourceVersion))
            {
                return cached;
            }

            await Task.Delay(5, timeout.Token);
        }
    }

    /// <summary>Reconciles the current cached state of a NodeClaim with <typeparamref name="TReconciler"/> (once).</summary>
    public async Task<ReconcileResult> ReconcileAsync<TReconciler>(NodeClaim nodeClaim)
        where TReconciler : IReconciler<NodeClaim>
    {
        var cached = await SettledAsync<NodeClaim>(nodeClaim.Metadata.Name);
        if (cached is null)
        {
            return ReconcileResult.Done;
        }

        var result = await Get<TReconciler>().ReconcileAsync(cached, CancellationToken.None);
        await SettledAsync<NodeClaim>(nodeClaim.Metadata.Name);
        return result;
    }

    /// <summary>
    /// Runs the lifecycle controller on a NodeClaim while the process is killed the moment the cloud provider has
    /// created its machine (the reconcile is cancelled there, as a dying host cancels it): nothing is recorded.
    /// </summary>
    public async Task KillDuringLaunchAsync(NodeClaim nodeClaim)
    {
        using var kill = new CancellationTokenSource();
        Cloud.KillAfterCreate = kill;
        var cached = await SettledAsync<NodeClaim>(nodeClaim.Metadata.Name) ?? throw new InvalidOperationException("no such NodeClaim");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Get<NodeClaimLifecycleController>().ReconcileAsync(cached, kill.Token));
    }

    /// <summary>Reconciles a NodeClaim with the lifecycle controller.</summary>
    public Task<ReconcileResult> LifecycleAsync(NodeClaim nodeClaim) => ReconcileAsync<NodeClaimLifecycleController>(nodeClaim);

    /// <summary>Reconciles any cached object with <typeparamref name="TReconciler"/>.</summary>
    public async Task<ReconcileResult> ReconcileObjectAsync<T, TReconciler>(T obj)
        where T : class, IKubernetesObject<V1ObjectMeta>
        where TReconciler : IReconciler<T>
    {
        var cached = await SettledAsync<T>(obj.Metadata.Name, obj.Metadata.NamespaceProperty);
        if (cached is null)
        {
            return ReconcileResult.Done;
        }

        var result = await Get<TReconciler>().ReconcileAsync(cached, CancellationToken.None);
        await SettledAsync<T>(obj.Metadata.Name, obj.Metadata.NamespaceProperty);
        return result;
    }

    /// <summary>Makes a Node Ready, as its kubelet would, and drops the not-ready taint.</summary>
    public async Task<V1Node> MakeReadyAsync(V1Node node)
    {
        var current = await Client.GetAsync<V1Node>(node.Metadata.Name);
        var status = KubeObjects.DeepClone(current);
        status.Status.Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", Reason = "KubeletReady" }];
        current = await Client.PatchStatusFromAsync(current, status);
        var spec = KubeObjects.DeepClone(current);
        spec.Spec.Taints = spec.Spec.Taints?.Where(t => t.Key != Taints.NotReadyKey).ToList();
        return await CachedAsync(await Client.PatchFromAsync(current, spec));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Informers.StopAsync();
        await Services.DisposeAsync();
        if (_ownsServer)
        {
            await Server.DisposeAsync();
        }

        _stop.Dispose();
    }

    private static async Task InstallCrdsAsync(KubeApiServer server)
    {
        using var kubernetes = new Kubernetes(server.ClientConfiguration);
        var generator = new CrdGenerator();
        foreach (var type in new[] { typeof(NodePool), typeof(NodeClaim), typeof(EC2NodeClass) })
        {
            await kubernetes.ApiextensionsV1.CreateCustomResourceDefinitionAsync(generator.Generate(type));
        }
    }
}

/// <summary>Keeps every published event for assertions (<see cref="ExpectEvent"/>).</summary>
internal sealed class RecordingEventRecorder : IEventRecorder
{
    private readonly ConcurrentQueue<KubeEvent> _events = new();

    public IReadOnlyList<KubeEvent> All => [.. _events];

    public void Publish(KubeEvent kubeEvent) => _events.Enqueue(kubeEvent);

    /// <summary>Asserts an event with <paramref name="reason"/> about the object named <paramref name="name"/> and returns it.</summary>
    public KubeEvent ExpectEvent(string reason, string name)
    {
        var found = All.FirstOrDefault(e => e.Reason == reason && e.Regarding.Metadata.Name == name);
        Assert.True(found is not null, $"expected a {reason} event about {name}; got: {string.Join("; ", All.Select(e => $"{e.Reason}/{e.Regarding.Metadata.Name}"))}");
        return found!;
    }

    public void ExpectNoEvent(string reason, string name) =>
        Assert.DoesNotContain(All, e => e.Reason == reason && e.Regarding.Metadata.Name == name);
}

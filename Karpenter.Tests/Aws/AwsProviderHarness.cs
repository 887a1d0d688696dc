using System.Collections.Concurrent;
using k8s;
using Karpenter.Aws;
using Karpenter.Aws.CloudProvider;
using Karpenter.Aws.NodeClasses;
using Karpenter.Entities;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using Karpenter.Kube.Client;
using Karpenter.Kube.Generation;
using Karpenter.Kube.Hosting;
using Karpenter.Sim.Aws;
using Karpenter.Sim.KubeApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Aws;

/// <summary>
/// The whole AWS provider as <c>AddKarpenterAws</c> composes it, pointed at our emulator on a fake clock, with EC2NodeClasses
/// kept in memory instead of an API server. <see cref="RunAsync{T}"/> steps the clock while a call waits on a batch window.
/// </summary>
internal sealed class AwsProviderHarness : IAsyncDisposable
{
    public const string NodeClassYaml = """
        apiVersion: karpenter.k8s.aws/v1
        kind: EC2NodeClass
        metadata:
          name: default
          uid: 2f6d1a3c-0000-4000-8000-000000000001
          generation: 1
        spec:
          role: KarpenterNodeRole-test-cluster
          amiSelectorTerms:
          - alias: al2023@latest
          subnetSelectorTerms:
          - tags:
              karpenter.sh/discovery: test-cluster
          securityGroupSelectorTerms:
          - tags:
              karpenter.sh/discovery: test-cluster
          tags:
            team: autoscaling
        """;

    private readonly ServiceProvider _services;

    private AwsProviderHarness(EmulatedAws aws, IServiceCollection descriptors, MemoryNodeClassStore store, KubeApiServer? kube)
    {
        Descriptors = descriptors;
        var services = descriptors.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = false });
        Aws = aws;
        _services = services;
        NodeClasses = store;
        Kube = kube;
    }

    /// <summary>The API server emulator (with Karpenter's CRDs) when started with <c>withKube</c>; else null.</summary>
    public KubeApiServer? Kube { get; }

    public IKubeClient KubeClient => _services.GetRequiredService<IKubeClient>();

    public EmulatedAws Aws { get; }

    public FakeTimeProvider Time => Aws.Time;

    public AwsEmulator Emulator => Aws.Emulator;

    public MemoryNodeClassStore NodeClasses { get; }

    public IServiceProvider Services => _services;

    /// <summary>The registrations, as the composition root made them.</summary>
    public IServiceCollection Descriptors { get; }

    public AwsCloudProvider CloudProvider => _services.GetRequiredService<AwsCloudProvider>();

    public T Get<T>()
        where T : notnull => _services.GetRequiredService<T>();

    public static async Task<AwsProviderHarness> StartAsync(Action<AwsEmulatorOptions>? emulator = null, Action<AwsOptions>? provider = null,
        bool withKube = false)
    {
        var aws = await EmulatedAws.StartAsync(emulator, provider);
        var store = new MemoryNodeClassStore();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(aws.Time);
        KubeApiServer? kube = null;
        if (withKube)
        {
            kube = await KubeApiServer.StartAsync(new KubeApiServerOptions { TimeProvider = aws.Time });
            services.AddSingleton(kube.ClientConfiguration);
            using var client = new Kubernetes(kube.ClientConfiguration);
            foreach (var crd in new CrdGenerator(new CrdGeneratorOptions()).GenerateAll(KarpenterApi.EntityTypes))
            {
                await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
            }
        }
        Compose(services, aws.Options, store);
        return new AwsProviderHarness(aws, services, store, kube);
    }

    /// <summary>The provider as <c>AddKarpenterAws</c> and <c>AddKarpenterAwsControllers</c> register it, with NodeClasses from <paramref name="store"/>.</summary>
    public static IServiceCollection Compose(IServiceCollection services, AwsOptions options, IEc2NodeClassStore store)
    {
        services.AddKarpenterAws(o => Copy(options, o));
        services.AddKubeOperator().AddKarpenterAwsControllers();
        services.RemoveAll<IEc2NodeClassStore>();
        services.AddSingleton(store);
        return services;
    }

    private static void Copy(AwsOptions from, AwsOptions to)
    {
        to.ClusterName = from.ClusterName;
        to.ClusterEndpoint = from.ClusterEndpoint;
        to.ClusterCidr = from.ClusterCidr;
        to.ClusterCaBundle = from.ClusterCaBundle;
        to.Region = from.Region;
        to.EndpointUrl = from.EndpointUrl;
        to.AccessKeyId = from.AccessKeyId;
        to.SecretAccessKey = from.SecretAccessKey;
        to.MaxAttempts = from.MaxAttempts;
        to.DisableDryRun = from.DisableDryRun;
        to.InterruptionQueue = from.InterruptionQueue;
        to.KubernetesVersion = from.KubernetesVersion;
    }

    /// <summary>Awaits <paramref name="task"/>, stepping the fake clock 10 ms at a time while it waits (batch windows run on it).</summary>
    public async Task<T> RunAsync<T>(Task<T> task)
    {
        await PumpAsync(Time, task);
        return await task;
    }

    /// <summary>As <see cref="RunAsync{T}(Task{T})"/>, advancing the clock by <paramref name="advance"/> per step, for calls that wait long on it (an SQS long poll).</summary>
    public async Task<T> RunFastAsync<T>(Task<T> task, TimeSpan advance)
    {
        await PumpAsync(Time, task, advance: advance);
        return await task;
    }

    /// <summary>As <see cref="RunAsync{T}(Task{T})"/>, stepping the clock only every <paramref name="realStep"/> of real time.</summary>
    public async Task<T> RunSlowlyAsync<T>(Task<T> task, TimeSpan realStep)
    {
        await PumpAsync(Time, task, realStep);
        return await task;
    }

    public async Task RunAsync(Task task)
    {
        await PumpAsync(Time, task);
        await task;
    }

    public static async Task PumpAsync(FakeTimeProvider time, Task task, TimeSpan? realStep = null, TimeSpan? advance = null)
    {
        var step = realStep ?? TimeSpan.FromMilliseconds(5);
        var by = advance ?? TimeSpan.FromMilliseconds(10);
        var deadline = DateTime.UtcNow.AddSeconds(120); // a safety net for a stuck call, wide for a loaded machine (moto answers slowly under load)
        while (!task.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.WhenAny(task, Task.Delay(step));
            if (!task.IsCompleted)
            {
                time.Advance(by);
            }
        }
        Assert.True(task.IsCompleted, "the call did not complete within 120 s of stepping the fake clock");
    }

    public static EC2NodeClass ParseNodeClass(string yaml) => k8s.KubernetesYaml.Deserialize<EC2NodeClass>(yaml);

    /// <summary>Resolves the NodeClass's status as the nodeclass controller does, stores it, and returns it.</summary>
    public async Task<EC2NodeClass> ResolveAsync(EC2NodeClass nodeClass)
    {
        await RunAsync(Get<NodeClassStatusResolver>().ResolveAsync(nodeClass, default));
        NodeClasses.Put(nodeClass);
        return nodeClass;
    }

    /// <summary>The default NodeClass (discovery-tagged subnets and groups, AL2023, the cluster's node role), resolved.</summary>
    public async Task<EC2NodeClass> ReadyNodeClassAsync(string yaml = NodeClassYaml)
    {
        var nodeClass = await ResolveAsync(ParseNodeClass(yaml));
        Assert.True(nodeClass.IsReady(), "the NodeClass did not become Ready: " + string.Join("; ",
            (nodeClass.Status.Conditions ?? []).Where(c => c.Status != "True").Select(c => $"{c.Type}={c.Status} {c.Reason}: {c.Message}")));
        return nodeClass;
    }

    public static NodeClaim NodeClaim(string name, string requirementsYaml = "", string nodePool = "default")
    {
        var yaml = $"""
            apiVersion: karpenter.sh/v1
            kind: NodeClaim
            metadata:
              name: {name}
              labels:
                karpenter.sh/nodepool: {nodePool}
            spec:
              nodeClassRef:
                group: karpenter.k8s.aws
                kind: EC2NodeClass
                name: default
              resources:
                requests:
                  cpu: "1"
                  memory: 1Gi
              requirements:
              - key: kubernetes.io/arch
                operator: In
                values: ["amd64"]
            {requirementsYaml}
            """;
        return k8s.KubernetesYaml.Deserialize<NodeClaim>(yaml);
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Aws.DisposeAsync();
        if (Kube is not null)
        {
            await Kube.DisposeAsync();
        }
    }
}

/// <summary>EC2NodeClasses kept in memory, by name.</summary>
internal sealed class MemoryNodeClassStore : IEc2NodeClassStore
{
    private readonly ConcurrentDictionary<string, EC2NodeClass> _items = new(StringComparer.Ordinal);

    public void Put(EC2NodeClass nodeClass) => _items[nodeClass.Metadata.Name] = nodeClass;

    public void Remove(string name) => _items.TryRemove(name, out _);

    public Task<EC2NodeClass?> GetAsync(string name, CancellationToken cancellationToken) =>
        Task.FromResult(_items.TryGetValue(name, out var found) ? found : null);
}

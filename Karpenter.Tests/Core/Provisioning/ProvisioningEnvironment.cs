using k8s;
using k8s.Models;
using Karpenter.Core;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.CloudProvider.Fake;
using Karpenter.Core.Provisioning;
using Karpenter.Core.State;
using Karpenter.Entities;
using Karpenter.Entities.V1;
using Karpenter.Entities.WellKnown;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Events;
using Karpenter.Kube.Generation;
using Karpenter.Kube.Informers;
using Karpenter.Sim.KubeApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Core.Provisioning;

/// <summary>
/// The provisioner as the operator runs it: resolved from <c>AddKarpenterCore()</c>, reading the API emulator through
/// the real client and informers, on a <see cref="FakeTimeProvider"/> shared with the emulator, with the fake cloud
/// provider and an event recorder the specifications read. One per test.
/// </summary>
internal sealed class ProvisioningEnvironment : IAsyncDisposable
{
    private static readonly IReadOnlyList<V1CustomResourceDefinition> Crds = new CrdGenerator().GenerateAll(KarpenterApi.EntityTypes);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly ServiceProvider _services;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<IDisposable> _subscriptions = [];
    private int _serial;

    private ProvisioningEnvironment(FakeTimeProvider clock, KubeApiServer server, ServiceProvider services, FakeCloudProvider cloud, RecordingEventRecorder events)
    {
        Clock = clock;
        Server = server;
        _services = services;
        Cloud = cloud;
        Events = events;
        Client = services.GetRequiredService<IKubeClient>();
        State = services.GetRequiredService<ClusterState>();
        Batcher = services.GetRequiredService<Batcher>();
        Informers = services.GetRequiredService<InformerFactory>();
        Metrics = services.GetRequiredService<ProvisioningMetrics>();
        Provisioner = services.GetRequiredService<Provisioner>();
    }

    public FakeTimeProvider Clock { get; }

    public KubeApiServer Server { get; }

    public IKubeClient Client { get; }

    public FakeCloudProvider Cloud { get; }

    public RecordingEventRecorder Events { get; }

    public ClusterState State { get; }

    public Batcher Batcher { get; }

    public InformerFactory Informers { get; }

    public ProvisioningMetrics Metrics { get; }

    public Provisioner Provisioner { get; }

    public IServiceProvider Services => _services;

    public static async Task<ProvisioningEnvironment> StartAsync(IReadOnlyList<InstanceType>? instanceTypes = null, Action<BatchingOptions>? batching = null)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero));
        var server = await KubeApiServer.StartAsync(new KubeApiServerOptions { TimeProvider = clock });
        var cloud = new FakeCloudProvider(instanceTypes);
        var events = new RecordingEventRecorder();
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<TimeProvider>(clock);
        services.AddSingleton(server.ClientConfiguration);
        services.AddSingleton<ICloudProvider>(cloud);
        services.AddSingleton<IEventRecorder>(events);
        services.AddKarpenterCore();
        if (batching is not null)
        {
            services.Configure(batching);
        }

        var env = new ProvisioningEnvironment(clock, server, services.BuildServiceProvider(), cloud, events);
        foreach (var crd in Crds)
        {
            await env.Client.CreateAsync(KubeObjects.DeepClone(crd));
        }

        env._subscriptions.AddRange(ClusterStateInformers.Attach(env.State, env.Informers));
        env.Informers.Start(env._stop.Token);
        await Eventually(() => env.Informers.AllSynced, () => $"the informers sync (waiting on {string.Join(", ", env.Informers.Informers.Where(i => !i.HasSynced).Select(i => i.Description))})");
        return env;
    }

    // ------------------------------------------------------------------ builders

    /// <summary>A dynamic NodePool of the EC2NodeClass <c>default</c>, with optional template parts.</summary>
    public static NodePool NodePool(
        string name = "default",
        int? weight = null,
        Dictionary<string, ResourceQuantity>? limits = null,
        List<NodePoolRequirement>? requirements = null,
        Dictionary<string, string>? labels = null,
        Dictionary<string, string>? annotations = null,
        List<Taint>? taints = null) => new()
        {
            ApiVersion = "karpenter.sh/v1",
            Kind = "NodePool",
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new NodePoolSpec
            {
                Weight = weight,
                Limits = limits,
                Template = new NodeClaimTemplate
                {
                    Metadata = labels is null && annotations is null ? null : new NodeClaimTemplateMetadata { Labels = labels, Annotations = annotations },
                    Spec = new NodeClaimTemplateSpec
                    {
                        NodeClassRef = NodeClassReference.Ec2NodeClass("default"),
                        Requirements = requirements ?? [],
                        Taints = taints,
                    },
                },
            },
        };

    public static NodePoolRequirement Requirement(string key, string op, params string[] values) => new() { Key = key, Operator = op, Values = [.. values] };

    /// <summary>A pod requesting <paramref name="cpu"/> and <paramref name="memory"/>.</summary>
    public V1Pod Pod(string cpu = "1", string memory = "1Gi", string? name = null, Action<V1PodSpec>? spec = null)
    {
        var pod = new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta { Name = name ?? $"pod-{Interlocked.Increment(ref _serial)}", NamespaceProperty = "default" },
            Spec = new V1PodSpec
            {
                Containers = [new V1Container { Name = "app", Image = "registry.k8s.io/pause:3.10", Resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpu), ["memory"] = new(memory) } } }],
            },
        };
        spec?.Invoke(pod.Spec);
        return pod;
    }

    // ------------------------------------------------------------------ expectations

    /// <summary>Creates the NodePool, then writes its status: Ready (and NodeClassReady, ValidationSucceeded) or NodeClassReady=False.</summary>
    public async Task<NodePool> ExpectNodePoolAsync(NodePool nodePool, bool ready = true, Dictionary<string, ResourceQuantity>? usage = null)
    {
        var created = await Client.CreateAsync(nodePool);
        var now = Clock.GetUtcNow().UtcDateTime;
        V1Condition Condition(string type, bool status, string reason, string message) => new()
        {
            Type = type,
            Status = status ? "True" : "False",
            Reason = reason,
            Message = message,
            LastTransitionTime = now,
            ObservedGeneration = created.Metadata.Generation,
        };

        created.Status = new NodePoolStatus
        {
            Resources = usage,
            Conditions =
            [
                Condition(ConditionTypes.ValidationSucceeded, true, "ValidationSucceeded", string.Empty),
                ready ? Condition(ConditionTypes.NodeClassReady, true, "NodeClassReady", string.Empty) : Condition(ConditionTypes.NodeClassReady, false, "NodeClassNotReady", "EC2NodeClass default has no subnets"),
                ready ? Condition(ConditionTypes.Ready, true, "Ready", string.Empty) : Condition(ConditionTypes.Ready, false, "UnhealthyDependents", "NodeClassReady=False"),
            ],
        };
        var stored = await Client.UpdateStatusAsync(created);
        await Eventually(() => Informers.Get<NodePool>().Get(ObjectKey.Of(stored))?.Metadata.ResourceVersion == stored.Metadata.ResourceVersion, $"the informer sees NodePool {stored.Metadata.Name}");
        return stored;
    }

    /// <summary>Creates the pods and marks them unschedulable as kube-scheduler does, then waits until the cluster state sees them pending.</summary>
    public async Task<IReadOnlyList<V1Pod>> ExpectPendingAsync(params IReadOnlyList<V1Pod> pods)
    {
        var stored = new V1Pod[pods.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, pods.Count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var created = await Client.CreateAsync(pods[i], ct);
            stored[i] = await MarkUnschedulableAsync(Client, created, ct);
        });
        var keys = stored.Select(p => p.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        await Eventually(() => State.PendingPods().Count(p => keys.Contains(p.Metadata.Name)) == keys.Count, $"the cluster state sees {keys.Count} pending pod(s)");
        return stored;
    }

    /// <summary>Writes <c>PodScheduled=False, reason Unschedulable</c> through the status subresource, as kube-scheduler does.</summary>
    public static Task<V1Pod> MarkUnschedulableAsync(IKubeClient client, V1Pod pod, CancellationToken cancellationToken = default) =>
        client.PatchStatusAsync<V1Pod>(pod.Metadata.Name, pod.Metadata.NamespaceProperty, KubePatch.Merge(new
        {
            status = new
            {
                conditions = new[] { new { type = "PodScheduled", status = "False", reason = "Unschedulable", message = "0/0 nodes are available" } },
            },
        }), cancellationToken);

    /// <summary>
    /// Runs one reconcile of the provisioner as its controller would, stepping the clock through the batch window
    /// (only while the batcher waits, so nominations are timed from the window's end).
    /// </summary>
    public async Task<ReconcileResult> ReconcileAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        var run = Provisioner.ReconcileAsync(timeout.Token);
        while (!run.IsCompleted && Batcher.Waiting)
        {
            Clock.Advance(TimeSpan.FromMilliseconds(100));
            await Task.WhenAny(run, Task.Delay(1, timeout.Token));
        }

        return await run;
    }

    /// <summary>Every NodeClaim in the API server, by name.</summary>
    public async Task<IReadOnlyList<NodeClaim>> NodeClaimsAsync() =>
        [.. (await Client.ListAsync<NodeClaim>()).Items.OrderBy(n => n.Metadata.Name, StringComparer.Ordinal)];

    /// <summary>Waits until the NodeClaim informer has delivered every NodeClaim to the cluster state.</summary>
    public async Task ExpectStateHasNodeClaimsAsync(int count) =>
        await Eventually(() => Informers.Get<NodeClaim>().Count == count, $"the NodeClaim informer holds {count} NodeClaim(s)");

    public static Task Eventually(Func<bool> condition, string what) => Eventually(condition, () => what);

    public static async Task Eventually(Func<bool> condition, Func<string> what)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (!condition())
        {
            try
            {
                await Task.Delay(5, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"timed out waiting until {what()}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var subscription in _subscriptions)
        {
            subscription.Dispose();
        }

        await Informers.StopAsync();
        await _services.DisposeAsync();
        await Server.DisposeAsync();
        _stop.Dispose();
    }
}

/// <summary>An <see cref="IEventRecorder"/> that keeps every event (no dedupe, no rate limit) for assertions.</summary>
internal sealed class RecordingEventRecorder : IEventRecorder
{
    private readonly Lock _lock = new();
    private readonly List<KubeEvent> _events = [];

    public IReadOnlyList<KubeEvent> All
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    public void Publish(KubeEvent kubeEvent)
    {
        lock (_lock)
        {
            _events.Add(kubeEvent);
        }
    }

    /// <summary>The events about the pod named <paramref name="podName"/> with <paramref name="reason"/>.</summary>
    public IReadOnlyList<KubeEvent> For(string podName, string reason) =>
        [.. All.Where(e => e.Reason == reason && e.Regarding.Metadata.Name == podName)];

    public void Clear()
    {
        lock (_lock)
        {
            _events.Clear();
        }
    }
}

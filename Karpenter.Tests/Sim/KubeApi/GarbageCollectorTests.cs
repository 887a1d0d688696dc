using k8s;
using k8s.Models;
using Karpenter.Sim.KubeApi;
using Microsoft.Extensions.Time.Testing;
using static Karpenter.Tests.Sim.KubeApi.KubeApiExpectations;

namespace Karpenter.Tests.Sim.KubeApi;

/// <summary>
/// The opt-in garbage collector (<see cref="KubeApiServerOptions.RunGarbageCollector"/>): ownerReferences with
/// Background, Orphan and Foreground propagation, blockOwnerDeletion and the foregroundDeletion finalizer.
/// </summary>
public sealed class GarbageCollectorTests : IAsyncLifetime
{
    private KubeApiServer _server = null!;
    private Kubernetes Client { get; set; } = null!;
    private int _namespaces;

    public async Task InitializeAsync()
    {
        _server = await KubeApiServer.StartAsync(new KubeApiServerOptions
        {
            RunGarbageCollector = true,
            TimeProvider = new FakeTimeProvider(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero)),
        });
        Client = new Kubernetes(_server.ClientConfiguration);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<string> NamespaceAsync()
    {
        var name = $"gc-{Interlocked.Increment(ref _namespaces)}";
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } });
        return name;
    }

    private static V1OwnerReference OwnedBy(IKubernetesObject<V1ObjectMeta> owner, bool block = false) => new()
    {
        ApiVersion = owner.ApiVersion,
        Kind = owner.Kind,
        Name = owner.Metadata.Name,
        Uid = owner.Metadata.Uid,
        BlockOwnerDeletion = block ? true : null,
    };

    private async Task<V1ReplicaSet> ReplicaSetAsync(string ns, string name)
    {
        var labels = new Dictionary<string, string> { ["rs"] = name };
        return await Client.AppsV1.CreateNamespacedReplicaSetAsync(new V1ReplicaSet
        {
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1ReplicaSetSpec
            {
                Selector = new V1LabelSelector { MatchLabels = labels },
                Template = new V1PodTemplateSpec { Metadata = new V1ObjectMeta { Labels = labels }, Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "pause" }] } },
            },
        }, ns);
    }

    private async Task<V1Pod> OwnedPodAsync(string ns, string name, V1ReplicaSet owner, bool block = false, string? finalizer = null)
    {
        var pod = Pod(name);
        pod.Metadata.OwnerReferences = [OwnedBy(owner, block)];
        pod.Metadata.Finalizers = finalizer is null ? null : [finalizer];
        return await Client.CoreV1.CreateNamespacedPodAsync(pod, ns);
    }

    /// <summary>The collector runs in the background: wait (bounded) until the condition holds.</summary>
    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        for (var i = 0; i < 500; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(10);
        }

        Assert.Fail("never happened: " + what);
    }

    private async Task<bool> PodExistsAsync(string ns, string name) =>
        (await Client.CoreV1.ListNamespacedPodAsync(ns, fieldSelector: "metadata.name=" + name)).Items.Count > 0;

    [Fact]
    public async Task Background_deletion_collects_dependents_once_no_owner_is_left()
    {
        var node = await Client.CoreV1.CreateNodeAsync(Node("gc-node"));
        node.ApiVersion = "v1";
        node.Kind = "Node";
        var lease = await Client.CoordinationV1.CreateNamespacedLeaseAsync(new V1Lease
        {
            Metadata = new V1ObjectMeta { Name = "gc-node", OwnerReferences = [OwnedBy(node)] },
            Spec = new V1LeaseSpec { HolderIdentity = "gc-node" },
        }, "kube-node-lease");
        var ns = await NamespaceAsync();
        var first = await ReplicaSetAsync(ns, "first");
        var second = await ReplicaSetAsync(ns, "second");
        var shared = Pod("shared");
        shared.Metadata.OwnerReferences = [OwnedBy(WithKind(first)), OwnedBy(WithKind(second))];
        await Client.CoreV1.CreateNamespacedPodAsync(shared, ns);

        await Client.CoreV1.DeleteNodeAsync("gc-node");
        await Client.AppsV1.DeleteNamespacedReplicaSetAsync("first", ns);

        await EventuallyAsync(async () => (await Client.CoordinationV1.ListNamespacedLeaseAsync("kube-node-lease", fieldSelector: "metadata.name=" + lease.Metadata.Name)).Items.Count == 0, "the node's lease collected");
        await EventuallyAsync(async () => (await Client.CoreV1.ReadNamespacedPodAsync("shared", ns)).Metadata.OwnerReferences?.Count == 1, "the dangling reference dropped");
        Assert.Equal("second", (await Client.CoreV1.ReadNamespacedPodAsync("shared", ns)).Metadata.OwnerReferences.Single().Name);

        await Client.AppsV1.DeleteNamespacedReplicaSetAsync("second", ns);
        await EventuallyAsync(async () => !await PodExistsAsync(ns, "shared"), "the pod collected with its last owner");
    }

    [Fact]
    public async Task Orphan_deletion_releases_the_dependents_and_then_removes_the_owner()
    {
        var ns = await NamespaceAsync();
        var owner = WithKind(await ReplicaSetAsync(ns, "rs"));
        await OwnedPodAsync(ns, "p1", owner);

        await Client.AppsV1.DeleteNamespacedReplicaSetAsync("rs", ns, propagationPolicy: "Orphan");

        await EventuallyAsync(async () => (await Client.AppsV1.ListNamespacedReplicaSetAsync(ns)).Items.Count == 0, "the owner removed");
        var pod = await Client.CoreV1.ReadNamespacedPodAsync("p1", ns);
        Assert.Null(pod.Metadata.OwnerReferences);
        Assert.Null(pod.Metadata.DeletionTimestamp);
    }

    [Fact]
    public async Task Foreground_deletion_deletes_dependents_first_and_waits_for_those_that_block()
    {
        var ns = await NamespaceAsync();
        var owner = WithKind(await ReplicaSetAsync(ns, "rs"));
        await OwnedPodAsync(ns, "loose", owner);
        await OwnedPodAsync(ns, "held", owner, block: true, finalizer: "example.com/hold");

        await Client.AppsV1.DeleteNamespacedReplicaSetAsync("rs", ns, propagationPolicy: "Foreground");

        var waiting = await Client.AppsV1.ReadNamespacedReplicaSetAsync("rs", ns);
        Assert.NotNull(waiting.Metadata.DeletionTimestamp);
        Assert.Contains("foregroundDeletion", waiting.Metadata.Finalizers);
        await EventuallyAsync(async () => !await PodExistsAsync(ns, "loose"), "the non-blocking dependent deleted");
        await EventuallyAsync(async () => (await Client.CoreV1.ReadNamespacedPodAsync("held", ns)).Metadata.DeletionTimestamp is not null, "the blocking dependent being deleted");
        Assert.Single((await Client.AppsV1.ListNamespacedReplicaSetAsync(ns)).Items);

        await Client.CoreV1.PatchNamespacedPodAsync(new V1Patch("""{"metadata":{"finalizers":null}}""", V1Patch.PatchType.MergePatch), "held", ns);

        await EventuallyAsync(async () => (await Client.AppsV1.ListNamespacedReplicaSetAsync(ns)).Items.Count == 0, "the owner removed after its blocking dependent");
    }

    private static V1ReplicaSet WithKind(V1ReplicaSet rs)
    {
        rs.ApiVersion = "apps/v1";
        rs.Kind = "ReplicaSet";
        return rs;
    }
}

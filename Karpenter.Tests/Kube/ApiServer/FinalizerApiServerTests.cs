using k8s.Models;
using Karpenter.Kube.Finalizers;

namespace Karpenter.Tests.Kube.ApiServer;

/// <summary>Finalizers added and removed by patch on the emulator, next to another controller's finalizer.</summary>
public sealed class FinalizerApiServerTests : ApiServerTest
{
    private const string Ours = "example.com/cleanup";
    private const string Theirs = "other.io/protect";

    [Fact]
    public async Task Our_finalizer_is_added_and_removed_by_patch_without_touching_another_one()
    {
        var finalizers = new FinalizerClient(Client);
        var node = await Client.CreateAsync(Node("n1", [Theirs]));

        node = await finalizers.AddAsync(node, Ours, CancellationToken.None);
        Assert.Equal([Theirs, Ours], (await Client.GetAsync<V1Node>("n1")).Metadata.Finalizers);

        var deleting = await Client.DeleteAsync<V1Node>("n1");
        Assert.NotNull(deleting?.Metadata.DeletionTimestamp);

        Assert.True(await finalizers.RemoveAsync(deleting!, Ours));
        var remaining = await Client.GetAsync<V1Node>("n1");
        Assert.Equal([Theirs], remaining.Metadata.Finalizers);
        Assert.NotNull(remaining.Metadata.DeletionTimestamp);

        Assert.True(await finalizers.RemoveAsync(remaining, Theirs));
        Assert.Null(await Karpenter.Kube.Client.KubeClientExtensions.TryGetAsync<V1Node>(Client, "n1"));
    }

    [Fact]
    public async Task Adding_with_a_stale_object_conflicts_instead_of_overwriting_the_list()
    {
        var finalizers = new FinalizerClient(Client);
        var stale = await Client.CreateAsync(Node("n2"));
        await finalizers.AddAsync(stale, Theirs, CancellationToken.None);

        await Assert.ThrowsAsync<Karpenter.Kube.Client.KubeConflictException>(() => finalizers.AddAsync(stale, Ours, CancellationToken.None));
        Assert.Equal([Theirs], (await Client.GetAsync<V1Node>("n2")).Metadata.Finalizers);
    }

    [Fact]
    public async Task Removal_finds_our_entry_again_when_the_list_moved_underneath()
    {
        var finalizers = new FinalizerClient(Client);
        var node = await Client.CreateAsync(Node("n3", [Theirs, Ours]));
        var fresh = await Client.PatchAsync<V1Node>("n3", null, Karpenter.Kube.Client.KubePatch.Merge(new { metadata = new { finalizers = new[] { Ours, Theirs } } }));
        Assert.Equal([Ours, Theirs], fresh.Metadata.Finalizers);

        Assert.True(await finalizers.RemoveAsync(node, Ours));

        Assert.Equal([Theirs], (await Client.GetAsync<V1Node>("n3")).Metadata.Finalizers);
    }
}

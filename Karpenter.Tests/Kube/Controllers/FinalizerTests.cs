using System.Text.Json.Nodes;
using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Controllers;
using Karpenter.Kube.Finalizers;
using Karpenter.Tests.Kube.Support;

namespace Karpenter.Tests.Kube.Controllers;

public sealed class FinalizerTests
{
    private const string Ours = "example.com/cleanup";
    private readonly ScriptedKubeClient _client = new();

    [Fact]
    public async Task Adding_patches_the_whole_list_under_an_optimistic_lock()
    {
        var pod = Objects.Pod("a", "7");
        pod.Metadata.Finalizers = ["other.io/x"];
        _client.OnPatch = (_, _) => pod;

        await new FinalizerClient(_client).AddAsync(pod, Ours, CancellationToken.None);

        var (_, patch) = Assert.Single(_client.Patches);
        Assert.Equal(KubePatchType.Merge, patch.Type);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"metadata":{"finalizers":["other.io/x","example.com/cleanup"],"resourceVersion":"7"}}"""), JsonNode.Parse(patch.Body)));
    }

    [Fact]
    public async Task Adding_an_existing_finalizer_sends_nothing()
    {
        var pod = Objects.Pod("a", "7");
        pod.Metadata.Finalizers = [Ours];

        await new FinalizerClient(_client).AddAsync(pod, Ours, CancellationToken.None);

        Assert.Empty(_client.Patches);
    }

    [Fact]
    public async Task Removing_tests_and_removes_only_our_entry_and_retries_when_the_list_moved()
    {
        var pod = Objects.Pod("a", "7");
        pod.Metadata.Finalizers = ["other.io/x", Ours];
        var fresh = Objects.Pod("a", "8");
        fresh.Metadata.Finalizers = [Ours, "other.io/x"];
        var attempts = 0;
        _client.OnPatch = (_, _) => ++attempts == 1 ? throw new KubeApiException(422, "", "testing value /metadata/finalizers/1 failed") : fresh;
        _client.OnGet = _ => fresh;

        Assert.True(await new FinalizerClient(_client).RemoveAsync(pod, Ours));

        Assert.Equal(2, _client.Patches.Count);
        Assert.Equal("""[{"op":"test","path":"/metadata/finalizers/1","value":"example.com/cleanup"},{"op":"remove","path":"/metadata/finalizers/1"}]""", _client.Patches[0].Patch.Body);
        Assert.Equal("""[{"op":"test","path":"/metadata/finalizers/0","value":"example.com/cleanup"},{"op":"remove","path":"/metadata/finalizers/0"}]""", _client.Patches[1].Patch.Body);
    }

    [Fact]
    public async Task A_finalizing_reconciler_adds_before_work_and_removes_after_cleanup()
    {
        var pod = Objects.Pod("a", "7");
        _client.OnPatch = (_, p) => p.Type == KubePatchType.Merge ? WithFinalizer(pod) : pod;
        var reconciler = new Recorder(new FinalizerClient(_client));

        await reconciler.ReconcileAsync(pod, CancellationToken.None);

        Assert.Equal([KubePatchType.Merge], _client.Patches.Select(p => p.Patch.Type));
        Assert.Equal(["live with [example.com/cleanup]"], reconciler.Steps);

        var deleting = WithFinalizer(pod);
        deleting.Metadata.DeletionTimestamp = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var pending = await reconciler.ReconcileAsync(deleting, CancellationToken.None);

        Assert.Equal(TimeSpan.FromSeconds(10), pending.RequeueAfter);
        Assert.Single(_client.Patches);

        reconciler.CleanupDone = true;
        await reconciler.ReconcileAsync(deleting, CancellationToken.None);

        Assert.Equal(["live with [example.com/cleanup]", "finalize", "finalize"], reconciler.Steps);
        Assert.Equal([KubePatchType.Merge, KubePatchType.Json], _client.Patches.Select(p => p.Patch.Type));
    }

    private static V1Pod WithFinalizer(V1Pod p)
    {
        var copy = KubeObjects.DeepClone(p);
        copy.Metadata.Finalizers = [Ours];
        return copy;
    }

    private sealed class Recorder(FinalizerClient finalizers) : FinalizingReconciler<V1Pod>(finalizers)
    {
        public List<string> Steps { get; } = [];

        public bool CleanupDone { get; set; }

        protected override string Finalizer => Ours;

        protected override Task<ReconcileResult> ReconcileLiveAsync(V1Pod entity, CancellationToken cancellationToken)
        {
            Steps.Add($"live with [{string.Join(',', entity.Metadata.Finalizers ?? [])}]");
            return Task.FromResult(ReconcileResult.Done);
        }

        protected override Task<FinalizeOutcome> FinalizeAsync(V1Pod entity, CancellationToken cancellationToken)
        {
            Steps.Add("finalize");
            return Task.FromResult(CleanupDone ? FinalizeOutcome.Done : FinalizeOutcome.Pending(TimeSpan.FromSeconds(10)));
        }
    }
}

using k8s.Models;
using Karpenter.Kube.Client;
using Karpenter.Kube.Informers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Karpenter.Tests.Kube.ApiServer;

/// <summary>The informer against the emulator's real LIST/WATCH protocol, including expired history.</summary>
public sealed class InformerApiServerTests : ApiServerTest
{
    private readonly FakeTimeProvider _time = new();
    private readonly InformerOptions _options = new() { InitialBackoff = TimeSpan.FromSeconds(1) };
    private readonly List<string> _events = [];
    private readonly CancellationTokenSource _stop = new();
    private Informer<V1Pod> _informer = null!;
    private Task _run = Task.CompletedTask;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _informer = new Informer<V1Pod>(NewClient(), new InformerScope("default"), _options, _time, NullLogger.Instance);
        _informer.AddEventHandler(new InformerHandler<V1Pod>(
            p => Record($"add {p.Metadata.Name}"),
            (_, n) => Record($"update {n.Metadata.Name}"),
            p => Record($"delete {p.Metadata.Name}")));
    }

    [Fact]
    public async Task Lists_then_follows_changes_through_the_watch()
    {
        await Client.CreateAsync(Pod("a"));
        await StartAndSync();
        Assert.Equal(["add a"], Events());

        await Client.CreateAsync(Pod("b"));
        await Client.PatchAsync<V1Pod>("a", "default", KubePatch.Merge(new { metadata = new { labels = new Dictionary<string, string> { ["x"] = "1" } } }));
        await Client.DeleteAsync<V1Pod>("b", "default", new V1DeleteOptions { GracePeriodSeconds = 0 });

        await Eventually(() => Events().Contains("delete b"), "the watch delivered the delete");
        Assert.Equal(["add a", "add b", "update a", "delete b"], Events());
        Assert.Equal("1", _informer.Get(new ObjectKey("default", "a"))!.Metadata.Labels["x"]);
    }

    [Fact]
    public async Task An_expired_watch_relists_and_emits_the_synthetic_delete_for_what_it_missed()
    {
        await Client.CreateAsync(Pod("a"));
        await Client.CreateAsync(Pod("b"));
        await StartAndSync();

        // Cut the informer off: its watch ends and every new watch fails, so it backs off (on the fake clock).
        var blockWatches = Server.Faults.FailRequests(1, 500, verb: "watch", resource: "pods");
        Server.Faults.DropWatches("pods");
        await Eventually(() => blockWatches.Hits >= 1, "the informer tried to watch again");

        // Meanwhile b is deleted and c created, and the history that would replay it is compacted away.
        await Client.DeleteAsync<V1Pod>("b", "default", new V1DeleteOptions { GracePeriodSeconds = 0 });
        await Client.CreateAsync(Pod("c"));
        Server.CompactHistory();
        blockWatches.Remove();

        // Step the fake clock while waiting: the informer arms its backoff timer only after the failed watch
        // returns, which may be after any single step we take here.
        await Eventually(
            () =>
            {
                _time.Advance(TimeSpan.FromSeconds(1));
                return Events().Contains("delete b") && Events().Contains("add c");
            },
            "the re-list emitted the missed delete and add");
        Assert.Null(_informer.Get(new ObjectKey("default", "b")));
        Assert.Equal(["a", "c"], _informer.List().Select(p => p.Metadata.Name).Order());
    }

    [Fact]
    public async Task An_expired_error_event_in_the_stream_triggers_a_relist_and_the_informer_keeps_following()
    {
        await Client.CreateAsync(Pod("a"));
        await StartAndSync();
        var before = _informer.LastSyncResourceVersion;

        await Eventually(() => Server.ExpireWatches() >= 1, "the open watch was expired");
        await Client.CreateAsync(Pod("d"));

        await Eventually(() => Events().Contains("add d"), "the informer followed changes after the relist");
        Assert.NotEqual(before, _informer.LastSyncResourceVersion);
        Assert.Equal(["add a", "add d"], Events());
    }

    public override async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run.WaitAsync(TimeSpan.FromSeconds(10));
        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        _stop.Dispose();
        base.Dispose(disposing);
    }

    private async Task StartAndSync()
    {
        _run = _informer.RunAsync(_stop.Token);
        await _informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));
    }

    private void Record(string e)
    {
        lock (_events)
        {
            _events.Add(e);
        }
    }

    private string[] Events()
    {
        lock (_events)
        {
            return [.. _events];
        }
    }
}

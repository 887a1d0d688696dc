using k8s.Models;
using Karpenter.Kube.Informers;
using Karpenter.Tests.Kube.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static Karpenter.Tests.Kube.Support.Objects;

namespace Karpenter.Tests.Kube.Informers;

public sealed class InformerTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedKubeClient _client = new();
    private readonly InformerOptions _options = new() { WatchdogTimeout = TimeSpan.FromMinutes(11), InitialBackoff = TimeSpan.FromSeconds(1) };
    private readonly List<string> _events = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Informer<V1Pod> _informer;
    private Task? _run;

    public InformerTests()
    {
        _informer = new Informer<V1Pod>(_client, InformerScope.All, _options, _time, NullLogger.Instance);
        _informer.AddEventHandler(new InformerHandler<V1Pod>(
            p => Record($"add {p.Metadata.Name}@{p.Metadata.ResourceVersion}"),
            (o, n) => Record($"update {n.Metadata.Name}@{o.Metadata.ResourceVersion}->{n.Metadata.ResourceVersion}"),
            p => Record($"delete {p.Metadata.Name}@{p.Metadata.ResourceVersion}")));
    }

    [Fact]
    public async Task Lists_then_watches_from_the_lists_resource_version_with_bookmarks()
    {
        _client.ScriptList("10", Pod("a", "5"), Pod("b", "7"));
        var watch = _client.ScriptWatch();

        await StartAndSync();
        await ExpectWatches(1);

        Assert.Equal("10", _client.WatchCalls[0].ResourceVersion);
        Assert.True(_client.WatchCalls[0].AllowBookmarks);
        Assert.Equal(["add a@5", "add b@7"], Events());

        await watch.WriteAsync(Added(Pod("c", "11")));
        await watch.WriteAsync(Modified(Pod("a", "12")));
        await watch.WriteAsync(Deleted(Pod("b", "13")));
        await watch.WriteAsync(Bookmark("20"));
        await Eventually(() => _informer.LastSyncResourceVersion == "20");

        Assert.Equal(["add a@5", "add b@7", "add c@11", "update a@5->12", "delete b@13"], Events());
        Assert.Equal(["a", "c"], _informer.List().Select(p => p.Metadata.Name).Order());
    }

    [Fact]
    public async Task An_expired_watch_relists_and_emits_synthetic_deletes_for_what_vanished()
    {
        _client.ScriptList("10", Pod("a", "5"), Pod("b", "7"));
        var first = _client.ScriptWatch();
        _client.ScriptList("50", Pod("a", "40"), Pod("c", "45"));
        _client.ScriptWatch();

        await StartAndSync();
        await first.WriteAsync(Expired());
        await ExpectWatches(2);

        Assert.Equal(2, _client.ListCalls.Count);
        Assert.Equal("50", _client.WatchCalls[1].ResourceVersion);
        Assert.Equal(["add a@5", "add b@7", "delete b@7", "add c@45", "update a@5->40"], Events());
        Assert.Null(_informer.Get(new("default", "b")));
    }

    [Fact]
    public async Task A_watch_that_ends_is_resumed_from_the_last_resource_version_without_relisting()
    {
        _client.ScriptList("10", Pod("a", "5"));
        var first = _client.ScriptWatch();
        _client.ScriptWatch();

        await StartAndSync();
        await first.WriteAsync(Modified(Pod("a", "15")));
        first.Complete();
        await ExpectWatches(2);

        Assert.Single(_client.ListCalls);
        Assert.Equal("15", _client.WatchCalls[1].ResourceVersion);
    }

    [Fact]
    public async Task A_silent_watch_is_replaced_by_the_watchdog()
    {
        _client.ScriptList("10", Pod("a", "5"));

        await StartAndSync();
        await ExpectWatches(1);
        _time.Advance(_options.WatchdogTimeout - TimeSpan.FromSeconds(1));
        await Task.Delay(20);
        Assert.Equal(1, _client.WatchCount);

        _time.Advance(TimeSpan.FromSeconds(1));
        await ExpectWatches(2);

        Assert.Single(_client.ListCalls);
        Assert.Equal("10", _client.WatchCalls[1].ResourceVersion);
    }

    [Fact]
    public async Task A_failed_list_is_retried_with_backoff_before_sync()
    {
        _client.ScriptListFailure(new HttpRequestException("connection refused"));
        _client.ScriptList("10", Pod("a", "5"));

        _run = _informer.RunAsync(_stop.Token);
        await Eventually(() => _client.ListCalls.Count == 1);
        Assert.False(_informer.HasSynced);

        _time.Advance(_options.InitialBackoff);
        await _informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, _client.ListCalls.Count);
    }

    [Fact]
    public async Task Secondary_indexes_follow_changes()
    {
        _informer.AddIndex("spec.nodeName", p => p.Spec?.NodeName is { } n ? [n] : []);
        _client.ScriptList("10", Pod("a", "5", node: "n1"), Pod("b", "6", node: "n1"), Pod("c", "7"));
        var watch = _client.ScriptWatch();

        await StartAndSync();
        Assert.Equal(["a", "b"], _informer.ByIndex("spec.nodeName", "n1").Select(p => p.Metadata.Name).Order());

        await watch.WriteAsync(Modified(Pod("a", "11", node: "n2")));
        await watch.WriteAsync(Deleted(Pod("b", "12", node: "n1")));
        await Eventually(() => _informer.LastSyncResourceVersion == "12");

        Assert.Empty(_informer.ByIndex("spec.nodeName", "n1"));
        Assert.Equal(["a"], _informer.ByIndex("spec.nodeName", "n2").Select(p => p.Metadata.Name));
    }

    [Fact]
    public async Task A_late_handler_gets_the_cached_objects_replayed_as_adds()
    {
        _client.ScriptList("10", Pod("a", "5"));
        await StartAndSync();

        var late = new List<string>();
        using var subscription = _informer.AddEventHandler(InformerHandler.Any<V1Pod>(p => late.Add(p.Metadata.Name)));

        Assert.Equal(["a"], late);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_run is not null)
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(10));
        }

        _stop.Dispose();
    }

    private async Task StartAndSync()
    {
        _run = _informer.RunAsync(_stop.Token);
        await _informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
    }

    private Task ExpectWatches(int count) => Eventually(() => _client.WatchCount >= count);

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

    private static async Task Eventually(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(2, timeout.Token);
        }
    }
}

public sealed class InformerOptionsTests
{
    [Fact]
    public void Defaults_are_valid_and_a_watchdog_shorter_than_a_quiet_watch_is_refused()
    {
        var validator = new InformerOptionsValidator();

        Assert.True(validator.Validate(null, new InformerOptions()).Succeeded);
        var result = validator.Validate(null, new InformerOptions { MinWatchTimeout = TimeSpan.FromMinutes(5), WatchdogTimeout = TimeSpan.FromMinutes(9) });
        Assert.True(result.Failed);
        Assert.Contains("WatchdogTimeout", result.FailureMessage, StringComparison.Ordinal);
    }
}

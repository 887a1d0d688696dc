using k8s;
using k8s.Models;
using Karpenter.Tests.Support;
using static Karpenter.Tests.Sim.KubeApi.KubeApiExpectations;

namespace Karpenter.Tests.Sim.KubeApi;

/// <summary>LIST (selectors, pagination) and WATCH (events, bookmarks, expiry, selector transitions).</summary>
public sealed class ListAndWatchTests(KubeApiFixture api) : IClassFixture<KubeApiFixture>
{
    private IKubernetes Client => api.Client;

    private static readonly TimeSpan WatchTimeout = TimeSpan.FromSeconds(10);

    private async Task<string> NamespaceWithPodsAsync(params (string Name, string App, string? Node)[] pods)
    {
        var ns = await api.CreateNamespaceAsync();
        foreach (var (name, app, node) in pods)
        {
            await Client.CoreV1.CreateNamespacedPodAsync(Pod(name, labels: new Dictionary<string, string> { ["app"] = app }, nodeName: node), ns);
        }

        return ns;
    }

    [Fact]
    public async Task Label_selectors_support_equality_and_set_based_requirements()
    {
        var ns = await NamespaceWithPodsAsync(("a", "web", null), ("b", "db", null), ("c", "cache", null));

        async Task<string[]> Names(string selector) =>
            (await Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector)).Items.Select(p => p.Metadata.Name).Order().ToArray();

        Assert.Equal(["a"], await Names("app=web"));
        Assert.Equal(["b", "c"], await Names("app!=web"));
        Assert.Equal(["a", "b"], await Names("app in (web, db)"));
        Assert.Equal(["c"], await Names("app notin (web,db)"));
        Assert.Equal(["a", "b", "c"], await Names("app"));
        Assert.Empty(await Names("!app"));
        await ExpectStatusAsync(400, "BadRequest", () => Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: "app in web"));
    }

    [Fact]
    public async Task Field_selectors_support_the_real_keys_and_refuse_others_with_400()
    {
        var ns = await NamespaceWithPodsAsync(("bound", "x", "node-1"), ("pending", "x", null));

        var unscheduled = await Client.CoreV1.ListNamespacedPodAsync(ns, fieldSelector: "spec.nodeName=");
        Assert.Equal(["pending"], unscheduled.Items.Select(p => p.Metadata.Name));
        var onNode = await Client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "spec.nodeName=node-1,metadata.namespace=" + ns);
        Assert.Equal(["bound"], onNode.Items.Select(p => p.Metadata.Name));
        var phase = await Client.CoreV1.ListNamespacedPodAsync(ns, fieldSelector: "status.phase!=Running");
        Assert.Equal(2, phase.Items.Count);

        var status = await ExpectStatusAsync(400, "BadRequest", () => Client.CoreV1.ListNamespacedPodAsync(ns, fieldSelector: "spec.priority=1"));
        Assert.Equal("field label not supported: spec.priority", status.Message);
    }

    [Fact]
    public async Task Limit_and_continue_page_through_one_consistent_snapshot()
    {
        var ns = await NamespaceWithPodsAsync(("p1", "x", null), ("p2", "x", null), ("p3", "x", null), ("p4", "x", null), ("p5", "x", null));

        var first = await Client.CoreV1.ListNamespacedPodAsync(ns, limit: 2);
        Assert.Equal(["p1", "p2"], first.Items.Select(p => p.Metadata.Name));
        Assert.Equal(3, first.Metadata.RemainingItemCount);

        // A change after the first page does not leak into later pages.
        await Client.CoreV1.CreateNamespacedPodAsync(Pod("p6"), ns);
        await Client.CoreV1.DeleteNamespacedPodAsync("p5", ns);

        var second = await Client.CoreV1.ListNamespacedPodAsync(ns, limit: 2, continueParameter: first.Metadata.ContinueProperty);
        var third = await Client.CoreV1.ListNamespacedPodAsync(ns, limit: 2, continueParameter: second.Metadata.ContinueProperty);

        Assert.Equal(["p3", "p4"], second.Items.Select(p => p.Metadata.Name));
        Assert.Equal(["p5"], third.Items.Select(p => p.Metadata.Name));
        Assert.Null(third.Metadata.ContinueProperty);
        Assert.Equal(first.Metadata.ResourceVersion, third.Metadata.ResourceVersion);

        await ExpectStatusAsync(400, "BadRequest", () => Client.CoreV1.ListNamespacedPodAsync(ns, limit: 2, continueParameter: "not-a-token"));
    }

    [Fact]
    public async Task Pages_stay_inside_their_namespace_next_to_namespaces_that_share_its_prefix()
    {
        var ns = await api.CreateNamespaceAsync("paging");
        foreach (var neighbour in new[] { ns + "0", ns + "-x" })
        {
            await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = neighbour } });
            await Client.CoreV1.CreateNamespacedPodAsync(Pod("n1", labels: new Dictionary<string, string> { ["paged"] = ns }), neighbour);
        }

        foreach (var name in new[] { "a", "b", "c" })
        {
            await Client.CoreV1.CreateNamespacedPodAsync(Pod(name, labels: new Dictionary<string, string> { ["paged"] = ns }), ns);
        }

        var names = new List<string>();
        var remaining = new List<long?>();
        string? next = null;
        do
        {
            var page = await Client.CoreV1.ListNamespacedPodAsync(ns, limit: 1, continueParameter: next);
            names.AddRange(page.Items.Select(p => p.Metadata.Name));
            remaining.Add(page.Metadata.RemainingItemCount);
            next = page.Metadata.ContinueProperty;
        }
        while (next is not null);

        Assert.Equal(["a", "b", "c"], names);
        Assert.Equal([2, 1, null], remaining);

        // Across namespaces with a selector: every match once, in key order, no count (selectors hide it).
        var all = new List<string>();
        next = null;
        do
        {
            var page = await Client.CoreV1.ListPodForAllNamespacesAsync(labelSelector: "paged=" + ns, limit: 2, continueParameter: next);
            Assert.Null(page.Metadata.RemainingItemCount);
            all.AddRange(page.Items.Select(p => p.Metadata.NamespaceProperty + "/" + p.Metadata.Name));
            next = page.Metadata.ContinueProperty;
        }
        while (next is not null);

        Assert.Equal([$"{ns}-x/n1", $"{ns}/a", $"{ns}/b", $"{ns}/c", $"{ns}0/n1"], all);
    }

    [Fact]
    public async Task An_expired_continue_token_is_410_with_a_fresh_token()
    {
        var ns = await NamespaceWithPodsAsync(("q1", "x", null), ("q2", "x", null), ("q3", "x", null));
        var first = await Client.CoreV1.ListNamespacedPodAsync(ns, limit: 1);
        await Client.CoreV1.CreateNamespacedPodAsync(Pod("q4"), ns);
        api.Server.CompactHistory();

        var status = await ExpectStatusAsync(410, "Expired", () => Client.CoreV1.ListNamespacedPodAsync(ns, limit: 1, continueParameter: first.Metadata.ContinueProperty));
        Assert.StartsWith("The provided continue parameter is too old", status.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(status.Metadata.ContinueProperty));
    }

    [Fact]
    public async Task Watch_from_a_resource_version_delivers_added_modified_deleted_in_order()
    {
        var ns = await api.CreateNamespaceAsync();
        var list = await Client.CoreV1.ListNamespacedPodAsync(ns);
        using var cts = new CancellationTokenSource(WatchTimeout);
        using var watchClient = api.NewClient();
        var events = new List<(WatchEventType, string, string)>();
        var watching = Task.Run(async () =>
        {
            await foreach (var (type, pod) in watchClient.CoreV1.WatchListNamespacedPodAsync(ns, resourceVersion: list.Metadata.ResourceVersion, cancellationToken: cts.Token))
            {
                events.Add((type, pod.Metadata.Name, pod.Metadata.ResourceVersion));
                if (type == WatchEventType.Deleted)
                {
                    break;
                }
            }
        });

        var created = await Client.CoreV1.CreateNamespacedPodAsync(Pod("w"), ns);
        var noop = await Client.CoreV1.ReplaceNamespacedPodAsync(created, "w", ns);
        var labelled = await Client.CoreV1.PatchNamespacedPodAsync(new V1Patch("{\"metadata\":{\"labels\":{\"a\":\"b\"}}}", V1Patch.PatchType.MergePatch), "w", ns);
        await Client.CoreV1.DeleteNamespacedPodAsync("w", ns);
        await watching;

        Assert.Equal(created.Metadata.ResourceVersion, noop.Metadata.ResourceVersion);
        Assert.Equal([WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted], events.Select(e => e.Item1));
        Assert.Equal(created.Metadata.ResourceVersion, events[0].Item3);
        Assert.Equal(labelled.Metadata.ResourceVersion, events[1].Item3);
        Assert.True(long.Parse(events[2].Item3, System.Globalization.CultureInfo.InvariantCulture) > Rv(labelled), "DELETED carries the deletion revision");
    }

    [Fact]
    public async Task Watch_without_a_resource_version_starts_with_synthetic_added_events()
    {
        var ns = await NamespaceWithPodsAsync(("s1", "x", null), ("s2", "x", null));
        using var cts = new CancellationTokenSource(WatchTimeout);
        var names = new List<string>();
        await foreach (var (type, pod) in Client.CoreV1.WatchListNamespacedPodAsync(ns, cancellationToken: cts.Token))
        {
            Assert.Equal(WatchEventType.Added, type);
            names.Add(pod.Metadata.Name);
            if (names.Count == 2)
            {
                break;
            }
        }

        Assert.Equal(["s1", "s2"], names);
    }

    [Fact]
    public async Task Selector_transitions_arrive_as_added_and_deleted()
    {
        var ns = await NamespaceWithPodsAsync(("t", "blue", null));
        var list = await Client.CoreV1.ListNamespacedPodAsync(ns);
        using var cts = new CancellationTokenSource(WatchTimeout);
        using var watchClient = api.NewClient();
        var events = new List<(WatchEventType, string?)>();
        var watching = Task.Run(async () =>
        {
            await foreach (var (type, pod) in watchClient.CoreV1.WatchListNamespacedPodAsync(ns, labelSelector: "app=green", resourceVersion: list.Metadata.ResourceVersion, cancellationToken: cts.Token))
            {
                events.Add((type, pod.Metadata.Labels?["app"]));
                if (events.Count == 2)
                {
                    break;
                }
            }
        });

        await Client.CoreV1.PatchNamespacedPodAsync(new V1Patch("{\"metadata\":{\"labels\":{\"app\":\"green\"}}}", V1Patch.PatchType.MergePatch), "t", ns);
        await Client.CoreV1.PatchNamespacedPodAsync(new V1Patch("{\"metadata\":{\"labels\":{\"app\":\"red\"}}}", V1Patch.PatchType.MergePatch), "t", ns);
        await watching;

        Assert.Equal([(WatchEventType.Added, "green"), (WatchEventType.Deleted, "green")], events);
    }

    [Fact]
    public async Task A_too_old_resource_version_ends_the_watch_with_a_410_expired_error()
    {
        var ns = await api.CreateNamespaceAsync();
        var before = await Client.CoreV1.ListNamespacedPodAsync(ns);
        await Client.CoreV1.CreateNamespacedPodAsync(Pod("x"), ns);
        api.Server.CompactHistory();

        Exception? error = null;
        using var cts = new CancellationTokenSource(WatchTimeout);
        var seen = 0;
        await foreach (var _ in Client.CoreV1.WatchListNamespacedPodAsync(ns, resourceVersion: before.Metadata.ResourceVersion, onError: e => error = e, cancellationToken: cts.Token))
        {
            seen++;
        }

        Assert.Equal(0, seen);
        var status = Assert.IsType<KubernetesException>(error).Status;
        Assert.Equal(410, status.Code);
        Assert.Equal("Expired", status.Reason);
        Assert.StartsWith("too old resource version: " + before.Metadata.ResourceVersion, status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bookmarks_are_sent_only_to_watches_that_ask_for_them_and_carry_the_current_revision()
    {
        var ns = await api.CreateNamespaceAsync();
        var list = await Client.CoreV1.ListNamespacedPodAsync(ns);
        using var cts = new CancellationTokenSource(WatchTimeout);
        using var watchClient = api.NewClient();
        var started = new TaskCompletionSource();
        var bookmark = Task.Run(async () =>
        {
            await foreach (var (type, pod) in watchClient.CoreV1.WatchListNamespacedPodAsync(ns, allowWatchBookmarks: true, resourceVersion: list.Metadata.ResourceVersion, cancellationToken: cts.Token))
            {
                if (type == WatchEventType.Bookmark)
                {
                    return pod.Metadata.ResourceVersion;
                }
            }

            return null;
        });

        // Step the server clock past the bookmark interval until the watch has one.
        while (!bookmark.IsCompleted && !cts.IsCancellationRequested)
        {
            api.Clock.Advance(TimeSpan.FromMinutes(1));
            await Task.WhenAny(bookmark, Task.Delay(20));
        }

        var revision = long.Parse((await bookmark)!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(revision >= long.Parse(list.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Watch_timeout_ends_the_stream_without_an_error()
    {
        // (KubernetesClient 21 reports an empty watch body that ends as an EndOfStream error, against a real
        // server too; one event before the timeout keeps this test about the server.)
        var ns = await NamespaceWithPodsAsync(("only", "x", null));
        using var cts = new CancellationTokenSource(WatchTimeout);
        Exception? error = null;
        var watch = Task.Run(async () =>
        {
            await foreach (var _ in Client.CoreV1.WatchListNamespacedPodAsync(ns, timeoutSeconds: 30, onError: e => error = e, cancellationToken: cts.Token))
            {
            }
        });

        while (!watch.IsCompleted && !cts.IsCancellationRequested)
        {
            api.Clock.Advance(TimeSpan.FromSeconds(31));
            await Task.WhenAny(watch, Task.Delay(20));
        }

        await watch;
        Assert.Null(error);
        Assert.False(cts.IsCancellationRequested);
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using k8s;
using k8s.Models;
using Karpenter.Sim.KubeApi;

namespace Karpenter.Benchmarks.KubeApi;

/// <summary>
/// Throughput of the in-memory API server at simulation scale: creates of 5,000 nodes and 50,000 pods over
/// HTTP, full and paginated LISTs of the pods, and WATCH fan-out (N watchers each receiving every change).
/// </summary>
internal static class KubeApiBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var pods = Option(args, "--pods", 50_000);
        var nodes = Option(args, "--nodes", 5_000);
        var watchers = Option(args, "--watchers", 10);
        var changes = Option(args, "--changes", 5_000);
        var concurrency = Option(args, "--concurrency", 16);

        await using var server = await KubeApiServer.StartAsync();
        using var client = new Kubernetes(server.ClientConfiguration);
        Console.WriteLine($"kubeapi benchmark: {nodes:N0} nodes, {pods:N0} pods, {watchers} watchers, {changes:N0} changes, {concurrency} concurrent clients");

        var namespaces = Enumerable.Range(0, 50).Select(i => $"ns-{i:D2}").ToList();
        foreach (var ns in namespaces)
        {
            await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        }

        var created = Stopwatch.StartNew();
        await ParallelAsync(nodes, concurrency, i => client.CoreV1.CreateNodeAsync(new V1Node
        {
            Metadata = new V1ObjectMeta { Name = $"node-{i:D5}", Labels = new Dictionary<string, string> { ["karpenter.sh/nodepool"] = "default" } },
            Spec = new V1NodeSpec { ProviderID = $"aws:///us-east-1a/i-{i:D17}" },
        }));
        var nodeSeconds = created.Elapsed.TotalSeconds;
        Report("create nodes", nodes, nodeSeconds);

        created.Restart();
        await ParallelAsync(pods, concurrency, i => client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = $"pod-{i:D6}", Labels = new Dictionary<string, string> { ["app"] = $"app-{i % 100}" } },
            Spec = new V1PodSpec
            {
                NodeName = $"node-{i % nodes:D5}",
                Containers = [new V1Container { Name = "main", Image = "registry.k8s.io/pause:3.10", Resources = new V1ResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("100m"), ["memory"] = new("128Mi") } } }],
            },
        }, namespaces[i % namespaces.Count]));
        Report("create pods", pods, created.Elapsed.TotalSeconds);
        GC.Collect();
        Console.WriteLine($"  managed heap after load: {GC.GetTotalMemory(true) / (1024 * 1024):N0} MiB");

        using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        var full = new List<double>();
        long bytes = 0;
        for (var run = 0; run < 5; run++)
        {
            var sw = Stopwatch.StartNew();
            var body = await http.GetByteArrayAsync("/api/v1/pods");
            full.Add(sw.Elapsed.TotalSeconds);
            bytes = body.Length;
        }

        Console.WriteLine($"  list all pods (raw HTTP): median {Median(full) * 1000:N0} ms for {pods:N0} pods, {bytes / (1024 * 1024):N0} MiB ({pods / Median(full):N0} objects/s)");

        var typed = new List<double>();
        for (var run = 0; run < 3; run++)
        {
            var sw = Stopwatch.StartNew();
            var list = await client.CoreV1.ListPodForAllNamespacesAsync();
            typed.Add(sw.Elapsed.TotalSeconds);
            if (list.Items.Count != pods)
            {
                throw new InvalidOperationException($"listed {list.Items.Count} pods, expected {pods}");
            }
        }

        Console.WriteLine($"  list all pods (KubernetesClient, deserialised): median {Median(typed) * 1000:N0} ms");

        var paged = Stopwatch.StartNew();
        var pages = 0;
        string? next = null;
        var count = 0;
        do
        {
            var page = await client.CoreV1.ListPodForAllNamespacesAsync(limit: 500, continueParameter: next);
            count += page.Items.Count;
            next = page.Metadata.ContinueProperty;
            pages++;
        }
        while (!string.IsNullOrEmpty(next));
        Console.WriteLine($"  paginated list (limit 500): {pages} pages, {count:N0} pods in {paged.Elapsed.TotalMilliseconds:N0} ms");

        var selected = Stopwatch.StartNew();
        var onNode = await client.CoreV1.ListPodForAllNamespacesAsync(fieldSelector: "spec.nodeName=node-00042");
        var byLabel = await client.CoreV1.ListPodForAllNamespacesAsync(labelSelector: "app in (app-1,app-2)");
        Console.WriteLine($"  selector lists: spec.nodeName= ({onNode.Items.Count} pods) and app in (..) ({byLabel.Items.Count} pods) in {selected.Elapsed.TotalMilliseconds:N0} ms together");

        // Watch fan-out: every watcher sees every change.
        var start = (await client.CoreV1.ListNamespacedPodAsync("ns-00", limit: 1)).Metadata.ResourceVersion;
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var received = new long[watchers];
        var done = new TaskCompletionSource[watchers];
        var streams = new List<Task>();
        for (var w = 0; w < watchers; w++)
        {
            var index = w;
            done[index] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            streams.Add(Task.Run(async () =>
            {
                using var response = await http.GetAsync($"/api/v1/pods?watch=true&resourceVersion={start}", HttpCompletionOption.ResponseHeadersRead, cts.Token);
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token), Encoding.UTF8);
                while (await reader.ReadLineAsync(cts.Token) is { } line)
                {
                    if (line.Length > 0 && Interlocked.Increment(ref received[index]) == changes)
                    {
                        done[index].TrySetResult();
                    }
                }
            }, cts.Token));
        }

        await Task.Delay(500);
        var fanout = Stopwatch.StartNew();
        await ParallelAsync(changes, concurrency, i => client.CoreV1.PatchNamespacedPodAsync(
            new V1Patch($"{{\"metadata\":{{\"labels\":{{\"round\":\"r{i}\"}}}}}}", V1Patch.PatchType.MergePatch), $"pod-{i % pods:D6}", namespaces[i % pods % namespaces.Count]));
        var writeSeconds = fanout.Elapsed.TotalSeconds;
        await Task.WhenAll(done.Select(d => d.Task));
        var deliverSeconds = fanout.Elapsed.TotalSeconds;
        await cts.CancelAsync();
        Report("patch pods (while watched)", changes, writeSeconds);
        Console.WriteLine($"  watch fan-out: {watchers} watchers x {changes:N0} events = {(long)watchers * changes:N0} events delivered in {deliverSeconds:N2} s ({(long)watchers * changes / deliverSeconds:N0} events/s)");
        try
        {
            await Task.WhenAll(streams);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
            // The watches were cancelled on purpose.
        }

        return 0;
    }

    private static void Report(string what, int count, double seconds) =>
        Console.WriteLine($"  {what}: {count:N0} in {seconds:N2} s ({count / seconds:N0}/s)");

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static async Task ParallelAsync(int count, int concurrency, Func<int, Task> action)
    {
        var next = -1;
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await action(i);
            }
        });
        await Task.WhenAll(workers);
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : fallback;
    }
}

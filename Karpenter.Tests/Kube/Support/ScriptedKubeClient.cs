using System.Runtime.CompilerServices;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Karpenter.Kube.Client;

namespace Karpenter.Tests.Kube.Support;

/// <summary>
/// An <see cref="IKubeClient"/> whose lists and watches a test scripts: each list answers with the next scripted
/// page set, each watch streams from the next scripted channel (so the test decides when events, errors and the
/// end of a watch happen). Writes record their calls and answer from <see cref="OnPatch"/>.
/// </summary>
internal sealed class ScriptedKubeClient : IKubeClient
{
    private readonly Queue<Func<object>> _lists = new();
    private readonly Queue<Channel<object>> _watches = new();
    private readonly Lock _lock = new();

    public List<WatchOptions> WatchCalls { get; } = [];

    public List<ListOptions> ListCalls { get; } = [];

    public List<(string Name, KubePatch Patch)> Patches { get; } = [];

    public Func<string, KubePatch, object>? OnPatch { get; set; }

    public Func<string, object?>? OnGet { get; set; }

    public void ScriptList<T>(string resourceVersion, params T[] items)
        where T : class
    {
        lock (_lock)
        {
            _lists.Enqueue(() => new KubeList<T>(items, resourceVersion, null));
        }
    }

    public void ScriptListFailure(Exception e)
    {
        lock (_lock)
        {
            _lists.Enqueue(() => throw e);
        }
    }

    /// <summary>Scripts the next watch; write events to the returned channel and complete it to end the watch.</summary>
    public ChannelWriter<object> ScriptWatch()
    {
        var channel = Channel.CreateUnbounded<object>();
        lock (_lock)
        {
            _watches.Enqueue(channel);
        }

        return channel.Writer;
    }

    public int WatchCount
    {
        get
        {
            lock (_lock)
            {
                return WatchCalls.Count;
            }
        }
    }

    public Task<KubeList<T>> ListAsync<T>(ListOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Func<object> next;
        lock (_lock)
        {
            ListCalls.Add(options ?? new ListOptions());
            if (!_lists.TryDequeue(out next!))
            {
                return Task.FromException<KubeList<T>>(new InvalidOperationException("no list scripted"));
            }
        }

        return Task.FromResult((KubeList<T>)next());
    }

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(WatchOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Channel<object>? channel;
        lock (_lock)
        {
            WatchCalls.Add(options);
            _watches.TryDequeue(out channel);
        }

        if (channel is null)
        {
            // Nothing scripted: a watch that stays open and silent until cancelled.
            await Task.Delay(Timeout.Infinite, cancellationToken);
            yield break;
        }

        await foreach (var e in channel.Reader.ReadAllAsync(cancellationToken))
        {
            yield return (WatchEvent<T>)e;
        }
    }

    public Task<T> GetAsync<T>(string name, string? ns = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta> =>
        OnGet?.Invoke(name) is T found ? Task.FromResult(found) : throw new KubeNotFoundException($"{name} not found");

    public Task<T> PatchAsync<T>(string name, string? ns, KubePatch patch, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        lock (_lock)
        {
            Patches.Add((name, patch));
        }

        return Task.FromResult((T)(OnPatch ?? throw new InvalidOperationException("no patch scripted"))(name, patch));
    }

    public List<object> Created { get; } = [];

    public Task<T> CreateAsync<T>(T obj, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        lock (_lock)
        {
            Created.Add(obj);
        }

        return Task.FromResult(obj);
    }

    public int CreatedCount
    {
        get
        {
            lock (_lock)
            {
                return Created.Count;
            }
        }
    }

    public Task<T> UpdateAsync<T>(T obj, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta> => throw new NotSupportedException();

    public Task<T> UpdateStatusAsync<T>(T obj, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta> => throw new NotSupportedException();

    public Task<T> PatchStatusAsync<T>(string name, string? ns, KubePatch patch, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta> => throw new NotSupportedException();

    public Task<T?> DeleteAsync<T>(string name, string? ns = null, V1DeleteOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta> => throw new NotSupportedException();

    public Task EvictAsync(string podName, string ns, V1DeleteOptions? deleteOptions = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public Task BindAsync(string podName, string ns, string nodeName, string? podUid = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();
}

internal static class Objects
{
    public static V1Pod Pod(string name, string rv, string? node = null, string ns = "default") => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, ResourceVersion = rv, Uid = $"uid-{name}" },
        Spec = new V1PodSpec { NodeName = node, Containers = [] },
    };

    public static WatchEvent<V1Pod> Added(V1Pod p) => new(WatchEventType.Added, p);

    public static WatchEvent<V1Pod> Modified(V1Pod p) => new(WatchEventType.Modified, p);

    public static WatchEvent<V1Pod> Deleted(V1Pod p) => new(WatchEventType.Deleted, p);

    public static WatchEvent<V1Pod> Bookmark(string rv) => new(WatchEventType.Bookmark, new V1Pod { Metadata = new V1ObjectMeta { ResourceVersion = rv } });

    public static WatchEvent<V1Pod> Expired(string message = "too old resource version: 10 (50)") =>
        new(WatchEventType.Error, null, new V1Status { Code = 410, Reason = "Expired", Message = message, Status = "Failure" });
}

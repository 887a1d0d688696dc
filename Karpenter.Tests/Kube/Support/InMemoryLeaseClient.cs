using System.Runtime.CompilerServices;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Karpenter.Kube.Client;

namespace Karpenter.Tests.Kube.Support;

/// <summary>
/// Leases held in memory with the API server's rules that leader election relies on: a global resourceVersion,
/// 409 Conflict for a stale resourceVersion on update, 409 AlreadyExists on a duplicate create, 404 when absent,
/// and watch notifications. Several electors share one instance as they would share an API server.
/// </summary>
internal sealed class InMemoryLeaseClient : IKubeClient
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, V1Lease> _leases = [];
    private readonly List<Channel<WatchEvent<V1Lease>>> _watchers = [];
    private long _rv;

    /// <summary>When set, every call fails (a partitioned candidate).</summary>
    public Func<string, bool> FailFor { get; set; } = _ => false;

    public V1Lease? Lease(string name)
    {
        lock (_lock)
        {
            return _leases.TryGetValue(name, out var l) ? KubeObjects.DeepClone(l) : null;
        }
    }

    /// <summary>A client view for one candidate (so a test can cut that candidate off).</summary>
    public IKubeClient For(string identity) => new View(this, identity);

    public Task<T> GetAsync<T>(string name, string? ns = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        lock (_lock)
        {
            return _leases.TryGetValue(name, out var l)
                ? Task.FromResult((T)(object)KubeObjects.DeepClone(l))
                : throw new KubeNotFoundException(404, "NotFound", $"leases.coordination.k8s.io \"{name}\" not found");
        }
    }

    public Task<T> CreateAsync<T>(T obj, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var lease = KubeObjects.DeepClone((V1Lease)(object)obj);
        lock (_lock)
        {
            if (_leases.ContainsKey(lease.Metadata.Name))
            {
                throw new KubeAlreadyExistsException(409, "AlreadyExists", $"leases.coordination.k8s.io \"{lease.Metadata.Name}\" already exists");
            }

            lease.Metadata.ResourceVersion = (++_rv).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _leases[lease.Metadata.Name] = lease;
            Notify(WatchEventType.Added, lease);
            return Task.FromResult((T)(object)KubeObjects.DeepClone(lease));
        }
    }

    public Task<T> UpdateAsync<T>(T obj, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var lease = KubeObjects.DeepClone((V1Lease)(object)obj);
        lock (_lock)
        {
            if (!_leases.TryGetValue(lease.Metadata.Name, out var stored))
            {
                throw new KubeNotFoundException(404, "NotFound", "not found");
            }

            if (stored.Metadata.ResourceVersion != lease.Metadata.ResourceVersion)
            {
                throw new KubeConflictException(409, "Conflict", "the object has been modified; please apply your changes to the latest version and try again");
            }

            lease.Metadata.ResourceVersion = (++_rv).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _leases[lease.Metadata.Name] = lease;
            Notify(WatchEventType.Modified, lease);
            return Task.FromResult((T)(object)KubeObjects.DeepClone(lease));
        }
    }

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(WatchOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var channel = Channel.CreateUnbounded<WatchEvent<V1Lease>>();
        lock (_lock)
        {
            _watchers.Add(channel);
        }

        try
        {
            await foreach (var e in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return (WatchEvent<T>)(object)e;
            }
        }
        finally
        {
            lock (_lock)
            {
                _watchers.Remove(channel);
            }
        }
    }

    public Task<KubeList<T>> ListAsync<T>(ListOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta> => throw new NotSupportedException();

    public Task<T> UpdateStatusAsync<T>(T obj, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta> => throw new NotSupportedException();

    public Task<T> PatchAsync<T>(string name, string? ns, KubePatch patch, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta> => throw new NotSupportedException();

    public Task<T> PatchStatusAsync<T>(string name, string? ns, KubePatch patch, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta> => throw new NotSupportedException();

    public Task<T?> DeleteAsync<T>(string name, string? ns = null, V1DeleteOptions? options = null, CancellationToken cancellationToken = default)
        where T : class, IKubernetesObject<V1ObjectMeta> => throw new NotSupportedException();

    public Task EvictAsync(string podName, string ns, V1DeleteOptions? deleteOptions = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task BindAsync(string podName, string ns, string nodeName, string? podUid = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    private void Notify(WatchEventType type, V1Lease lease)
    {
        foreach (var w in _watchers)
        {
            w.Writer.TryWrite(new WatchEvent<V1Lease>(type, KubeObjects.DeepClone(lease)));
        }
    }

    private sealed class View(InMemoryLeaseClient server, string identity) : IKubeClient
    {
        public Task<T> GetAsync<T>(string name, string? ns = null, CancellationToken cancellationToken = default)
            where T : class, IKubernetesObject<V1ObjectMeta>
        {
            ThrowIfCut();
            return server.GetAsync<T>(name, ns, cancellationToken);
        }

        public Task<T> CreateAsync<T>(T obj, CancellationToken cancellationToken = default)
            where T : class, IKubernetesObject<V1ObjectMeta>
        {
            ThrowIfCut();
            return server.CreateAsync(obj, cancellationToken);
        }

        public Task<T> UpdateAsync<T>(T obj, CancellationToken cancellationToken = default)
            where T : class, IKubernetesObject<V1ObjectMeta>
        {
            ThrowIfCut();
            return server.UpdateAsync(obj, cancellationToken);
        }

        public IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(WatchOptions options, CancellationToken cancellationToken = default)
            where T : class, IKubernetesObject<V1ObjectMeta> => server.WatchAsync<T>(options, cancellationToken);

        public Task<KubeList<T>> ListAsync<T>(ListOptions? options = null, CancellationToken cancellationToken = default)
            where T : class, IKubernetesObject<V1ObjectMeta> => server.ListAsync<T>(options, cancellationToken);

        public Task<T> UpdateStatusAsync<T>(T obj, CancellationToken cancellationToken = default)
            where T : class, IKubernetesObject<V1ObjectMeta> => server.UpdateStatusAsync(obj, cancellationToken);

        public Task<T> PatchAsync<T>(string name, string? ns, KubePatch patch, CancellationToken cancellationToken = default)
            where T : class, IKubernetesObject<V1ObjectMeta> => server.PatchAsync<T>(name, ns, patch, cancellationToken);

        public Task<T> PatchStatusAsync<T>(string name, string? ns, KubePatch patch, CancellationToken cancellationToken = default)
            where T : class, IKubernetesObject<V1ObjectMeta> => server.PatchStatusAsync<T>(name, ns, patch, cancellationToken);

        public Task<T?> DeleteAsync<T>(string name, string? ns = null, V1DeleteOptions? options = null, CancellationToken cancellationToken = default)
            where T : class, IKubernetesObject<V1ObjectMeta> => server.DeleteAsync<T>(name, ns, options, cancellationToken);

        public Task EvictAsync(string podName, string ns, V1DeleteOptions? deleteOptions = null, CancellationToken cancellationToken = default) =>
            server.EvictAsync(podName, ns, deleteOptions, cancellationToken);

        public Task BindAsync(string podName, string ns, string nodeName, string? podUid = null, CancellationToken cancellationToken = default) =>
            server.BindAsync(podName, ns, nodeName, podUid, cancellationToken);

        private void ThrowIfCut()
        {
            if (server.FailFor(identity))
            {
                throw new HttpRequestException("network partition");
            }
        }
    }
}

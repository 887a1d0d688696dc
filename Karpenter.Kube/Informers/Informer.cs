using System.Collections.Immutable;
using k8s;
using k8s.Models;
using Karpenter.Kube.Client;
using Microsoft.Extensions.Logging;

namespace Karpenter.Kube.Informers;

/// <summary>
/// A cache of one type (within one <see cref="InformerScope"/>) kept current by LIST then WATCH, as client-go's
/// reflector and YARP's <c>ResourceInformer</c> do:
/// <list type="bullet">
/// <item>paginated LIST, then WATCH from the list's resourceVersion with bookmarks, tracking the last
/// resourceVersion seen in events and bookmarks;</item>
/// <item>on 410 (an HTTP error or an <c>Expired</c> ERROR event in the stream) it re-lists and emits synthetic
/// deletes for objects that vanished meanwhile, so no delete is ever lost;</item>
/// <item>failed lists and watches are retried with exponential backoff; a watch silent for longer than the
/// watchdog timeout is replaced;</item>
/// <item>secondary indexes (e.g. pods by <c>spec.nodeName</c>) and event handlers.</item>
/// </list>
/// Objects returned by the cache are shared: clone before modifying (see <see cref="KubeObjects.DeepClone{T}"/>).
/// </summary>
public sealed class Informer<T> : IInformer
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Lock _storeLock = new();
    private readonly Lock _dispatchLock = new();
    private readonly Dictionary<ObjectKey, T> _store = [];
    private readonly Dictionary<string, Index> _indexes = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IKubeClient _client;
    private readonly InformerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private ImmutableArray<IInformerHandler<T>> _handlers = [];
    private string? _resourceVersion;

    public Informer(IKubeClient client, InformerScope scope, InformerOptions options, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _client = client;
        Scope = scope;
        _options = options;
        _time = time;
        _logger = logger;
        var r = KubeResource.Of<T>();
        Description = r.QualifiedResource
            + (scope.Namespace is null ? string.Empty : $" in {scope.Namespace}")
            + (scope.LabelSelector is null ? string.Empty : $" labels({scope.LabelSelector})")
            + (scope.FieldSelector is null ? string.Empty : $" fields({scope.FieldSelector})");
    }

    public InformerScope Scope { get; }

    public string Description { get; }

    public bool HasSynced => _synced.Task.IsCompleted;

    /// <summary>The resourceVersion of the last list, event or bookmark stored.</summary>
    public string? LastSyncResourceVersion => Volatile.Read(ref _resourceVersion);

    /// <summary>How many objects the cache holds.</summary>
    public int Count
    {
        get
        {
            lock (_storeLock)
            {
                return _store.Count;
            }
        }
    }

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => _synced.Task.WaitAsync(cancellationToken);

    /// <summary>The cached object with <paramref name="key"/>, or null.</summary>
    public T? Get(ObjectKey key)
    {
        lock (_storeLock)
        {
            return _store.GetValueOrDefault(key);
        }
    }

    /// <summary>A snapshot of every cached object.</summary>
    public IReadOnlyList<T> List()
    {
        lock (_storeLock)
        {
            return [.. _store.Values];
        }
    }

    /// <summary>A snapshot of the cached objects matching a label selector (and, optionally, a namespace).</summary>
    public IReadOnlyList<T> List(LabelSelector selector, string? ns = null)
    {
        ArgumentNullException.ThrowIfNull(selector);
        lock (_storeLock)
        {
            return [.. _store.Values.Where(o => (ns is null || o.Metadata.NamespaceProperty == ns) && selector.Matches(o.Metadata.Labels))];
        }
    }

    /// <summary>The keys of every cached object.</summary>
    public IReadOnlyList<ObjectKey> Keys()
    {
        lock (_storeLock)
        {
            return [.. _store.Keys];
        }
    }

    /// <summary>
    /// Adds a secondary index: <paramref name="indexFunc"/> gives the index values of an object (none to leave it out).
    /// Existing objects are indexed at once. Query it with <see cref="ByIndex"/>.
    /// </summary>
    public void AddIndex(string name, Func<T, IEnumerable<string>> indexFunc)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(indexFunc);
        lock (_storeLock)
        {
            if (_indexes.ContainsKey(name))
            {
                throw new InvalidOperationException($"Informer {Description} already has an index named '{name}'.");
            }

            var index = new Index(indexFunc);
            foreach (var (key, obj) in _store)
            {
                index.Add(key, obj);
            }

            _indexes[name] = index;
        }
    }

    /// <summary>Whether an index of that name exists.</summary>
    public bool HasIndex(string name)
    {
        lock (_storeLock)
        {
            return _indexes.ContainsKey(name);
        }
    }

    /// <summary>The cached objects whose index <paramref name="indexName"/> contains <paramref name="value"/>.</summary>
    public IReadOnlyList<T> ByIndex(string indexName, string value)
    {
        lock (_storeLock)
        {
            if (!_indexes.TryGetValue(indexName, out var index))
            {
                throw new InvalidOperationException($"Informer {Description} has no index named '{indexName}'.");
            }

            return index.Lookup(value) is { } keys ? keys.Select(k => _store[k]).ToArray() : [];
        }
    }

    /// <summary>
    /// Registers a handler. Objects already cached are replayed to it as adds, so a late subscriber misses nothing.
    /// Dispose the result to unsubscribe.
    /// </summary>
    public IDisposable AddEventHandler(IInformerHandler<T> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_dispatchLock)
        {
            ImmutableInterlocked.Update(ref _handlers, h => h.Add(handler));
            foreach (var obj in List())
            {
                Invoke(() => handler.OnAdd(obj));
            }
        }

        return new Subscription(() => ImmutableInterlocked.Update(ref _handlers, h => h.Remove(handler)));
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var needList = true;
        var backoff = _options.InitialBackoff;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (needList)
                {
                    await ListAndReplaceAsync(cancellationToken);
                    needList = false;
                }

                var outcome = await WatchAsync(cancellationToken);
                needList = outcome == WatchOutcome.Expired;
                if (outcome != WatchOutcome.Failed)
                {
                    backoff = _options.InitialBackoff;
                    continue;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (KubeGoneException e)
            {
                _logger.Expired(Description, LastSyncResourceVersion, e.Message);
                needList = true;
                continue;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _logger.Failed(e, Description, backoff);
            }

            try
            {
                await Task.Delay(backoff, _time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxBackoff.Ticks));
        }
    }

    private async Task ListAndReplaceAsync(CancellationToken cancellationToken)
    {
        var list = await _client.ListAllAsync<T>(
            new ListOptions { Namespace = Scope.Namespace, LabelSelector = Scope.LabelSelector, FieldSelector = Scope.FieldSelector },
            _options.PageSize,
            cancellationToken);
        _logger.Listed(Description, list.Items.Count, list.ResourceVersion);

        var added = new List<T>();
        var updated = new List<(T Old, T New)>();
        var deleted = new List<T>();
        lock (_storeLock)
        {
            var seen = new HashSet<ObjectKey>();
            foreach (var obj in list.Items)
            {
                var key = ObjectKey.Of(obj);
                seen.Add(key);
                if (_store.TryGetValue(key, out var old))
                {
                    if (old.Metadata.ResourceVersion != obj.Metadata.ResourceVersion)
                    {
                        PutLocked(key, obj, old);
                        updated.Add((old, obj));
                    }
                }
                else
                {
                    PutLocked(key, obj, null);
                    added.Add(obj);
                }
            }

            foreach (var key in _store.Keys.Where(k => !seen.Contains(k)).ToArray())
            {
                deleted.Add(RemoveLocked(key)!);
            }

            Volatile.Write(ref _resourceVersion, list.ResourceVersion);
        }

        if (deleted.Count > 0)
        {
            _logger.SyntheticDeletes(Description, deleted.Count);
        }

        lock (_dispatchLock)
        {
            var handlers = _handlers;
            foreach (var h in handlers)
            {
                foreach (var d in deleted)
                {
                    Invoke(() => h.OnDelete(d));
                }

                foreach (var a in added)
                {
                    Invoke(() => h.OnAdd(a));
                }

                foreach (var (o, n) in updated)
                {
                    Invoke(() => h.OnUpdate(o, n));
                }
            }
        }

        if (_synced.TrySetResult())
        {
            _logger.Synced(Description, list.Items.Count);
        }
    }

    private async Task<WatchOutcome> WatchAsync(CancellationToken cancellationToken)
    {
        using var watchCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var watchdog = _time.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), watchCts, _options.WatchdogTimeout, Timeout.InfiniteTimeSpan);
        var timeout = _options.MinWatchTimeout * (1 + Random.Shared.NextDouble());
        var options = new WatchOptions
        {
            Namespace = Scope.Namespace,
            LabelSelector = Scope.LabelSelector,
            FieldSelector = Scope.FieldSelector,
            ResourceVersion = LastSyncResourceVersion,
            AllowBookmarks = true,
            Timeout = timeout,
        };

        try
        {
            await foreach (var e in _client.WatchAsync<T>(options, watchCts.Token))
            {
                watchdog.Change(_options.WatchdogTimeout, Timeout.InfiniteTimeSpan);
                if (e.Type == WatchEventType.Error)
                {
                    var status = e.Status;
                    if (status?.Code == 410 || status?.Reason is "Expired" or "Gone")
                    {
                        _logger.Expired(Description, LastSyncResourceVersion, status?.Message ?? "410");
                        return WatchOutcome.Expired;
                    }

                    _logger.WatchError(Description, status?.Code ?? 0, status?.Reason, status?.Message);
                    return WatchOutcome.Failed;
                }

                Apply(e);
            }

            return WatchOutcome.Ended;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && watchCts.IsCancellationRequested)
        {
            _logger.WatchdogFired(Description, _options.WatchdogTimeout);
            return WatchOutcome.Ended;
        }
    }

    private void Apply(WatchEvent<T> e)
    {
        var obj = e.Entity;
        if (obj?.Metadata is null)
        {
            return;
        }

        if (e.Type == WatchEventType.Bookmark)
        {
            Volatile.Write(ref _resourceVersion, obj.Metadata.ResourceVersion);
            return;
        }

        var key = ObjectKey.Of(obj);
        T? old;
        lock (_storeLock)
        {
            _store.TryGetValue(key, out old);
            if (e.Type == WatchEventType.Deleted)
            {
                RemoveLocked(key);
            }
            else
            {
                PutLocked(key, obj, old);
            }

            Volatile.Write(ref _resourceVersion, obj.Metadata.ResourceVersion);
        }

        lock (_dispatchLock)
        {
            foreach (var h in _handlers)
            {
                switch (e.Type)
                {
                    case WatchEventType.Deleted:
                        Invoke(() => h.OnDelete(obj));
                        break;
                    case WatchEventType.Added or WatchEventType.Modified when old is null:
                        Invoke(() => h.OnAdd(obj));
                        break;
                    default:
                        Invoke(() => h.OnUpdate(old!, obj));
                        break;
                }
            }
        }
    }

    private void PutLocked(ObjectKey key, T obj, T? old)
    {
        _store[key] = obj;
        foreach (var index in _indexes.Values)
        {
            if (old is not null)
            {
                index.Remove(key, old);
            }

            index.Add(key, obj);
        }
    }

    private T? RemoveLocked(ObjectKey key)
    {
        if (!_store.Remove(key, out var old))
        {
            return null;
        }

        foreach (var index in _indexes.Values)
        {
            index.Remove(key, old);
        }

        return old;
    }

    private void Invoke(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.HandlerFailed(e, Description);
        }
    }

    private enum WatchOutcome
    {
        Ended,
        Expired,
        Failed,
    }

    private sealed class Index(Func<T, IEnumerable<string>> keysOf)
    {
        private readonly Dictionary<string, HashSet<ObjectKey>> _byValue = new(StringComparer.Ordinal);

        public void Add(ObjectKey key, T obj)
        {
            foreach (var value in keysOf(obj))
            {
                if (!_byValue.TryGetValue(value, out var set))
                {
                    set = [];
                    _byValue[value] = set;
                }

                set.Add(key);
            }
        }

        public void Remove(ObjectKey key, T obj)
        {
            foreach (var value in keysOf(obj))
            {
                if (_byValue.TryGetValue(value, out var set) && set.Remove(key) && set.Count == 0)
                {
                    _byValue.Remove(value);
                }
            }
        }

        public HashSet<ObjectKey>? Lookup(string value) => _byValue.GetValueOrDefault(value);
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private Action? _dispose = dispose;

        public void Dispose() => Interlocked.Exchange(ref _dispose, null)?.Invoke();
    }
}
